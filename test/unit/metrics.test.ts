import { describe, expect, it } from 'vitest';
import { ProxyMetrics } from '../../src/admin/metrics.ts';

const HEADER_LINES = [
  '# HELP sluice_requests_total Requests served, by listener, route and status (0 = client went away).',
  '# TYPE sluice_requests_total counter',
  '# HELP sluice_filter_traps_total Filter failures (traps) by filter.',
  '# TYPE sluice_filter_traps_total counter',
  '# HELP sluice_upstream_latency_ms Time from sending a request upstream to its response headers.',
  '# TYPE sluice_upstream_latency_ms histogram',
];
const CONNECTION_LINES = [
  '# HELP sluice_downstream_connections Client connections open, by listener.',
  '# TYPE sluice_downstream_connections gauge',
  '# HELP sluice_downstream_connections_rejected_total Client connections closed at once because the process held max_connections, by listener.',
  '# TYPE sluice_downstream_connections_rejected_total counter',
];
/** Every family's HELP/TYPE lines, in order, when nothing was recorded. */
const EMPTY = [...HEADER_LINES, ...CONNECTION_LINES];

function lines(m: ProxyMetrics): string[] {
  const text = m.render();
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
}

describe('ProxyMetrics.render', () => {
  it('renders only HELP/TYPE lines when nothing was recorded', () => {
    const m = new ProxyMetrics();
    expect(m.render()).toBe(EMPTY.join('\n') + '\n');
  });

  it('counts requests per listener/route/status combination', () => {
    const m = new ProxyMetrics();
    m.request('main', 'api', 200);
    m.request('main', 'api', 200);
    m.request('main', 'api', 503);
    m.request('admin', 'health', 0);
    expect(lines(m).slice(0, 5)).toEqual([
      HEADER_LINES[0],
      HEADER_LINES[1],
      'sluice_requests_total{listener="main",route="api",status="200"} 2',
      'sluice_requests_total{listener="main",route="api",status="503"} 1',
      'sluice_requests_total{listener="admin",route="health",status="0"} 1',
    ]);
  });

  it('counts filter traps per filter', () => {
    const m = new ProxyMetrics();
    m.filterTrap('auth');
    m.filterTrap('auth');
    m.filterTrap('rewrite');
    expect(lines(m)).toEqual([
      HEADER_LINES[0],
      HEADER_LINES[1],
      HEADER_LINES[2],
      HEADER_LINES[3],
      'sluice_filter_traps_total{filter="auth"} 2',
      'sluice_filter_traps_total{filter="rewrite"} 1',
      ...EMPTY.slice(4),
    ]);
  });

  it('renders a cumulative latency histogram with +Inf, sum and count', () => {
    const m = new ProxyMetrics();
    m.upstreamLatency('backend', 3);
    m.upstreamLatency('backend', 50);
    m.upstreamLatency('backend', 20000);
    const c = 'cluster="backend"';
    const expected = [
      ...HEADER_LINES,
      `sluice_upstream_latency_ms_bucket{${c},le="1"} 0`,
      `sluice_upstream_latency_ms_bucket{${c},le="2"} 0`,
      `sluice_upstream_latency_ms_bucket{${c},le="5"} 1`,
      `sluice_upstream_latency_ms_bucket{${c},le="10"} 1`,
      `sluice_upstream_latency_ms_bucket{${c},le="25"} 1`,
      `sluice_upstream_latency_ms_bucket{${c},le="50"} 2`, // le is inclusive
      `sluice_upstream_latency_ms_bucket{${c},le="100"} 2`,
      `sluice_upstream_latency_ms_bucket{${c},le="250"} 2`,
      `sluice_upstream_latency_ms_bucket{${c},le="500"} 2`,
      `sluice_upstream_latency_ms_bucket{${c},le="1000"} 2`,
      `sluice_upstream_latency_ms_bucket{${c},le="2500"} 2`,
      `sluice_upstream_latency_ms_bucket{${c},le="5000"} 2`,
      `sluice_upstream_latency_ms_bucket{${c},le="10000"} 2`,
      `sluice_upstream_latency_ms_bucket{${c},le="+Inf"} 3`,
      `sluice_upstream_latency_ms_sum{${c}} 20053`,
      `sluice_upstream_latency_ms_count{${c}} 3`,
      ...CONNECTION_LINES,
    ];
    expect(lines(m)).toEqual(expected);
  });

  it('keeps one histogram per cluster', () => {
    const m = new ProxyMetrics();
    m.upstreamLatency('a', 1);
    m.upstreamLatency('b', 0.5);
    m.upstreamLatency('b', 2);
    const out = lines(m);
    expect(out).toContain('sluice_upstream_latency_ms_bucket{cluster="a",le="1"} 1');
    expect(out).toContain('sluice_upstream_latency_ms_count{cluster="a"} 1');
    expect(out).toContain('sluice_upstream_latency_ms_bucket{cluster="b",le="1"} 1');
    expect(out).toContain('sluice_upstream_latency_ms_bucket{cluster="b",le="2"} 2');
    expect(out).toContain('sluice_upstream_latency_ms_sum{cluster="b"} 2.5');
    expect(out).toContain('sluice_upstream_latency_ms_count{cluster="b"} 2');
    expect(out.filter((l) => l.startsWith('sluice_upstream_latency_ms_bucket{cluster="a"'))).toHaveLength(14);
  });

  it('escapes backslash, double quote and newline in label values', () => {
    const m = new ProxyMetrics();
    m.request('l"1', 'r\\2\nx', 200);
    m.filterTrap('f"\\');
    m.upstreamLatency('c\n', 1);
    const out = lines(m);
    expect(out).toContain('sluice_requests_total{listener="l\\"1",route="r\\\\2\\nx",status="200"} 1');
    expect(out).toContain('sluice_filter_traps_total{filter="f\\"\\\\"} 1');
    expect(out).toContain('sluice_upstream_latency_ms_count{cluster="c\\n"} 1');
    // a raw newline inside a label would split a sample across lines
    expect(out.every((l) => l.startsWith('#') || /\} [0-9.]+$/.test(l))).toBe(true);
  });

  it("renders each listener's client connections: open ones, and those refused at max_connections", () => {
    const m = new ProxyMetrics();
    const main = m.listenerConnections('main');
    main.open = 3;
    main.rejected = 7;
    expect(m.listenerConnections('main')).toBe(main);
    m.listenerConnections('internal').open = 1;
    expect(lines(m).slice(HEADER_LINES.length)).toEqual([
      CONNECTION_LINES[0],
      CONNECTION_LINES[1],
      'sluice_downstream_connections{listener="main"} 3',
      'sluice_downstream_connections{listener="internal"} 1',
      CONNECTION_LINES[2],
      CONNECTION_LINES[3],
      'sluice_downstream_connections_rejected_total{listener="main"} 7',
      'sluice_downstream_connections_rejected_total{listener="internal"} 0',
    ]);
  });

  it('renders gauges sampled at render time, after the built-in metrics', () => {
    const m = new ProxyMetrics();
    let memory = 65536;
    m.gauge('sluice_vm_memory_bytes', 'Linear memory per VM.', () => [
      [{ plugin: 'auth', vm: '0' }, memory],
      [{ plugin: 'x"y', vm: '1' }, 131072],
    ]);
    expect(lines(m).slice(EMPTY.length)).toEqual([
      '# HELP sluice_vm_memory_bytes Linear memory per VM.',
      '# TYPE sluice_vm_memory_bytes gauge',
      'sluice_vm_memory_bytes{plugin="auth",vm="0"} 65536',
      'sluice_vm_memory_bytes{plugin="x\\"y",vm="1"} 131072',
    ]);
    memory = 1;
    expect(lines(m)).toContain('sluice_vm_memory_bytes{plugin="auth",vm="0"} 1');
  });

  it('re-registering a gauge name replaces the sampler', () => {
    const m = new ProxyMetrics();
    m.gauge('g', 'old', () => [[{ k: 'v' }, 1]]);
    m.gauge('g', 'new', () => [[{ k: 'v' }, 2]]);
    const out = lines(m).slice(EMPTY.length);
    expect(out).toEqual(['# HELP g new', '# TYPE g gauge', 'g{k="v"} 2']);
  });
});
