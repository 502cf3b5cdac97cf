// Upstream clusters: one undici Pool per endpoint (keep-alive, connect timeout, a share of the
// cluster's max_connections), and the cluster's own queue of requests waiting for one of those
// connections (Envoy's max_pending_requests circuit breaker). Errors are classified into the
// status a client should see: refused or unreachable upstreams answer 503, timeouts 504
// (Envoy's UF / UT), a full queue 503 (UO).

import { ThrottledWarning, ThrottledWarnings } from '../abi/throttled-warning.ts';
import type { ClusterConfig } from '../config/types.ts';
import { Pool } from './undici-pool.ts';

/** One endpoint of a cluster: its connections, and how many of them carry a request now. */
export class Endpoint {
  readonly pool: Pool;
  /** "host:port", for `upstream.address` style reporting. */
  readonly address: string;
  busy = 0;

  constructor(pool: Pool, address: string) {
    this.pool = pool;
    this.address = address;
  }
}

/** A request waiting in a cluster's queue: started on an endpoint when one has a connection free. */
export interface ClusterWaiter {
  startOn(endpoint: Endpoint): void;
}

/** admit()'s answer for a request that waits in the cluster's queue. */
export const QUEUED = 'queued';

export class Cluster {
  readonly config: ClusterConfig;
  readonly #endpoints: Endpoint[];
  /** Requests one endpoint carries at once: its share of max_connections, one per connection. */
  readonly #perEndpoint: number;
  #next = 0;
  /**
   * Requests waiting for a connection, oldest first. A Set, so that a request whose client left
   * or whose timeout ran out leaves the queue at once (Envoy's pending requests do too): in
   * undici's own queue it would hold its place until its turn came.
   */
  readonly #waiting = new Set<ClusterWaiter>();
  /** Requests refused because the cluster held as many as it admits. */
  overflowed = 0;
  /** A flood of refusals is one line per interval. */
  readonly overflowWarning = new ThrottledWarning('cluster overflow: max_connections busy and max_pending_requests waiting; request refused');
  /**
   * Failed requests, one line per kind per interval: an upstream that is down fails every
   * request sent to it, and each has its access log line with its details already.
   */
  readonly failureWarnings = new ThrottledWarnings();

  /** `scheme` https is for a filter's literal http_call target (http-call.ts); clusters are http. */
  constructor(config: ClusterConfig, scheme: 'http' | 'https' = 'http') {
    this.config = config;
    // max_connections shared evenly between the endpoints.
    this.#perEndpoint = Math.max(1, Math.floor(config.maxConnections / config.endpoints.length));
    this.#endpoints = config.endpoints.map((ep) => {
      const host = ep.host.includes(':') ? `[${ep.host}]` : ep.host;
      const pool = new Pool(`${scheme}://${host}:${ep.port}`, {
        connect: { timeout: config.connectTimeoutMs },
        // The cluster never gives an endpoint more requests than this (see admit).
        connections: this.#perEndpoint,
        // Timeouts are set per request (the cluster's `timeout`), not per pool.
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      return new Endpoint(pool, `${ep.host}:${ep.port}`);
    });
  }

  get name(): string {
    return this.config.name;
  }

  /** Requests waiting in the cluster's queue for a connection. */
  get pending(): number {
    return this.#waiting.size;
  }

  /** Requests (the proxy's and its filters' http_calls) sent or waiting, and not yet finished. */
  get active(): number {
    let sent = 0;
    for (const endpoint of this.#endpoints) sent += endpoint.busy;
    return sent + this.#waiting.size;
  }

  /**
   * Where one more request goes: an endpoint with a connection free (the next in round robin
   * that has one), QUEUED when all are busy and fewer than max_pending_requests wait (the
   * waiter's startOn runs when a connection frees), or null when that many wait already: the
   * request is refused at once. A request given an endpoint gives it back with release() when
   * it finishes, however it does; one still waiting leaves with withdraw().
   */
  admit(waiter: ClusterWaiter): Endpoint | typeof QUEUED | null {
    const free = this.#waiting.size === 0 ? this.#freeEndpoint() : null;
    if (free !== null) {
      free.busy++;
      return free;
    }
    if (this.#waiting.size >= this.config.maxPendingRequests) {
      this.overflowed++;
      return null;
    }
    this.#waiting.add(waiter);
    return QUEUED;
  }

  /** A request sent to `endpoint` finished: its connection goes to the oldest waiting request. */
  release(endpoint: Endpoint): void {
    if (this.#waiting.size === 0) {
      endpoint.busy--;
      return;
    }
    // The connection passes straight to the oldest waiting request: the endpoint stays as busy.
    const next: ClusterWaiter = this.#waiting.values().next().value!;
    this.#waiting.delete(next);
    next.startOn(endpoint);
  }

  /** A waiting request leaves the queue (its client left, its timeout ran out). */
  withdraw(waiter: ClusterWaiter): void {
    this.#waiting.delete(waiter);
  }

  /** The next endpoint in round robin with a connection free, or null when all are busy. */
  #freeEndpoint(): Endpoint | null {
    const endpoints = this.#endpoints;
    for (let tried = 0; tried < endpoints.length; tried++) {
      const endpoint = endpoints[this.#next]!;
      this.#next = this.#next + 1 === endpoints.length ? 0 : this.#next + 1;
      if (endpoint.busy < this.#perEndpoint) return endpoint;
    }
    return null;
  }

  async close(): Promise<void> {
    await Promise.all(this.#endpoints.map((e) => e.pool.close().catch(() => {})));
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
