// Conformance with the proxy-wasm-go-sdk examples that use process-wide state: shared_data,
// shared_queue (sender + receiver), metrics, foreign_call_on_tick, plus gauges and histograms
// recorded from a tick. Same module and conventions as sdk-examples-go.test.ts (filters in
// test/fixtures/as/go-sdk-examples, `root_id` picks the example); the expected log lines and
// /metrics output are those of the examples' READMEs and e2e/e2e_test.go. Reference §9.2.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync, inflateSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parsePrometheus } from '../helpers/prometheus.ts';
import { send, startProxy, type LogRecord, type TestProxy } from '../helpers/proxy.ts';

const MODULE = join(import.meta.dirname, '..', 'fixtures', 'build', 'go-sdk-examples.wasm');
const CLI = join(import.meta.dirname, '..', '..', 'bin', 'sluice.mjs');

/** A filter running one example of the module. */
function filter(name: string, rootId: string, extra = ''): string {
  return `
  - name: ${name}
    module: ${MODULE}
    root_id: ${rootId}${extra}`;
}

const isGuestLog = (msg: string) => (r: LogRecord) => r.wasm !== undefined && r.msg === msg;

/** Guest log messages of one filter, in order. */
function logsOf(proxy: TestProxy, plugin: string): string[] {
  return proxy.logs.filter((r) => r.wasm !== undefined && r.plugin === plugin).map((r) => r.msg ?? '');
}

const DIRECT_RESPONSE_LISTENER = (filters: string) => `
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [${filters}]
    routes:
      - match: { prefix: / }
        direct_response: { status: 200, body: "example body\\n" }`;

describe('shared_data', () => {
  let proxy: TestProxy;

  beforeAll(async () => {
    proxy = await startProxy(`${DIRECT_RESPONSE_LISTENER('shared_data')}
filters:${filter('shared_data', 'shared_data')}
`);
  });

  afterAll(() => proxy?.close());

  it('increments the shared value once per request: "shared value: 10" after 10 requests', async () => {
    for (let i = 0; i < 10; i++) {
      const res = await send(proxy.url());
      expect(res.status).toBe(200);
      expect(res.body).toBe('example body\n');
    }
    expect(proxy.wasmLogs()).toEqual(Array.from({ length: 10 }, (_, i) => `shared value: ${i + 1}`));
  });
});

// ---- `sluice run` with workers: 2, its JSON log lines read from stdout ----------------------

interface Cli {
  child: ChildProcess;
  lines: Array<Record<string, any>>;
  url: string;
  admin: string;
}

let cli: Cli | undefined;

afterEach(async () => {
  const child = cli?.child;
  cli = undefined;
  if (child === undefined || child.exitCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
});

async function runCli(yaml: string): Promise<Cli> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-go-shared-'));
  writeFileSync(join(dir, 'config.yaml'), yaml);
  const child = spawn(process.execPath, [CLI, 'run', '--config', join(dir, 'config.yaml')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Array<Record<string, any>> = [];
  cli = { child, lines, url: '', admin: '' };
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop()!;
    for (const part of parts) if (part.startsWith('{')) lines.push(JSON.parse(part));
  });
  const listening = await waitForLine(lines, (l) => l.supervisor === true && l.msg === 'listening');
  const admin = await waitForLine(lines, (l) => l.supervisor === true && l.msg === 'admin listening');
  cli.url = `http://${listening.address}`;
  cli.admin = `http://${admin.address}`;
  return cli;
}

async function waitForLine(lines: Array<Record<string, any>>, predicate: (l: Record<string, any>) => boolean, timeoutMs = 10_000): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = lines.find(predicate);
    if (line !== undefined) return line;
    if (Date.now() > deadline) throw new Error('timed out waiting for a log line');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Sends `count` concurrent requests, then (in the rare case the kernel's SO_REUSEPORT hash sent
 * them all to one worker) one more at a time until `served()` names both workers. Returns how
 * many requests were sent; each was answered 200.
 */
async function requestsOverTwoWorkers(url: string, count: number, served: () => Set<unknown>, done: (sent: number) => boolean): Promise<number> {
  const statuses = await Promise.all(Array.from({ length: count }, () => send(url).then((r) => r.status)));
  expect(statuses).toEqual(Array(count).fill(200));
  let sent = count;
  await until(() => done(sent));
  while (served().size < 2 && sent < count + 50) {
    expect((await send(url)).status).toBe(200);
    sent++;
    await until(() => done(sent));
  }
  expect(served()).toEqual(new Set([0, 1]));
  return sent;
}

describe('shared_data across workers (CLI, workers: 2)', () => {
  // The value lives in the supervisor's store: requests served by either worker's VM increment
  // the same value, and concurrent increments from the two workers meet on CAS_MISMATCH and
  // retry, so none is lost. (Each worker's on_vm_start resets the key, before any request.)
  it('counts every request once, whichever worker served it', async () => {
    const { lines, url } = await runCli(`
admin: { address: 127.0.0.1:0 }
log_level: info
workers: 2
${DIRECT_RESPONSE_LISTENER('shared_data')}
filters:${filter('shared_data', 'shared_data')}
`);
    const logged = () => lines.filter((l) => l.wasm !== undefined && String(l.msg).startsWith('shared value: '));
    const sent = await requestsOverTwoWorkers(url, 10, () => new Set(logged().map((l) => l.worker)), (n) => logged().length === n);
    const values = () => logged().map((l) => Number(String(l.msg).slice('shared value: '.length))).sort((a, b) => a - b);
    expect(values()).toEqual(Array.from({ length: sent }, (_, i) => i + 1));
    expect(logged().map((l) => l.msg)).toContain('shared value: 10');

    // A burst, so that increments from the two workers overlap: CAS_MISMATCH and retry, no loss.
    const burst = await Promise.all(Array.from({ length: 50 }, () => send(url).then((r) => r.status)));
    expect(burst).toEqual(Array(50).fill(200));
    await until(() => logged().length === sent + 50);
    expect(values()).toEqual(Array.from({ length: sent + 50 }, (_, i) => i + 1));
  });
});

describe('shared_queue', () => {
  // As in the example's envoy.yaml: two receiver plugins on one VM (vm_id "receiver"; in Envoy a
  // singleton WasmService, here filters no route uses), each registering the queue its
  // configuration names, and the sender as the HTTP filter on its own VM (vm_id "sender"),
  // resolving the queues by the receiver's vm_id. Deviation: the example's TCP half (a network
  // filter enqueueing hashes of upstream data to "tcp_data_hashes") is left out: sluice has no
  // TCP filters.
  let proxy: TestProxy;

  beforeAll(async () => {
    proxy = await startProxy(`
admin: { address: 127.0.0.1:0 }
${DIRECT_RESPONSE_LISTENER('sender')}
filters:${filter('receiver_request', 'shared_queue_receiver', `
    vm_id: receiver
    configuration: http_request_headers`)}${filter('receiver_response', 'shared_queue_receiver', `
    vm_id: receiver
    configuration: http_response_headers`)}${filter('sender', 'shared_queue_sender', `
    vm_id: sender
    configuration: http`)}
`);
  });

  afterAll(() => proxy?.close());

  it('registers one queue per receiver plugin, and configures the sender for http', () => {
    expect(logsOf(proxy, 'receiver_request')).toEqual(['queue "http_request_headers" registered as queueID=1 by contextID=1']);
    expect(logsOf(proxy, 'receiver_response')).toEqual(['queue "http_response_headers" registered as queueID=2 by contextID=2']);
    expect(logsOf(proxy, 'sender')).toEqual(['contextID=1 is configured for http']);
    const vmIds = new Map(proxy.logs.filter((r) => r.wasm !== undefined).map((r) => [r.plugin, r.vm_id]));
    expect(Object.fromEntries(vmIds)).toEqual({ receiver_request: 'receiver', receiver_response: 'receiver', sender: 'sender' });
  });

  it('carries every request and response header from the sender VM to the receiver VM, in order', async () => {
    const res = await send(proxy.url(), { headers: [['user-agent', 'curl/7.68.0'], ['accept', '*/*']] });
    expect(res.status).toBe(200);
    expect(res.body).toBe('example body\n');
    const host = new URL(proxy.url()).host;
    await proxy.waitFor(isGuestLog(`(contextID=2) dequeued data from http_response_headers(queueID=2): {"key": "content-length","value": "13"}`));

    const sent = logsOf(proxy, 'sender').slice(1);
    const requestItems = sent.filter((m) => m.startsWith('enqueued data: ')).map((m) => m.slice('enqueued data: '.length));
    const responseItems = sent.filter((m) => m.startsWith('(contextID=2) enqueued data: ')).map((m) => m.slice('(contextID=2) enqueued data: '.length));
    expect(requestItems.length + responseItems.length).toBe(sent.length);
    const item = (key: string, value: string) => `{"key": "${key}","value": "${value}"}`;
    expect(requestItems.slice(0, 6)).toEqual([
      item(':authority', host),
      item(':path', '/'),
      item(':method', 'GET'),
      item(':scheme', 'http'),
      item('user-agent', 'curl/7.68.0'),
      item('accept', '*/*'),
    ]);
    expect(requestItems.map((i) => JSON.parse(i).key).slice(6)).toEqual(['x-request-id', 'x-forwarded-for', 'x-forwarded-proto']);
    expect(sent).toContain('enqueued data: {"key": ":method","value": "GET"}'); // what e2e_test.go looks for
    // (Envoy's direct response has content-length before content-type; sluice's the other way.)
    expect(responseItems).toEqual([item(':status', '200'), item('content-type', 'text/plain'), item('content-length', '13')]);

    // Each item was dequeued by the root context that registered its queue, one per on_queue_ready.
    expect(logsOf(proxy, 'receiver_request').slice(1)).toEqual(
      requestItems.map((i) => `(contextID=1) dequeued data from http_request_headers(queueID=1): ${i}`),
    );
    expect(logsOf(proxy, 'receiver_response').slice(1)).toEqual(
      responseItems.map((i) => `(contextID=2) dequeued data from http_response_headers(queueID=2): ${i}`),
    );
    const metrics = (await send(`${proxy.adminUrl()}/metrics`)).body.split('\n');
    expect(metrics).toContain('sluice_shared_queue_items{vm_id="receiver",queue="http_request_headers"} 0');
    expect(metrics).toContain('sluice_shared_queue_items{vm_id="receiver",queue="http_response_headers"} 0');
  });
});

describe('shared_queue: sender without its receiver', () => {
  let proxy: TestProxy;

  beforeAll(async () => {
    proxy = await startProxy(`${DIRECT_RESPONSE_LISTENER('sender')}
filters:${filter('sender', 'shared_queue_sender', `
    vm_id: sender
    configuration: http`)}
`);
  });

  afterAll(() => proxy?.close());

  it('cannot resolve the queues (NOT_FOUND) and fails every enqueue, but the request goes on', async () => {
    const res = await send(proxy.url());
    expect(res.status).toBe(200);
    const logs = proxy.wasmLogs();
    expect(logs.slice(0, 3)).toEqual([
      'contextID=1 is configured for http',
      'error resolving queue id: error status returned by host: not found',
      'error resolving queue id: error status returned by host: not found',
    ]);
    // One failure per request header (7) and per response header (3); nothing enqueued.
    expect(logs.slice(3)).toEqual(Array(10).fill('error queueing: error status returned by host: not found'));
    // LogCriticalf: critical is pino's fatal (60).
    expect(proxy.logs.filter((r) => r.wasm !== undefined && r.msg!.startsWith('error ')).map((r) => r.level)).toEqual(Array(12).fill(60));
  });
});

describe('shared_queue across workers (CLI, workers: 2)', () => {
  // Every worker runs the receivers and the sender, but a queue is one per process (by vm_id and
  // name) with one consumer: the root context that registered it last, in one worker. Items that
  // either worker's sender enqueues all reach that consumer.
  it('delivers what both workers enqueue to the one consumer of each queue', async () => {
    const { lines, url, admin } = await runCli(`
admin: { address: 127.0.0.1:0 }
log_level: info
workers: 2
${DIRECT_RESPONSE_LISTENER('sender')}
filters:${filter('receiver_request', 'shared_queue_receiver', `
    vm_id: receiver
    configuration: http_request_headers`)}${filter('receiver_response', 'shared_queue_receiver', `
    vm_id: receiver
    configuration: http_response_headers`)}${filter('sender', 'shared_queue_sender', `
    vm_id: sender
    configuration: http`)}
`);
    const guest = (plugin: string, pattern: RegExp) =>
      lines.filter((l) => l.wasm !== undefined && l.plugin === plugin && pattern.test(String(l.msg)));
    const item = (l: Record<string, any>) => String(l.msg).slice(String(l.msg).indexOf('{'));
    const requestsEnqueued = () => guest('sender', /^enqueued data: /);
    const responsesEnqueued = () => guest('sender', /^\(contextID=\d+\) enqueued data: /);
    const requestsDequeued = () => guest('receiver_request', /^\(contextID=1\) dequeued data from http_request_headers\(queueID=1\): /);
    const responsesDequeued = () => guest('receiver_response', /^\(contextID=2\) dequeued data from http_response_headers\(queueID=2\): /);
    const methods = () => requestsEnqueued().filter((l) => item(l) === '{"key": ":method","value": "GET"}');
    const statuses = () => responsesEnqueued().filter((l) => item(l) === '{"key": ":status","value": "200"}');
    await requestsOverTwoWorkers(
      url,
      6,
      () => new Set(methods().map((l) => l.worker)),
      (n) =>
        methods().length === n &&
        statuses().length === n &&
        requestsDequeued().length === requestsEnqueued().length &&
        responsesDequeued().length === responsesEnqueued().length,
    );
    expect(requestsDequeued().map(item).sort()).toEqual(requestsEnqueued().map(item).sort());
    expect(responsesDequeued().map(item).sort()).toEqual(responsesEnqueued().map(item).sort());
    expect(new Set(requestsDequeued().map((l) => l.worker)).size).toBe(1);
    expect(new Set(responsesDequeued().map((l) => l.worker)).size).toBe(1);
    const metrics = (await send(`${admin}/metrics`)).body.split('\n');
    expect(metrics).toContain('sluice_shared_queue_items{vm_id="receiver",queue="http_request_headers"} 0');
    expect(metrics).toContain('sluice_shared_queue_items{vm_id="receiver",queue="http_response_headers"} 0');
  });
});

describe('metrics', () => {
  // The example's envoy.yaml stats_tags, as sluice's stats.tags; the counts of e2e_test.go.
  let proxy: TestProxy;

  beforeAll(async () => {
    proxy = await startProxy(`
admin: { address: 127.0.0.1:0 }
stats:
  tags:
    - { tag_name: value, regex: "(_value=([a-zA-Z]+))" }
    - { tag_name: reporter, regex: "(_reporter=([a-zA-Z]+))" }
${DIRECT_RESPONSE_LISTENER('metrics')}
filters:${filter('metrics', 'metrics')}
`);
  });

  afterAll(() => proxy?.close());

  it('counts requests per my-custom-header value, shown with the tags as labels', async () => {
    for (const [value, count] of [['foo', 3], ['bar', 5]] as const) {
      for (let i = 0; i < count; i++) expect((await send(proxy.url(), { headers: [['my-custom-header', value]] })).status).toBe(200);
    }
    expect((await send(proxy.url())).status).toBe(200); // no header: no counter
    const text = (await send(`${proxy.adminUrl()}/metrics`)).body;
    expect(text.split('\n').filter((l) => l.startsWith('custom_header_value_counts'))).toEqual([
      'custom_header_value_counts{value="foo",reporter="wasmgosdk"} 3',
      'custom_header_value_counts{value="bar",reporter="wasmgosdk"} 5',
    ]);
    expect(parsePrometheus(text).get('custom_header_value_counts')!.type).toBe('counter');
  });
});

describe('foreign_call_on_tick', () => {
  // Envoy's "compress" is zlib (RFC 1950) at the default level: the README's result for
  // "hello world!" is exactly what node:zlib's deflateSync makes of it.
  const COMPRESSED = deflateSync(Buffer.from('hello world!')).toString('hex');
  let proxy: TestProxy;

  beforeAll(async () => {
    proxy = await startProxy(`${DIRECT_RESPONSE_LISTENER('foreign_call_on_tick')}
filters:${filter('foreign_call_on_tick', 'foreign_call_on_tick')}
`);
  });

  afterAll(() => proxy?.close());

  it('calls compress on every 1 ms tick and logs the zlib result in hex', async () => {
    expect(COMPRESSED).toBe('789ccb48cdc9c95728cf2fca495104001e89047e');
    expect(inflateSync(Buffer.from(COMPRESSED, 'hex')).toString()).toBe('hello world!');
    await proxy.waitFor(isGuestLog(`foreign function (compress) called: 5, result: ${COMPRESSED}`), 5000);
    const logs = proxy.wasmLogs();
    expect(logs[0]).toBe('set tick period milliseconds: 1');
    expect(logs.slice(1, 6)).toEqual([1, 2, 3, 4, 5].map((n) => `foreign function (compress) called: ${n}, result: ${COMPRESSED}`));
    expect(proxy.logs.find(isGuestLog(logs[1]!))!.wasm.context_id).toBe(1);
  });
});

describe('gauge and histogram recorded on tick', () => {
  let proxy: TestProxy;

  beforeAll(async () => {
    proxy = await startProxy(`
admin: { address: 127.0.0.1:0 }
stats:
  tags:
    - { tag_name: reporter, regex: "(_reporter=([a-zA-Z]+))" }
${DIRECT_RESPONSE_LISTENER('metrics_on_tick')}
filters:${filter('metrics_on_tick', 'metrics_on_tick')}
`);
  });

  afterAll(() => proxy?.close());

  it('sets, adjusts and reads back a gauge and records histogram samples; /metrics shows both', async () => {
    await proxy.waitFor(isGuestLog('ticks stopped after 3'));
    await new Promise((r) => setTimeout(r, 50)); // a fourth tick would have come by now
    expect(proxy.wasmLogs()).toEqual([
      'tick 1: gauge 7, histogram sample 1',
      'tick 2: gauge 17, histogram sample 4',
      'tick 3: gauge 27, histogram sample 9',
      'ticks stopped after 3',
    ]);
    const text = (await send(`${proxy.adminUrl()}/metrics`)).body;
    const families = parsePrometheus(text);
    expect(families.get('sdk_tick_gauge')).toEqual({
      name: 'sdk_tick_gauge',
      type: 'gauge',
      samples: [{ name: 'sdk_tick_gauge', labels: { reporter: 'wasmassemblyscript' }, value: 27, raw: '27' }],
    });
    const histogram = families.get('sdk_tick_histogram')!;
    expect(histogram.type).toBe('histogram');
    const sample = (name: string, le?: string) =>
      histogram.samples.find((s) => s.name === `sdk_tick_histogram${name}` && s.labels['le'] === le && s.labels['reporter'] === 'wasmassemblyscript')?.raw;
    expect([['0.5'], ['1'], ['5'], ['10'], ['25'], ['+Inf']].map(([le]) => sample('_bucket', le))).toEqual(['0', '1', '2', '3', '3', '3']);
    expect(sample('_sum')).toBe('14');
    expect(sample('_count')).toBe('3');
  });
});
