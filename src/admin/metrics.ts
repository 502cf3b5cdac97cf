// The proxy's own metrics, rendered in Prometheus text format on the admin port. Kept as plain
// maps: a handful of label combinations, updated once per request. Metrics filters define come
// after them (see prometheus.ts).

import { escapeLabelValue as escapeLabel, type FilterMetricsRenderer } from './prometheus.ts';

const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

class Histogram {
  readonly counts = new Array<number>(LATENCY_BUCKETS_MS.length).fill(0);
  sum = 0;
  count = 0;

  observe(ms: number): void {
    this.sum += ms;
    this.count++;
    for (let i = 0; i < LATENCY_BUCKETS_MS.length; i++) if (ms <= LATENCY_BUCKETS_MS[i]!) this.counts[i]!++;
  }
}

/** A listener's client connections, kept by its server (listener-server.ts). */
export interface ConnectionStats {
  open: number;
  rejected: number;
}

export class ProxyMetrics {
  readonly #connections = new Map<string, ConnectionStats>();
  readonly #requests = new Map<string, Map<string, Map<number, number>>>();
  readonly #traps = new Map<string, number>();
  readonly #latency = new Map<string, Histogram>();
  /** Families sampled at render time (e.g. VM memory), name → samples. */
  readonly #sampled = new Map<string, { type: 'gauge' | 'counter'; help: string; sample: () => Array<[labels: Record<string, string>, value: number]> }>();
  #filterMetrics: FilterMetricsRenderer | null = null;

  /** Counts a request; nested maps so the hot path builds no label string (render does). */
  request(listener: string, route: string, status: number): void {
    let routes = this.#requests.get(listener);
    if (routes === undefined) this.#requests.set(listener, (routes = new Map()));
    let statuses = routes.get(route);
    if (statuses === undefined) routes.set(route, (statuses = new Map()));
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  }

  /** The counts a listener's server keeps up to date (one object per listener). */
  listenerConnections(listener: string): ConnectionStats {
    let stats = this.#connections.get(listener);
    if (stats === undefined) this.#connections.set(listener, (stats = { open: 0, rejected: 0 }));
    return stats;
  }

  filterTrap(filter: string): void {
    this.#traps.set(filter, (this.#traps.get(filter) ?? 0) + 1);
  }

  upstreamLatency(cluster: string, ms: number): void {
    let h = this.#latency.get(cluster);
    if (h === undefined) this.#latency.set(cluster, (h = new Histogram()));
    h.observe(ms);
  }

  gauge(name: string, help: string, sample: () => Array<[Record<string, string>, number]>): void {
    this.#sampled.set(name, { type: 'gauge', help, sample });
  }

  /** A counter kept by its owner (it only grows), sampled at render time. */
  counter(name: string, help: string, sample: () => Array<[Record<string, string>, number]>): void {
    this.#sampled.set(name, { type: 'counter', help, sample });
  }

  /** Renders the metrics filters define after the proxy's own. */
  filterMetrics(renderer: FilterMetricsRenderer): void {
    this.#filterMetrics = renderer;
  }

  render(): string {
    const out: string[] = [];
    out.push('# HELP sluice_requests_total Requests served, by listener, route and status (0 = client went away).');
    out.push('# TYPE sluice_requests_total counter');
    for (const [listener, routes] of this.#requests) {
      for (const [route, statuses] of routes) {
        const prefix = `listener="${escapeLabel(listener)}",route="${escapeLabel(route)}"`;
        for (const [status, value] of statuses) out.push(`sluice_requests_total{${prefix},status="${status}"} ${value}`);
      }
    }
    out.push('# HELP sluice_filter_traps_total Filter failures (traps) by filter.');
    out.push('# TYPE sluice_filter_traps_total counter');
    for (const [filter, value] of this.#traps) out.push(`sluice_filter_traps_total{filter="${escapeLabel(filter)}"} ${value}`);
    out.push('# HELP sluice_upstream_latency_ms Time from sending a request upstream to its response headers.');
    out.push('# TYPE sluice_upstream_latency_ms histogram');
    for (const [cluster, h] of this.#latency) {
      const c = `cluster="${escapeLabel(cluster)}"`;
      LATENCY_BUCKETS_MS.forEach((le, i) => out.push(`sluice_upstream_latency_ms_bucket{${c},le="${le}"} ${h.counts[i]}`));
      out.push(`sluice_upstream_latency_ms_bucket{${c},le="+Inf"} ${h.count}`);
      out.push(`sluice_upstream_latency_ms_sum{${c}} ${h.sum}`);
      out.push(`sluice_upstream_latency_ms_count{${c}} ${h.count}`);
    }
    out.push('# HELP sluice_downstream_connections Client connections open, by listener.');
    out.push('# TYPE sluice_downstream_connections gauge');
    for (const [listener, c] of this.#connections) out.push(`sluice_downstream_connections{listener="${escapeLabel(listener)}"} ${c.open}`);
    out.push('# HELP sluice_downstream_connections_rejected_total Client connections closed at once because the process held max_connections, by listener.');
    out.push('# TYPE sluice_downstream_connections_rejected_total counter');
    for (const [listener, c] of this.#connections) out.push(`sluice_downstream_connections_rejected_total{listener="${escapeLabel(listener)}"} ${c.rejected}`);
    for (const [name, g] of this.#sampled) {
      out.push(`# HELP ${name} ${g.help}`);
      out.push(`# TYPE ${name} ${g.type}`);
      for (const [labels, value] of g.sample()) {
        const l = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',');
        out.push(`${name}{${l}} ${value}`);
      }
    }
    if (this.#filterMetrics !== null) out.push(...this.#filterMetrics.render(this.#ownSampleNames()));
    return out.join('\n') + '\n';
  }

  /** Sample names the proxy's own families use; filter metrics must not reuse them. */
  #ownSampleNames(): Set<string> {
    const latency = 'sluice_upstream_latency_ms';
    return new Set(['sluice_requests_total', 'sluice_filter_traps_total', 'sluice_downstream_connections', 'sluice_downstream_connections_rejected_total', latency, `${latency}_bucket`, `${latency}_sum`, `${latency}_count`, ...this.#sampled.keys()]);
  }
}
