// Upstream clusters: one undici Pool per endpoint (keep-alive, connect timeout, a share of the
// cluster's max_connections), picked round robin, and a bound on the requests waiting for a
// connection (Envoy's max_pending_requests circuit breaker). Errors are classified into the
// status a client should see: refused or unreachable upstreams answer 503, timeouts 504
// (Envoy's UF / UT), a full queue 503 (UO).

import { ThrottledWarning, ThrottledWarnings } from '../abi/throttled-warning.ts';
import type { ClusterConfig } from '../config/types.ts';
import { Pool } from './undici-pool.ts';

export class Cluster {
  readonly config: ClusterConfig;
  readonly #pools: Pool[];
  #next = 0;
  /** Requests (the proxy's and its filters' http_calls) dispatched and not yet finished. */
  active = 0;
  /** Requests refused because the cluster held as many as it admits. */
  overflowed = 0;
  /** A flood of refusals is one line per interval. */
  readonly overflowWarning = new ThrottledWarning('cluster overflow: max_connections busy and max_pending_requests waiting; request refused');
  /**
   * Failed requests, one line per kind per interval: an upstream that is down fails every
   * request sent to it, and each has its access log line with its details already.
   */
  readonly failureWarnings = new ThrottledWarnings();
  /**
   * The most requests in flight at once: one per connection, plus max_pending_requests waiting
   * for one. Counting in-flight requests rather than reading the pools' queues keeps admission
   * to a compare and an increment (undici's pending count walks its clients).
   */
  readonly #admits: number;

  constructor(config: ClusterConfig) {
    this.config = config;
    // max_connections shared evenly: round robin gives each endpoint an equal share of requests.
    const perEndpoint = Math.max(1, Math.floor(config.maxConnections / config.endpoints.length));
    this.#admits = perEndpoint * config.endpoints.length + config.maxPendingRequests;
    this.#pools = config.endpoints.map(
      (ep) =>
        new Pool(`http://${ep.host.includes(':') ? `[${ep.host}]` : ep.host}:${ep.port}`, {
          connect: { timeout: config.connectTimeoutMs },
          // Past this, requests wait in the pool's queue (the cluster's timeout runs meanwhile).
          connections: perEndpoint,
          // Timeouts are set per request (the cluster's `timeout`), not per pool.
          headersTimeout: 0,
          bodyTimeout: 0,
        }),
    );
  }

  get name(): string {
    return this.config.name;
  }

  /**
   * The endpoint for one more request, or null when the cluster's connections are all busy and
   * max_pending_requests wait already: the request is refused at once rather than queued. Each
   * admitted request must be given back with release() when it finishes, however it does.
   */
  admit(): Pool | null {
    if (this.active >= this.#admits) {
      this.overflowed++;
      return null;
    }
    this.active++;
    return this.#pick();
  }

  release(): void {
    this.active--;
  }

  /** The endpoint for the next request (round robin). */
  #pick(): Pool {
    const pool = this.#pools[this.#next]!;
    this.#next = (this.#next + 1) % this.#pools.length;
    return pool;
  }

  /** "host:port" of an endpoint, for `upstream.address` style reporting. */
  endpointOf(pool: Pool): string {
    const i = this.#pools.indexOf(pool);
    const ep = this.config.endpoints[i]!;
    return `${ep.host}:${ep.port}`;
  }

  async close(): Promise<void> {
    await Promise.all(this.#pools.map((p) => p.close().catch(() => {})));
  }
}

export class Clusters {
  readonly #byName = new Map<string, Cluster>();

  constructor(configs: readonly ClusterConfig[]) {
    for (const config of configs) this.#byName.set(config.name, new Cluster(config));
  }

  get(name: string): Cluster | undefined {
    return this.#byName.get(name);
  }

  all(): Cluster[] {
    return [...this.#byName.values()];
  }

  async close(): Promise<void> {
    await Promise.all([...this.#byName.values()].map((c) => c.close()));
  }
}

export interface UpstreamFailure {
  status: 500 | 503 | 504;
  /** Envoy-style response code details, also logged. */
  details: string;
  /** The local reply's body. */
  body: string;
}

const OVERFLOW = 'SLUICE_UPSTREAM_OVERFLOW';

/** A request the cluster did not admit (Cluster.admit): Envoy's details for it (response flag UO). */
export const OVERFLOW_FAILURE: UpstreamFailure = { status: 503, details: 'upstream_reset_before_response_started{overflow}', body: 'upstream overflow\n' };

/** The error an http_call the cluster did not admit fails with. */
export function overflowError(cluster: Cluster): Error {
  return Object.assign(new Error(`cluster '${cluster.name}' has max_connections busy and max_pending_requests waiting`), { code: OVERFLOW });
}

const CONNECT_ERROR = 'upstream connect error\n';

export function classifyUpstreamError(err: unknown): UpstreamFailure {
  const code = (err as { code?: string }).code ?? '';
  switch (code) {
    case OVERFLOW:
      return OVERFLOW_FAILURE;
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'SLUICE_UPSTREAM_TIMEOUT':
      return { status: 504, details: 'upstream_response_timeout', body: 'upstream request timeout\n' };
    case 'UND_ERR_CONNECT_TIMEOUT':
      return { status: 503, details: 'upstream_connect_timeout', body: CONNECT_ERROR };
    case 'ECONNREFUSED':
      return { status: 503, details: 'upstream_connection_refused', body: CONNECT_ERROR };
    case 'UND_ERR_INVALID_ARG':
    case 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH':
      // undici refused the request before sending it: as the filters left it, it is not valid
      // HTTP (a :method, :path or :authority undici cannot send; a content-length that does not
      // match the body, which the forwarder corrects, would be one too). Not the upstream's failure.
      return { status: 500, details: 'invalid_upstream_request', body: 'invalid upstream request\n' };
    default:
      return { status: 503, details: `upstream_reset_before_response_started${code === '' ? '' : `{${code}}`}`, body: CONNECT_ERROR };
  }
}
