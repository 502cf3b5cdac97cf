// Filter metrics over real sockets: a filter shaped like the Go SDK `metrics` example counts
// requests per `my-custom-header` value, and /metrics on the admin port shows the counter with
// labels cut out of its name by the configured stats tags, next to the proxy's own metrics, as
// valid Prometheus text. A second proxy in the same process has its own metrics.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureWasm } from '../helpers/wat.ts';
import { send, startProxy, type TestProxy } from '../helpers/proxy.ts';
import { parsePrometheus } from '../helpers/prometheus.ts';

const CONFIG = `
admin: { address: 127.0.0.1:0 }
stats:
  tags:
    - { tag_name: value, regex: "(_value=([a-zA-Z]+))" }
    - { tag_name: reporter, regex: "(_reporter=([a-zA-Z]+))" }
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [metrics]
    routes:
      - name: hello
        match: { prefix: / }
        direct_response: { status: 200, body: "hello\\n" }
filters:
  - name: metrics
    module: metrics.wasm
`;

let proxy: TestProxy;
let other: TestProxy;

beforeAll(async () => {
  const wasm = await fixtureWasm('e2e-metrics');
  proxy = await startProxy(CONFIG, { 'metrics.wasm': wasm });
  other = await startProxy(CONFIG, { 'metrics.wasm': wasm });
});

afterAll(async () => {
  await proxy.close();
  await other.close();
});

async function scrape(p: TestProxy): Promise<string> {
  const res = await send(`${p.adminUrl()}/metrics`);
  expect(res.status).toBe(200);
  expect(res.header('content-type')).toBe('text/plain; version=0.0.4');
  return res.body;
}

describe('filter metrics on /metrics', () => {
  it('renders the Go SDK example counter with labels from the stats tags', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await send(proxy.url(), { headers: [['my-custom-header', 'foo']] });
      expect(res.status).toBe(200);
    }
    await send(proxy.url(), { headers: [['my-custom-header', 'bar']] });
    await send(proxy.url());

    const text = await scrape(proxy);
    const lines = text.split('\n');
    expect(lines).toContain('custom_header_value_counts{value="foo",reporter="wasmgosdk"} 3');
    expect(lines).toContain('custom_header_value_counts{value="bar",reporter="wasmgosdk"} 1');
    expect(lines.filter((l) => l.startsWith('# TYPE custom_header_value_counts '))).toEqual(['# TYPE custom_header_value_counts counter']);

    const families = parsePrometheus(text);
    expect(families.get('custom_header_value_counts')!.samples.map((s) => [s.labels, s.raw])).toEqual([
      [{ value: 'foo', reporter: 'wasmgosdk' }, '3'],
      [{ value: 'bar', reporter: 'wasmgosdk' }, '1'],
    ]);
    // The proxy's own metrics are still there.
    expect(lines).toContain('sluice_requests_total{listener="main",route="hello",status="200"} 5');
    expect(families.get('sluice_vm_memory_bytes')!.type).toBe('gauge');
  });

  it('renders gauges and histograms a filter records', async () => {
    await send(proxy.url(), { headers: [['x-gauge', 'twelve chars']] });
    await send(proxy.url(), { headers: [['x-gauge', 'abc']] });
    const text = await scrape(proxy);
    const families = parsePrometheus(text);
    expect(families.get('sluice_e2e_gauge')).toEqual({
      name: 'sluice_e2e_gauge',
      type: 'gauge',
      samples: [{ name: 'sluice_e2e_gauge', labels: {}, value: 3, raw: '3' }],
    });
    const sizes = families.get('sluice_e2e_sizes')!;
    expect(sizes.type).toBe('histogram');
    const sample = (name: string, le?: string) =>
      sizes.samples.find((s) => s.name === name && s.labels['le'] === le)?.raw;
    expect(sample('sluice_e2e_sizes_bucket', '1')).toBe('0');
    expect(sample('sluice_e2e_sizes_bucket', '5')).toBe('1');
    expect(sample('sluice_e2e_sizes_bucket', '25')).toBe('2');
    expect(sample('sluice_e2e_sizes_bucket', '+Inf')).toBe('2');
    expect(sample('sluice_e2e_sizes_sum')).toBe('15');
    expect(sample('sluice_e2e_sizes_count')).toBe('2');
  });

  it('keeps metrics per proxy', async () => {
    await send(other.url(), { headers: [['my-custom-header', 'foo']] });
    const lines = (await scrape(other)).split('\n');
    expect(lines).toContain('custom_header_value_counts{value="foo",reporter="wasmgosdk"} 1');
    expect(lines.some((l) => l.includes('value="bar"'))).toBe(false);
  });
});
