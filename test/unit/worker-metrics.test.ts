// A worker slot's series on the admin port: the live workers' texts summed, plus the counters
// and histograms of the slot's ended workers (src/supervisor/worker-metrics.ts).

import { describe, expect, it } from 'vitest';
import { ProxyMetrics } from '../../src/admin/metrics.ts';
import { mergeFamilies, SlotMetrics, withWorkerLabel } from '../../src/supervisor/worker-metrics.ts';
import { parsePrometheus } from '../helpers/prometheus.ts';

/** A worker's text after `requests` 200s on listener `main`, `open` connections and one latency sample per request. */
function workerText(requests: number, open: number, latencyMs = 3): string {
  const m = new ProxyMetrics();
  for (let i = 0; i < requests; i++) {
    m.request('main', 'main/0', 200);
    m.upstreamLatency('app', latencyMs);
  }
  m.listenerConnections('main').open = open;
  return m.render();
}

function value(text: string, family: string, sample: string, labels: Record<string, string>): number | undefined {
  const samples = parsePrometheus(text).get(family)?.samples ?? [];
  return samples.find((s) => s.name === sample && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

describe('SlotMetrics', () => {
  it('sums the live workers of a slot and adds the counters of its ended ones, but not their gauges', () => {
    const slots = new SlotMetrics();
    slots.ended(0, workerText(5, 2));
    const text = slots.render(0, [workerText(3, 1), workerText(1, 4)]);
    expect(value(text, 'sluice_requests_total', 'sluice_requests_total', { worker: '0', status: '200' })).toBe(9);
    expect(value(text, 'sluice_upstream_latency_ms', 'sluice_upstream_latency_ms_count', { worker: '0', cluster: 'app' })).toBe(9);
    expect(value(text, 'sluice_upstream_latency_ms', 'sluice_upstream_latency_ms_bucket', { worker: '0', le: '5' })).toBe(9);
    expect(value(text, 'sluice_upstream_latency_ms', 'sluice_upstream_latency_ms_sum', { worker: '0' })).toBe(27);
    expect(value(text, 'sluice_downstream_connections', 'sluice_downstream_connections', { worker: '0' })).toBe(5);
  });

  it('accumulates over several ended workers and keeps series only they had', () => {
    const slots = new SlotMetrics();
    const old = new ProxyMetrics();
    old.request('gone', 'gone/0', 503);
    slots.ended(1, old.render());
    slots.ended(1, workerText(2, 0));
    expect([...slots.slots()]).toEqual([1]);
    const text = slots.render(1, [workerText(1, 0)]);
    expect(value(text, 'sluice_requests_total', 'sluice_requests_total', { worker: '1', listener: 'gone', status: '503' })).toBe(1);
    expect(value(text, 'sluice_requests_total', 'sluice_requests_total', { worker: '1', listener: 'main', status: '200' })).toBe(3);
    // A slot no worker serves any more (fewer workers after a reload) still shows its counts.
    expect(value(slots.render(1, []), 'sluice_requests_total', 'sluice_requests_total', { worker: '1', listener: 'main' })).toBe(2);
  });

  it('renders what a Prometheus server accepts, merged over slots', () => {
    const slots = new SlotMetrics();
    slots.ended(0, workerText(4, 0, 700));
    const merged = mergeFamilies([slots.render(0, [workerText(1, 1)]), slots.render(1, [workerText(2, 1)])]);
    const families = parsePrometheus(merged); // throws on duplicate series, split families, bad buckets
    expect(families.get('sluice_requests_total')!.samples.map((s) => [s.labels.worker, s.value])).toEqual([
      ['0', 5],
      ['1', 2],
    ]);
    expect(value(merged, 'sluice_upstream_latency_ms', 'sluice_upstream_latency_ms_bucket', { worker: '0', le: '500' })).toBe(1);
    expect(value(merged, 'sluice_upstream_latency_ms', 'sluice_upstream_latency_ms_bucket', { worker: '0', le: '1000' })).toBe(5);
  });

  it('ignores an empty last report (a worker that never answered)', () => {
    const slots = new SlotMetrics();
    slots.ended(2, '');
    expect(slots.render(2, [])).toBe('');
  });
});

describe('withWorkerLabel', () => {
  it('puts worker first in every sample, with or without labels', () => {
    expect(withWorkerLabel('# TYPE a counter\na 1\nb{x="y"} 2\n', 3)).toBe('# TYPE a counter\na{worker="3"} 1\nb{worker="3",x="y"} 2\n');
  });
});
