// The validated, fully resolved configuration handed to the proxy. Everything
// here is already checked: defaults are filled in, references resolve, module
// paths are absolute. YAML keys are snake_case; these fields are camelCase.

export type LogLevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'critical';

export const LOG_LEVELS: readonly LogLevelName[] = ['trace', 'debug', 'info', 'warn', 'error', 'critical'];

export type FailurePolicy = 'fail_closed' | 'fail_open';

export const FAILURE_POLICIES: readonly FailurePolicy[] = ['fail_closed', 'fail_open'];

/** Free-form data from the config (maps, lists, strings, numbers, booleans). */
export type Metadata = Record<string, unknown>;

/** The proxy's identity, as Envoy's bootstrap `node` (read by filters as `xds.node`). */
export interface NodeConfig { id: string; cluster: string; metadata: Metadata }

/** Envoy `stats_tags`: group 1 is cut out of the metric name, group 2 (else 1) is the label value. */
export interface StatsTagRule { tagName: string; regex: RegExp }

export interface StatsConfig { tags: StatsTagRule[] }

/** A listen or connect address. `host` is bare: IPv6 literals carry no brackets. */
export interface HostPort { host: string; port: number }

/** Exactly one of `exact`, `prefix`, `present` is set. `name` is lower-case. */
export interface HeaderMatch { name: string; exact?: string; prefix?: string; present?: boolean }

/** All given conditions must hold; an empty match matches every request. */
export interface RouteMatch { prefix?: string; path?: string; headers?: HeaderMatch[]; methods?: string[]; host?: string }

/** `headers` names are lower-case, in file order. */
export interface DirectResponse { status: number; body: string; headers: [string, string][] }

/** Exactly one of `cluster`, `directResponse`, `echo` is set. */
export interface RouteConfig {
  name: string;
  match: RouteMatch;
  cluster?: string;
  directResponse?: DirectResponse;
  echo?: boolean;
  /** Resolved: the route's own list, else the listener's. */
  filters: string[];
  /** Resolved with the listener's values as defaults. */
  maxRequestBodyBytes: number;
  maxResponseBodyBytes: number;
  metadata: Metadata;
}

export interface ListenerConfig {
  name: string;
  address: HostPort;
  filters: string[];
  /** A stream with no progress for this long is ended (408, or a reset); 0 means never. */
  streamIdleTimeoutMs: number;
  /** A client connection with no request in progress for this long is closed; 0 means never. */
  idleTimeoutMs: number;
  /** From a request's first byte to the end of its headers; 0 means no limit. */
  requestHeadersTimeoutMs: number;
  /** From a request's first byte to the end of its body; 0 means no limit. */
  requestTimeoutMs: number;
  /** In file order: the first route that matches wins. */
  routes: RouteConfig[];
  metadata: Metadata;
}

export interface ClusterConfig {
  name: string;
  endpoints: HostPort[];
  connectTimeoutMs: number;
  /** 0 means no request timeout. */
  timeoutMs: number;
  /** http2 is cleartext HTTP/2 (h2c), needed by gRPC callouts. */
  protocol: 'http1' | 'http2';
  /** Upstream connections the cluster opens at most, over its endpoints; requests past them wait. */
  maxConnections: number;
  /** Requests that may wait for a connection; one more is answered 503 at once. */
  maxPendingRequests: number;
  metadata: Metadata;
}

/** Where a config entry starts; `file` is the path as shown in config issues. */
export interface SourceLocation { file: string; line: number; col: number }

export interface FilterConfig {
  name: string;
  /** Absolute path of the .wasm file. */
  module: string;
  rootId: string;
  vmId: string;
  configuration: string;
  vmConfiguration: string;
  failurePolicy: FailurePolicy;
  logLevel: LogLevelName;
  /** WASI environment of the filter, in file order (never the proxy's own environment). */
  env: [string, string][];
  /** `host:port` targets proxy_http_call may use besides cluster names (none by default). */
  httpCallHosts: string[];
  /** Where the filter entry starts, for runtime error messages. */
  source: SourceLocation;
}

export interface SluiceConfig {
  /** Absolute path of the config file. */
  file: string;
  logLevel: LogLevelName;
  /** Worker threads, each a whole proxy; `auto` = one per available CPU. */
  workers: number | 'auto';
  /** A worker silent for this long is replaced; 0 disables the watchdog. */
  watchdogTimeoutMs: number;
  /** A worker silent this long inside a filter callback is replaced and the filter quarantined; 0 leaves it to the watchdog. */
  filterCallbackTimeoutMs: number;
  /** How long workers replaced by a reload (SIGHUP) may finish their requests in flight. */
  drainTimeoutMs: number;
  /** Client connections the process keeps open at once, over every listener and worker; `auto` = from the open-file limit. */
  maxConnections: number | 'auto';
  admin?: { address: HostPort };
  node: NodeConfig;
  stats: StatsConfig;
  listeners: ListenerConfig[];
  clusters: ClusterConfig[];
  filters: FilterConfig[];
}
