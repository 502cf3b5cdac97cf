// Upstream clusters: one undici Pool per endpoint (keep-alive, connect timeout, a share of the
// cluster's max_connections), picked round robin. Errors are classified into the status a
// client should see: refused or unreachable upstreams answer 503, timeouts 504 (Envoy's UF / UT).

import { Pool } from './undici-pool.ts';
import type { ClusterConfig } from '../config/types.ts';

export class Cluster {
  readonly config: ClusterConfig;
  readonly #pools: Pool[];
  #next = 0;

  constructor(config: ClusterConfig) {
    this.config = config;
    // max_connections shared evenly: round robin gives each endpoint an equal share of requests.
    const perEndpoint = Math.max(1, Math.floor(config.maxConnections / config.endpoints.length));
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

  /** The endpoint for the next request (round robin). */
  pick(): Pool {
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

  async close(): Promise<void> {
    await Promise.all([...this.#byName.values()].map((c) => c.close()));
  }
}

export interface UpstreamFailure {
  status: 500 | 503 | 504;
  /** Envoy-style response code details, also logged. */
  details: string;
}

export function classifyUpstreamError(err: unknown): UpstreamFailure {
  const code = (err as { code?: string }).code ?? '';
  switch (code) {
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'SLUICE_UPSTREAM_TIMEOUT':
      return { status: 504, details: 'upstream_response_timeout' };
    case 'UND_ERR_CONNECT_TIMEOUT':
      return { status: 503, details: 'upstream_connect_timeout' };
    case 'ECONNREFUSED':
      return { status: 503, details: 'upstream_connection_refused' };
    case 'UND_ERR_INVALID_ARG':
    case 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH':
      // undici refused the request before sending it: as the filters left it, it is not valid
      // HTTP (a :method, :path or :authority undici cannot send; a content-length that does not
      // match the body, which the forwarder corrects, would be one too). Not the upstream's failure.
      return { status: 500, details: 'invalid_upstream_request' };
    default:
      return { status: 503, details: `upstream_reset_before_response_started${code === '' ? '' : `{${code}}`}` };
  }
}
