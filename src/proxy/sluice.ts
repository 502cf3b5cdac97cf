// Starting and stopping a whole proxy from a validated configuration: filters (VMs and root
// contexts), clusters, listeners and the admin port.

import type { Server } from 'node:http';
import type { DestinationStream, Logger } from 'pino';
import { setDeferredErrorHandler } from '../abi/deferred.ts';
import { PluginStartError } from '../abi/errors.ts';
import { ForeignFunctionRegistry } from '../abi/foreign-functions.ts';
import { PluginSet, type FilterQuarantine, type PluginSpec } from '../abi/plugin-set.ts';
import { ThrottledWarnings } from '../abi/throttled-warning.ts';
import { LOG_LEVEL_BY_NAME } from '../abi/types.ts';
import { createAdminServer } from '../admin/server.ts';
import { ProxyMetrics } from '../admin/metrics.ts';
import { filterIssue } from '../config/errors.ts';
import type { FilterConfig, HostPort, SluiceConfig } from '../config/types.ts';
import { createLogger } from '../log.ts';
import { Clusters, type Cluster } from './cluster.ts';
import { ConnectionLimit, resolveMaxConnections } from './connection-limit.ts';
import { GrpcClient } from './grpc-client.ts';
import { HttpCallService } from './http-call.ts';
import { drainListener, listenerServer } from './listener-server.ts';
import { nodeProperty } from './metadata-value.ts';
import { Router } from './router.ts';
import { exposeSharedState, ownedSharedState, type SharedState } from './shared-state.ts';
import type { ListenerRuntime } from './stream.ts';

export interface StartOptions {
  /** Where logs go (tests capture them); default stdout. */
  logDestination?: DestinationStream;
  logger?: Logger;
  /**
   * Host functions filters reach with proxy_call_foreign_function. Default: a registry with the
   * built-in `compress` / `uncompress`; pass `new ForeignFunctionRegistry().register(...)` to add
   * your own (see docs/architecture.md, "Foreign functions").
   */
  foreignFunctions?: ForeignFunctionRegistry;
  /** Serve the admin port from this proxy (false in workers: the supervisor serves it). */
  admin?: boolean;
  /** Listen with SO_REUSEPORT so several workers share each listener's port. */
  reusePort?: boolean;
  /** State shared with other proxies (a worker's view of its supervisor's); default: this proxy's own. */
  sharedState?: SharedState;
  /** Filters not to start, for a while (a worker replacing one a filter got stuck). */
  outOfService?: readonly FilterQuarantine[];
  /** The process-wide count of client connections (a worker's view of its supervisor's); default: this proxy's own. */
  connectionLimit?: ConnectionLimit;
}

export interface RunningSluice {
  readonly logger: Logger;
  /** Bound addresses by listener name (port 0 in the config resolves here). */
  readonly listeners: ReadonlyMap<string, HostPort>;
  readonly admin: HostPort | null;
  readonly plugins: PluginSet;
  readonly metrics: ProxyMetrics;
  /**
   * Stops taking connections and waits for the open ones to finish their requests (each answer
   * closes its connection), at most `timeoutMs`; then close() ends the rest.
   */
  drain(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

export function pluginSpec(filter: FilterConfig): PluginSpec {
  return {
    name: filter.name,
    rootId: filter.rootId,
    vmId: filter.vmId,
    configuration: Buffer.from(filter.configuration, 'utf8'),
    vmConfiguration: Buffer.from(filter.vmConfiguration, 'utf8'),
    logLevel: LOG_LEVEL_BY_NAME[filter.logLevel],
    failOpen: filter.failurePolicy === 'fail_open',
    modulePath: filter.module,
    environ: filter.env.map(([key, value]) => `${key}=${value}`),
  };
}

function listen(server: Server, address: HostPort, reusePort = false): Promise<HostPort> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: address.port, host: address.host, reusePort }, () => {
      server.off('error', reject);
      const bound = server.address();
      resolve(typeof bound === 'object' && bound !== null ? { host: bound.address, port: bound.port } : address);
    });
  });
}

/** Properties of the proxy itself: the node identity, as `xds.node` or the legacy `node`. */
function hostProperty(config: SluiceConfig, path: readonly string[]): Buffer | undefined {
  if (path[0] === 'node') return nodeProperty(config.node, path.slice(1));
  if (path[0] === 'xds' && path[1] === 'node') return nodeProperty(config.node, path.slice(2));
  return undefined;
}

/** Loads and starts every filter; a failure names the filter's place in the config file. */
function startPlugins(
  config: SluiceConfig,
  httpCalls: HttpCallService,
  foreignFunctions: ForeignFunctionRegistry,
  shared: SharedState,
  logger: Logger,
  grpc: GrpcClient,
  outOfService: readonly FilterQuarantine[],
): PluginSet {
  try {
    const services = {
      sharedData: shared.sharedData,
      queues: shared.queues,
      metrics: shared.filterMetrics,
      httpCall: httpCalls.httpCall.bind(httpCalls),
      hostProperty: (path: readonly string[]) => hostProperty(config, path),
      foreignFunctions,
      grpc,
    };
    const plugins = new PluginSet(config.filters.map(pluginSpec), services, logger);
    plugins.start(outOfService);
    return plugins;
  } catch (err) {
    if (!(err instanceof PluginStartError)) throw err;
    throw Object.assign(new Error(filterIssue(config.filters, err.plugin, err.message)), { code: err.code });
  }
}

/**
 * Starts every filter of `config` as `startSluice` would (modules compiled, VMs started, each
 * filter's on_vm_start and on_configure run) and stops them again, without listening or
 * sharing state with anyone: what `sluice validate` checks beyond the file. Throws what
 * startSluice would, naming the filter's place in the config file.
 */
export async function checkFilters(config: SluiceConfig, logger: Logger): Promise<void> {
  const { httpCalls, grpc, close } = upstreams(config, logger);
  try {
    startPlugins(config, httpCalls, new ForeignFunctionRegistry(), ownedSharedState(logger), logger, grpc, []).stop();
  } finally {
    await close();
  }
}

/**
 * The clusters, and the filters' ways to them: http_call and gRPC callouts (one HTTP/2 session
 * per endpoint). `close` ends all three.
 */
function upstreams(config: SluiceConfig, logger: Logger) {
  const clusters = new Clusters(config.clusters);
  const httpCalls = new HttpCallService(clusters, new Map(config.filters.map((f) => [f.name, new Set(f.httpCallHosts)])), logger.child({ component: 'http-call' }));
  const grpc = new GrpcClient(clusters, logger.child({ component: 'grpc' }));
  const close = async (): Promise<void> => {
    await Promise.all([clusters.close(), httpCalls.close(), grpc.close()]);
  };
  return { clusters, httpCalls, grpc, close };
}

export async function startSluice(config: SluiceConfig, options: StartOptions = {}): Promise<RunningSluice> {
  const logger = options.logger ?? createLogger(config.logLevel, options.logDestination);
  setDeferredErrorHandler((err) => logger.error({ err }, 'deferred filter action failed'));
  const metrics = new ProxyMetrics();
  const { clusters, httpCalls, grpc, close: closeUpstreams } = upstreams(config, logger);
  // Shared data, queues and filter metrics: this proxy's own, or (in a worker) the supervisor's,
  // which then also shows them on /metrics.
  let shared: SharedState;
  if (options.sharedState !== undefined) {
    shared = options.sharedState;
  } else {
    const owned = ownedSharedState(logger);
    exposeSharedState(metrics, owned, config.stats.tags);
    shared = owned;
  }
  const plugins = startPlugins(config, httpCalls, options.foreignFunctions ?? new ForeignFunctionRegistry(), shared, logger, grpc, options.outOfService ?? []);
  metrics.gauge('sluice_vm_memory_bytes', 'Linear memory of each filter VM.', () => {
    const seen = new Set<unknown>();
    const out: Array<[Record<string, string>, number]> = [];
    for (const p of plugins.plugins()) {
      if (seen.has(p.vm)) continue;
      seen.add(p.vm);
      out.push([{ vm_id: p.config.vmId, module: p.vm.module.file }, p.vm.exports.memory.buffer.byteLength]);
    }
    return out;
  });
  // Literal http_call targets are clusters of their own, named by origin (http-call.ts).
  const byCluster = (value: (c: Cluster) => number) => () =>
    [...clusters.all(), ...httpCalls.literalClusters()].map((c): [Record<string, string>, number] => [{ cluster: c.name }, value(c)]);
  metrics.gauge('sluice_upstream_requests_active', 'Requests and http_calls sent to each cluster or waiting for one of its connections.', byCluster((c) => c.active));
  metrics.gauge('sluice_upstream_requests_pending', "Requests and http_calls waiting in each cluster's queue for one of its connections.", byCluster((c) => c.pending));
  metrics.counter('sluice_upstream_overflow_total', 'Requests and http_calls refused at once because their cluster had max_connections busy and max_pending_requests waiting, by cluster.', byCluster((c) => c.overflowed));

  const connections = options.connectionLimit ?? new ConnectionLimit(resolveMaxConnections(config.maxConnections));
  const servers: Server[] = [];
  const listenerServers: Server[] = [];
  const bound = new Map<string, HostPort>();
  let admin: HostPort | null = null;
  const adminState = { ready: false };
  try {
    for (const listener of config.listeners) {
      const runtime: ListenerRuntime = {
        config: listener,
        router: new Router(listener.routes, (name) => plugins.handle(name)),
        plugins,
        clusters,
        logger: logger.child({ listener: listener.name }),
        metrics,
        warnings: new ThrottledWarnings(),
      };
      const server = listenerServer(runtime, connections);
      servers.push(server);
      listenerServers.push(server);
      bound.set(listener.name, await listen(server, listener.address, options.reusePort === true));
    }
    if (config.admin !== undefined && options.admin !== false) {
      const server = createAdminServer(() => config, metrics, adminState);
      servers.push(server);
      admin = await listen(server, config.admin.address);
    }
  } catch (err) {
    for (const s of servers) s.close();
    plugins.stop();
    await closeUpstreams();
    const e = err as NodeJS.ErrnoException;
    throw Object.assign(new Error(`cannot listen: ${e.message}`), { code: 'SLUICE_LISTEN' });
  }
  adminState.ready = true;
  for (const [name, addr] of bound) logger.info({ listener: name, address: `${addr.host}:${addr.port}` }, 'listening');
  if (admin !== null) logger.info({ address: `${admin.host}:${admin.port}` }, 'admin listening');

  return {
    logger,
    listeners: bound,
    admin,
    plugins,
    metrics,
    async drain(timeoutMs: number) {
      adminState.ready = false;
      await Promise.all(listenerServers.map((s) => drainListener(s, timeoutMs)));
    },
    async close() {
      adminState.ready = false;
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
      plugins.stop();
      await closeUpstreams();
    },
  };
}
