// The embedding side of proxy_http_call: a call to a named cluster or to an allow-listed literal
// target, with the guest's headers, body and timeout, collected in full and handed back as pairs.

import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_PENDING_REQUESTS } from '../config/sections/clusters.ts';
import type { HttpCallRequest, HttpCallResponse } from '../abi/plugin.ts';
import { MAX_HTTP_CALL_BODY_BYTES } from '../abi/limits.ts';
import { quoted } from '../abi/quoted.ts';
import type { Pair } from '../abi/pairs.ts';
import { Cluster, overflowError, QUEUED, type ClusterWaiter, type Clusters, type Endpoint } from './cluster.ts';
import { formatHostPort } from '../config/address.ts';
import type { ClusterConfig, HostPort } from '../config/types.ts';
import { isHopByHop } from './headers.ts';
import { lowerNameFromBytes } from '../abi/header-names.ts';
import { latin1Of } from '../abi/latin1.ts';

function rawToPairs(raw: Buffer[] | null): Pair[] {
  const pairs: Pair[] = [];
  if (raw === null) return pairs;
  for (let i = 0; i < raw.length; i += 2) {
    const name = lowerNameFromBytes(raw[i]!, 0, raw[i]!.length);
    const value = raw[i + 1]!;
    if (!isHopByHop(name)) pairs.push([name, latin1Of(value, 0, value.length)]);
  }
  return pairs;
}

class TimeoutError extends Error {
  readonly code = 'SLUICE_UPSTREAM_TIMEOUT';
}

/**
 * Where an http_call goes. Envoy takes cluster names; MOSN filters pass a URL
 * (`http://127.0.0.1:2046/`) and Kong filters `host:port`. Literal targets are allowed only
 * when listed in the filter's `http_call_hosts`, so a filter cannot reach arbitrary hosts.
 */
export class HttpCallService {
  readonly #clusters: Clusters;
  readonly #allowed: ReadonlyMap<string, ReadonlySet<string>>;
  /** A cluster of its own for each literal target called, by origin, made on its first call. */
  readonly #literalClusters = new Map<string, Cluster>();
  readonly #logger: Logger | undefined;

  /** `allowed`: filter name → its `http_call_hosts` (lower-case `host:port`). */
  constructor(clusters: Clusters, allowed: ReadonlyMap<string, ReadonlySet<string>>, logger?: Logger) {
    this.#clusters = clusters;
    this.#allowed = allowed;
    this.#logger = logger;
  }

  /**
   * The cluster for a literal target, or the reason it is refused. It has a cluster's default
   * limits and queue, so calls past its connections wait in a bounded queue they leave when
   * cancelled, as calls to a named cluster do.
   */
  #literal(plugin: string, upstream: string): Cluster | string {
    const target = literalTarget(upstream);
    if (target === undefined) return `unknown cluster '${quoted(upstream)}'`;
    if (!this.#allowed.get(plugin)?.has(target.hostPort)) {
      return `'${quoted(upstream)}' is not a cluster and ${target.hostPort} is not in this filter's http_call_hosts`;
    }
    let cluster = this.#literalClusters.get(target.origin);
    if (cluster === undefined) this.#literalClusters.set(target.origin, (cluster = literalCluster(target)));
    return cluster;
  }

  /** The clusters made for literal targets so far, for /metrics. */
  literalClusters(): IterableIterator<Cluster> {
    return this.#literalClusters.values();
  }

  httpCall(request: HttpCallRequest, done: (result: HttpCallResponse | Error) => void): string | (() => void) {
    const cluster = this.#clusters.get(request.upstream) ?? this.#literal(request.plugin, request.upstream);
    if (typeof cluster === 'string') return cluster;
    // A call counts against its cluster's queue like a request the proxy forwards.
    const cancel = dispatchCall(request, done, cluster);
    if (cancel !== null) return cancel;
    cluster.overflowWarning.warn(this.#logger, { cluster: cluster.name, filter: request.plugin });
    // Answered like a call the upstream failed (no response), on a turn of its own as every
    // answer is; cancelling it changes nothing, as for a call already answered.
    setImmediate(() => done(overflowError(cluster)));
    return () => {};
  }

  async close(): Promise<void> {
    await Promise.all([...this.#literalClusters.values()].map((c) => c.close()));
    this.#literalClusters.clear();
  }
}

/** A literal target: its scheme and endpoint, `scheme://host:port` and `host:port` (the allow-list's form). */
export interface LiteralTarget {
  scheme: 'http' | 'https';
  endpoint: HostPort;
  origin: string;
  hostPort: string;
}

/** `http(s)://host[:port][/...]` or `host:port`, normalised like config addresses; undefined when neither. */
export function literalTarget(upstream: string): LiteralTarget | undefined {
  let scheme: 'http' | 'https' = 'http';
  let host: string;
  let port: number;
  if (/^https?:\/\//i.test(upstream)) {
    let url: URL;
    try {
      url = new URL(upstream);
    } catch {
      return undefined;
    }
    if (url.protocol === 'https:') scheme = 'https';
    host = url.hostname.toLowerCase();
    port = url.port !== '' ? Number(url.port) : scheme === 'https' ? 443 : 80;
  } else {
    const m = /^(\[[0-9a-fA-F:.]+\]|[^:/\s]+):(\d{1,5})$/.exec(upstream);
    if (m === null || Number(m[2]) > 65535) return undefined;
    host = m[1]!.toLowerCase();
    port = Number(m[2]);
  }
  const endpoint = { host: host.replace(/^\[|\]$/g, ''), port };
  const hostPort = formatHostPort(endpoint);
  return { scheme, endpoint, origin: `${scheme}://${hostPort}`, hostPort };
}

/**
 * A literal target's cluster, named by its origin on /metrics. Its calls carry their own
 * timeouts, so it has none of its own.
 */
function literalCluster(target: LiteralTarget): Cluster {
  const config: ClusterConfig = {
    name: target.origin,
    endpoints: [target.endpoint],
    connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
    timeoutMs: 0,
    protocol: 'http1',
    maxConnections: DEFAULT_MAX_CONNECTIONS,
    maxPendingRequests: DEFAULT_MAX_PENDING_REQUESTS,
    metadata: {},
  };
  return new Cluster(config, target.scheme);
}

/**
 * Sends the call to a cluster, which may queue it. Returns the call's cancel, or null when the
 * cluster refused it (nothing was started, `done` is not called).
 */
function dispatchCall(request: HttpCallRequest, done: (result: HttpCallResponse | Error) => void, cluster: Cluster): (() => void) | null {
  const headers: string[] = [];
  let method = 'GET';
  let path = '/';
  for (const [name, value] of request.headers) {
    if (name === ':method') method = value;
    else if (name === ':path') path = value;
    else if (name === ':authority') headers.push('host', value);
    // `:authority` (required) is the Host; a guest's own `host` pair would make a second one,
    // which undici refuses, failing the whole call (Kong's hostcalls filter sends `Host: ignoreme`).
    else if (!name.startsWith(':') && !isHopByHop(name) && name !== 'content-length' && name !== 'host') headers.push(name, value);
  }
  if (request.body.length > 0) headers.push('content-length', String(request.body.length));
  const opts: Dispatcher.DispatchOptions = { method: method as Dispatcher.HttpMethod, path, headers, body: request.body.length > 0 ? request.body : null };
  /** The cluster's endpoint the call was sent to; null while it waits in the cluster's queue. */
  let endpoint: Endpoint | null = null;
  let abort: ((err?: Error) => void) | null = null;
  let timer: NodeJS.Timeout | null = null;
  let finished = false;
  let status = 0;
  let responseHeaders: Pair[] = [];
  const chunks: Buffer[] = [];
  let size = 0;
  const finish = (result: HttpCallResponse | Error) => {
    if (finished) return;
    finished = true;
    if (timer !== null) clearTimeout(timer);
    if (endpoint === null) cluster.withdraw(waiter);
    // On a turn of its own: undici calls onComplete from inside its HTTP/1 parser, and a guest
    // that resumes a stream from the callback would resume another connection's parser there
    // (undici asserts that no parser is running).
    setImmediate(() => done(result));
  };
  const handler: Dispatcher.DispatchHandler = {
    onConnect: (a) => {
      abort = a;
      if (finished) a();
    },
    onHeaders: (statusCode, raw) => {
      status = statusCode;
      responseHeaders = [[':status', String(statusCode)], ...rawToPairs(raw as unknown as Buffer[])];
      return true;
    },
    onData: (chunk) => {
      size += chunk.length;
      if (size > MAX_HTTP_CALL_BODY_BYTES) {
        finish(new Error(`http_call response body over ${MAX_HTTP_CALL_BODY_BYTES} bytes`));
        abort?.();
        return false;
      }
      chunks.push(chunk);
      return true;
    },
    onComplete: (trailers) => {
      if (endpoint !== null) cluster.release(endpoint);
      if (status === 0) return finish(new Error('no response'));
      finish({ headers: responseHeaders, body: Buffer.concat(chunks), trailers: rawToPairs(trailers as unknown as Buffer[] | null) });
    },
    onError: (err) => {
      if (endpoint !== null) cluster.release(endpoint);
      // A 204 or 304 is whole once its headers are in: an error after them is the connection's.
      // (undici fails a 304 that states its representation's length, RFC 9110 §8.6, comparing
      // that length with the body a 304 never has.)
      if (status === 204 || status === 304) finish({ headers: responseHeaders, body: Buffer.alloc(0), trailers: [] });
      else finish(err);
    },
  };
  const waiter: ClusterWaiter = {
    startOn(admitted: Endpoint) {
      endpoint = admitted;
      admitted.pool.dispatch(opts, handler);
    },
  };
  const admitted = cluster.admit(waiter);
  if (admitted === null) return null;
  if (request.timeoutMs > 0) {
    timer = setTimeout(() => {
      finish(new TimeoutError(`http_call to '${request.upstream}' timed out after ${request.timeoutMs} ms`));
      abort?.();
    }, request.timeoutMs);
  }
  if (admitted !== QUEUED) waiter.startOn(admitted);
  return () => {
    finish(new Error('cancelled'));
    abort?.();
  };
}
