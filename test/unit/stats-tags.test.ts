// Envoy-style stats tag extraction and Prometheus name sanitising, then the rendering of filter
// metrics on /metrics (families, TYPE lines, labels, histograms, conflicts), checked with a strict
// Prometheus text parser.

import { describe, expect, it } from 'vitest';
import { MetricsRegistry, type Counter, type Gauge, type Histogram } from '../../src/abi/metrics.ts';
import { MetricType } from '../../src/abi/types.ts';
import { ProxyMetrics } from '../../src/admin/metrics.ts';
import { FilterMetricsRenderer } from '../../src/admin/prometheus.ts';
import { extractTags, sanitizeMetricName } from '../../src/admin/stats-tags.ts';
import type { StatsTagRule } from '../../src/config/types.ts';
import { parsePrometheus } from '../helpers/prometheus.ts';

const { COUNTER, GAUGE, HISTOGRAM } = MetricType;

const GO_RULES: StatsTagRule[] = [
  { tagName: 'value', regex: /(_value=([a-zA-Z]+))/ },
  { tagName: 'reporter', regex: /(_reporter=([a-zA-Z]+))/ },
];
const GO_NAME = 'custom_header_value_counts_value=foo_reporter=wasmgosdk';

describe('extractTags', () => {
  it('turns the Go SDK example name into a family and two labels, in rule order', () => {
    expect(extractTags(GO_NAME, GO_RULES)).toEqual({
      name: 'custom_header_value_counts',
      labels: [['value', 'foo'], ['reporter', 'wasmgosdk']],
    });
  });

  it('orders labels by rule, not by position in the name', () => {
    const reversed = [GO_RULES[1]!, GO_RULES[0]!];
    expect(extractTags(GO_NAME, reversed).labels).toEqual([['reporter', 'wasmgosdk'], ['value', 'foo']]);
  });

  it('leaves a name no rule matches alone', () => {
    expect(extractTags('plain_counter', GO_RULES)).toEqual({ name: 'plain_counter', labels: [] });
    expect(extractTags('x_value=123', GO_RULES)).toEqual({ name: 'x_value=123', labels: [] });
  });

  it('applies only the rules that match', () => {
    expect(extractTags('hits_reporter=me', GO_RULES)).toEqual({ name: 'hits', labels: [['reporter', 'me']] });
  });

  it('uses the first group as the value when the regex has only one', () => {
    expect(extractTags('rq_503', [{ tagName: 'code', regex: /(_\d+)$/ }])).toEqual({ name: 'rq', labels: [['code', '_503']] });
  });

  it('takes the value from the second group even when more follow (Envoy)', () => {
    const rule = { tagName: 't', regex: /(_t=(\w)(\w+))/ };
    expect(extractTags('m_t=abc', [rule])).toEqual({ name: 'm', labels: [['t', 'a']] });
  });

  it('searches every rule in the original name and cuts all matches at the end', () => {
    // The second rule needs the text the first one cuts out.
    const rules = [
      { tagName: 'a', regex: /(\.a=(\w+))/ },
      { tagName: 'b', regex: /(a=x\.b=(\w+))/ },
    ];
    const out = extractTags('m.a=x.b=y', rules);
    expect(out.labels).toEqual([['a', 'x'], ['b', 'y']]);
    expect(out.name).toBe('m');
  });

  it('keeps only the first matching rule of a tag name', () => {
    const rules = [
      { tagName: 'code', regex: /(_code=(\d+))/ },
      { tagName: 'code', regex: /(_status=(\d+))/ },
    ];
    expect(extractTags('rq_status=503_code=200', rules)).toEqual({ name: 'rq_status=503', labels: [['code', '200']] });
    expect(extractTags('rq_status=503', rules)).toEqual({ name: 'rq', labels: [['code', '503']] });
  });

  it('gives an empty value when the value group did not take part', () => {
    expect(extractTags('m_x', [{ tagName: 'v', regex: /(_x(\d+)?)/ }])).toEqual({ name: 'm', labels: [['v', '']] });
  });

  it('is not confused by global or sticky flags on a rule', () => {
    const rule = { tagName: 'v', regex: /(_v=(\w+))/g };
    expect(extractTags('a_v=1', [rule]).labels).toEqual([['v', '1']]);
    expect(extractTags('b_v=2', [rule]).labels).toEqual([['v', '2']]);
  });
});

describe('sanitizeMetricName', () => {
  it('replaces every character outside [a-zA-Z0-9_] with _', () => {
    expect(sanitizeMetricName('my-custom.header:count')).toBe('my_custom_header_count');
    expect(sanitizeMetricName('temp °C')).toBe('temp__C');
    expect(sanitizeMetricName('a😀b')).toBe('a_b');
  });

  it('keeps valid names and fixes a leading digit or an empty name', () => {
    expect(sanitizeMetricName('ok_Name_1')).toBe('ok_Name_1');
    expect(sanitizeMetricName('5xx')).toBe('_5xx');
    expect(sanitizeMetricName('')).toBe('_');
  });
});

function counter(r: MetricsRegistry, name: string, value: bigint): void {
  (r.define(COUNTER, name) as Counter).add(value);
}

function render(r: MetricsRegistry, rules: StatsTagRule[] = GO_RULES, taken = new Set<string>()): string[] {
  const lines = new FilterMetricsRenderer(r, rules).render(taken);
  parsePrometheus(lines.join('\n') + '\n');
  return lines;
}

describe('FilterMetricsRenderer', () => {
  it('renders the Go SDK example exactly as Envoy does', () => {
    const r = new MetricsRegistry();
    counter(r, GO_NAME, 3n);
    expect(render(r)).toEqual(['# TYPE custom_header_value_counts counter', 'custom_header_value_counts{value="foo",reporter="wasmgosdk"} 3']);
  });

  it('groups metrics of one family under one TYPE line, families sorted by name', () => {
    const r = new MetricsRegistry();
    counter(r, 'zeta', 1n);
    counter(r, 'custom_header_value_counts_value=foo_reporter=wasmgosdk', 3n);
    counter(r, 'custom_header_value_counts_value=bar_reporter=wasmgosdk', 1n);
    (r.define(GAUGE, 'alpha.level') as Gauge).set(7n);
    expect(render(r)).toEqual([
      '# TYPE alpha_level gauge',
      'alpha_level 7',
      '# TYPE custom_header_value_counts counter',
      'custom_header_value_counts{value="foo",reporter="wasmgosdk"} 3',
      'custom_header_value_counts{value="bar",reporter="wasmgosdk"} 1',
      '# TYPE zeta counter',
      'zeta 1',
    ]);
  });

  it('sums two raw names that tag out to the same series', () => {
    const r = new MetricsRegistry();
    counter(r, 'x_value=a', 2n);
    counter(r, 'x.value=a', 0n); // a dot, not `_value=`: no tag, a family of its own
    counter(r, 'x_value=a_', 0n); // the cut leaves `x_`
    counter(r, 'x_reporter=b_value=a', 5n);
    counter(r, 'x_value=a_reporter=b', 1n);
    expect(render(r)).toEqual([
      '# TYPE x counter',
      'x{value="a"} 2',
      'x{value="a",reporter="b"} 6',
      '# TYPE x_ counter',
      'x_{value="a"} 0',
      '# TYPE x_value_a counter',
      'x_value_a 0',
    ]);
  });

  it('escapes label values', () => {
    const r = new MetricsRegistry();
    counter(r, 'q_v=a"b\\c\nd', 1n);
    expect(render(r, [{ tagName: 'v', regex: /(_v=([^]*))/ }])).toEqual(['# TYPE q counter', 'q{v="a\\"b\\\\c\\nd"} 1']);
  });

  it('renders a histogram with cumulative buckets, +Inf, sum and count', () => {
    const r = new MetricsRegistry();
    const h = r.define(HISTOGRAM, 'latency_value=GET') as Histogram;
    for (const v of [3n, 7n, 7n, 20000n, 5000000n]) h.record(v);
    const lines = render(r);
    expect(lines[0]).toBe('# TYPE latency histogram');
    expect(lines).toContain('latency_bucket{value="GET",le="0.5"} 0');
    expect(lines).toContain('latency_bucket{value="GET",le="5"} 1');
    expect(lines).toContain('latency_bucket{value="GET",le="10"} 3');
    expect(lines).toContain('latency_bucket{value="GET",le="30000"} 4');
    expect(lines).toContain('latency_bucket{value="GET",le="3600000"} 4');
    expect(lines.slice(-3)).toEqual([
      'latency_bucket{value="GET",le="+Inf"} 5',
      'latency_sum{value="GET"} 5020017',
      'latency_count{value="GET"} 5',
    ]);
    expect(lines).toHaveLength(1 + 19 + 3);
  });

  it('renders a histogram without labels and drops a tag named le', () => {
    const r = new MetricsRegistry();
    (r.define(HISTOGRAM, 'size_le=1') as Histogram).record(1n);
    const lines = render(r, [{ tagName: 'le', regex: /(_le=(\d+))/ }]);
    expect(lines.slice(-3)).toEqual(['size_bucket{le="+Inf"} 1', 'size_sum 1', 'size_count 1']);
  });

  it('renames a family whose samples clash with another type or with the proxy’s own', () => {
    const r = new MetricsRegistry();
    counter(r, 'dup', 1n);
    (r.define(GAUGE, 'dup') as Gauge).set(2n);
    (r.define(HISTOGRAM, 'h') as Histogram).record(1n);
    counter(r, 'h_count', 4n);
    counter(r, 'sluice_requests_total', 9n);
    const lines = render(r, [], new Set(['sluice_requests_total']));
    expect(lines.filter((l) => l.startsWith('# TYPE'))).toEqual([
      '# TYPE dup counter',
      '# TYPE dup_gauge gauge',
      '# TYPE h histogram',
      '# TYPE h_count_counter counter',
      '# TYPE sluice_requests_total_counter counter',
    ]);
    expect(lines).toContain('dup_gauge 2');
    expect(lines).toContain('h_count_counter 4');
    expect(lines).toContain('sluice_requests_total_counter 9');
  });

  it('prints u64 values exactly', () => {
    const r = new MetricsRegistry();
    counter(r, 'big', (1n << 64n) - 1n);
    expect(render(r)).toEqual(['# TYPE big counter', 'big 18446744073709551615']);
  });
});

describe('ProxyMetrics with filter metrics', () => {
  it('appends filter metrics after the proxy’s own, and the whole page is valid', () => {
    const m = new ProxyMetrics();
    m.request('main', 'api', 200);
    m.upstreamLatency('app', 3);
    m.gauge('sluice_vm_memory_bytes', 'Linear memory of each filter VM.', () => [[{ vm_id: 'v' }, 65536]]);
    const r = new MetricsRegistry();
    m.filterMetrics(new FilterMetricsRenderer(r, GO_RULES));
    counter(r, GO_NAME, 3n);
    counter(r, 'sluice_vm_memory_bytes', 1n);
    const text = m.render();
    const families = parsePrometheus(text);
    expect([...families.keys()]).toEqual([
      'sluice_requests_total',
      'sluice_filter_traps_total',
      'sluice_upstream_latency_ms',
      'sluice_downstream_connections',
      'sluice_downstream_connections_rejected_total',
      'sluice_vm_memory_bytes',
      'custom_header_value_counts',
      'sluice_vm_memory_bytes_counter',
    ]);
    expect(text).toContain('\ncustom_header_value_counts{value="foo",reporter="wasmgosdk"} 3\n');
  });

  it('renders as before when no filter defined anything', () => {
    const m = new ProxyMetrics();
    const plain = m.render();
    m.filterMetrics(new FilterMetricsRenderer(new MetricsRegistry(), GO_RULES));
    expect(m.render()).toBe(plain);
  });
});

describe('parsePrometheus (the checker itself)', () => {
  it('rejects what Prometheus rejects', () => {
    expect(() => parsePrometheus('# TYPE a counter\n# TYPE a counter\n')).toThrow(/second TYPE/);
    expect(() => parsePrometheus('a 1\nb 1\na{x="1"} 1\n')).toThrow(/two groups/);
    expect(() => parsePrometheus('a{x="1",x="2"} 1\n')).toThrow(/duplicate label/);
    expect(() => parsePrometheus('a 1\na 2\n')).toThrow(/duplicate series/);
    expect(() => parsePrometheus('a-b 1\n')).toThrow(/bad metric name/);
    expect(() => parsePrometheus('a{x="\\t"} 1\n')).toThrow(/bad escape/);
    expect(() => parsePrometheus('a one\n')).toThrow(/bad value/);
    expect(() => parsePrometheus('a 1\n# TYPE a counter\n')).toThrow(/TYPE after samples/);
    expect(() => parsePrometheus('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\n')).toThrow(/cumulative/);
    expect(() => parsePrometheus('# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_count 1\n')).toThrow(/count/);
    expect(() => parsePrometheus('a 1')).toThrow(/newline/);
  });
});
