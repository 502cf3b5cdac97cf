// `workers: N`: the supervisor runs N worker threads sharing each listener's port, serves one
// admin port for all, and replaces a worker whose event loop is stuck (here: a filter spinning
// forever) so the proxy recovers on its own.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureWasm, watToWasm } from '../helpers/wat.ts';
import { send } from '../helpers/proxy.ts';
import { parsePrometheus } from '../helpers/prometheus.ts';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'sluice.mjs');

interface Running {
  child: ChildProcess;
  lines: Array<Record<string, any>>;
  /** Lines of stdout that are not one whole JSON record. */
  broken: string[];
  url: string;
  admin: string;
}

let running: Running | undefined;

afterEach(async () => {
  if (running === undefined) return;
  running.child.kill('SIGTERM');
  await new Promise((resolve) => running!.child.once('exit', resolve));
  running = undefined;
});

async function start(yaml: string, modules: Record<string, Uint8Array> = {}): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-workers-'));
  for (const [file, fixture] of [['spin.wasm', 'e2e-spin'], ['counter.wasm', 'abi-shared-data'], ['reader.wasm', 'e2e-shared-reader'], ['metrics.wasm', 'e2e-metrics']]) {
    writeFileSync(join(dir, file!), await fixtureWasm(fixture!));
  }
  for (const [file, bytes] of Object.entries(modules)) writeFileSync(join(dir, file), bytes);
  writeFileSync(join(dir, 'config.yaml'), yaml);
  const child = spawn(process.execPath, [CLI, 'run', '--config', join(dir, 'config.yaml')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Array<Record<string, any>> = [];
  const broken: string[] = [];
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const part of parts) {
      try {
        lines.push(JSON.parse(part));
      } catch {
        broken.push(part);
      }
    }
  });
  const found = (msg: string) => lines.find((l) => l.supervisor === true && l.msg === msg);
  const deadline = Date.now() + 10_000;
  while (found('admin listening') === undefined) {
    if (Date.now() > deadline) throw new Error('supervisor did not start');
    await new Promise((r) => setTimeout(r, 20));
  }
  running = { child, lines, broken, url: `http://${found('listening')!.address}`, admin: `http://${found('admin listening')!.address}` };
  return running;
}

async function waitForLine(r: Running, predicate: (l: Record<string, any>) => boolean, timeoutMs = 10_000): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = r.lines.find(predicate);
    if (line !== undefined) return line;
    if (Date.now() > deadline) throw new Error('timed out waiting for a log line');
    await new Promise((res) => setTimeout(res, 20));
  }
}

/** One listener answering "ok" through the spin filter (which loops on `x-spin`). */
const CONFIG = (workers: number, watchdog: string, callbackTimeout = '1s', policy = 'fail_closed') => `
admin: { address: 127.0.0.1:0 }
log_level: info
workers: ${workers}
watchdog_timeout: ${watchdog}
filter_callback_timeout: ${callbackTimeout}
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [spin]
    routes: [{ match: {}, direct_response: { status: 200, body: "ok\\n" } }]
filters:
  - name: spin
    module: spin.wasm
    failure_policy: ${policy}
`;

const STUCK_LINE = 'filter stuck in a callback (a loop?); replacing its worker and taking the filter out of service';

/** A callback timeout well inside a watchdog that would take 30 s. */
const STUCK_CONFIG = (workers: number, policy: string) => CONFIG(workers, '30s', '300ms', policy);

/** A request the spin filter loops on; resolves to its status or the error code that ended it. */
function spin(r: Running): Promise<string> {
  return new Promise<string>((resolve) => {
    const req = request(`${r.url}/`, { headers: { 'x-spin': '1' } }, (res) => resolve(String(res.statusCode)));
    req.on('error', (err) => resolve((err as NodeJS.ErrnoException).code ?? 'error'));
    req.end();
  });
}

/** A raw client connection: when it connected, its first bytes back ('' if none came), and when it closed. */
function connectTo(port: number): { socket: Socket; connected: Promise<void>; firstData: Promise<string>; closed: Promise<void> } {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  return {
    socket,
    connected: new Promise((resolve) => socket.once('connect', () => resolve())),
    firstData: new Promise((resolve) => {
      socket.once('data', (c: Buffer) => resolve(c.toString('latin1')));
      socket.once('close', () => resolve('')); // refused: closed without a byte
    }),
    closed: new Promise((resolve) => socket.once('close', () => resolve())),
  };
}

// `arm` sets the shared key "armed" and spins on x-spin; `armed` loops in on_configure once
// the key is set, so the worker replacing the one `arm` got stuck gets stuck starting.
const ARM = `(module
  (import "env" "proxy_get_header_map_value" (func $get_header (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_set_shared_data" (func $set (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "x-spin")
  (data (i32.const 120) "armed")
  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
  (func (export "proxy_abi_version_0_2_0"))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (if (i32.eqz (call $get_header (i32.const 0) (i32.const 100) (i32.const 6) (i32.const 0) (i32.const 4)))
      (then (drop (call $set (i32.const 120) (i32.const 5) (i32.const 120) (i32.const 1) (i32.const 0))) (loop $forever (br $forever))))
    (i32.const 0)))`;
const ARMED = `(module
  (import "env" "proxy_get_shared_data" (func $get (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 120) "armed")
  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
  (func (export "proxy_abi_version_0_2_0"))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_configure") (param i32 i32) (result i32)
    (if (i32.eqz (call $get (i32.const 120) (i32.const 5) (i32.const 0) (i32.const 4) (i32.const 8)))
      (then (loop $forever (br $forever))))
    (i32.const 1)))`;

// Logs 200 000 'x' at info from every request's on_request_headers.
const LOUD_BYTES = 200_000;
const LOUD_MESSAGE = 'x'.repeat(LOUD_BYTES);
const LOUD = `(module
  (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
  (memory (export "memory") 4)
  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
  (func (export "proxy_abi_version_0_2_0"))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (memory.fill (i32.const 4096) (i32.const 120) (i32.const ${LOUD_BYTES}))
    (drop (call $log (i32.const 2) (i32.const 4096) (i32.const ${LOUD_BYTES})))
    (i32.const 0)))`;
const LOUD_CONFIG = `
admin: { address: 127.0.0.1:0 }
workers: 2
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [loud]
    routes: [{ match: {}, direct_response: { status: 200, body: "ok\\n" } }]
filters:
  - name: loud
    module: loud.wasm
`;

const armModules = async () => ({ 'arm.wasm': await watToWasm(ARM, 'arm.wat'), 'armed.wasm': await watToWasm(ARMED, 'armed.wat') });

/** One worker with `arm` then `armed` on a listener answering "ok". */
const ARM_CONFIG = (watchdog: string) => `
admin: { address: 127.0.0.1:0 }
workers: 1
watchdog_timeout: ${watchdog}
filter_callback_timeout: 300ms
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [arm, armed]
    routes: [{ match: {}, direct_response: { status: 200, body: "ok\\n" } }]
filters:
  - { name: arm, module: arm.wasm }
  - { name: armed, module: armed.wasm }
`;

describe('workers', () => {
  it('spreads connections over the workers and reports every worker on /metrics', async () => {
    const r = await start(CONFIG(2, '10s'));
    for (let i = 0; i < 24; i++) expect((await send(`${r.url}/`)).status).toBe(200);
    const metrics = (await send(`${r.admin}/metrics`)).body;
    const counts = [0, 1].map((w) => {
      const line = metrics.split('\n').find((l) => l.startsWith(`sluice_requests_total{worker="${w}",`));
      return Number(line?.split(' ')[1] ?? 0);
    });
    expect(counts[0]! + counts[1]!).toBe(24);
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts[1]).toBeGreaterThan(0);
    expect(metrics.match(/^# TYPE sluice_requests_total counter$/gm)).toHaveLength(1);
  });

  it('keeps log lines longer than the stdout pipe whole while both workers log at once', async () => {
    const r = await start(LOUD_CONFIG, { 'loud.wasm': await watToWasm(LOUD, 'loud.wat') });
    // Each line is longer than a pipe holds (64 KiB): had each worker written stdout itself, its
    // write would go in as the reader made room, and the other's lines would land in between.
    const requests = 40;
    let sent = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (sent < requests) {
          sent++;
          expect((await send(`${r.url}/`)).status).toBe(200);
        }
      }),
    );
    const loud = () => r.lines.filter((l) => l.wasm !== undefined && l.msg === LOUD_MESSAGE);
    const deadline = Date.now() + 5000;
    while (loud().length < requests && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    expect(r.broken.map((l) => `${l.length} bytes: ${l.slice(0, 80)}`)).toEqual([]);
    expect(loud()).toHaveLength(requests);
    expect(new Set(loud().map((l) => l.worker))).toEqual(new Set([0, 1]));
  });

  it('shares shared data and filter metrics across workers (process-wide, as in Envoy)', async () => {
    const r = await start(`
admin: { address: 127.0.0.1:0 }
workers: 2
stats:
  tags:
    - { tag_name: value, regex: "(_value=([a-zA-Z]+))" }
    - { tag_name: reporter, regex: "(_reporter=([a-zA-Z]+))" }
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [counter, reader, metrics]
    routes: [{ match: {}, direct_response: { status: 200, body: "ok\\n" } }]
filters:
  - { name: counter, module: counter.wasm, vm_id: shared }
  - { name: reader, module: reader.wasm, vm_id: shared }
  - { name: metrics, module: metrics.wasm }
`);
    const seen: string[] = [];
    for (let i = 0; i < 20; i++) seen.push((await send(`${r.url}/`, { headers: [['my-custom-header', 'foo']] })).header('x-shared-value')!);
    // Every request incremented the one process-wide value, whichever worker served it.
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => String(i + 1)));
    const metrics = (await send(`${r.admin}/metrics`)).body;
    const served = [0, 1].map((w) => metrics.includes(`sluice_requests_total{worker="${w}",`));
    expect(served).toEqual([true, true]);
    // One series for the whole process, not one per worker.
    expect(metrics.split('\n').filter((l) => l.startsWith('custom_header_value_counts'))).toEqual([
      'custom_header_value_counts{value="foo",reporter="wasmgosdk"} 20',
    ]);
  });

  it('replaces a worker stuck in a filter loop after filter_callback_timeout, and serves again without that filter (fail_open)', async () => {
    const r = await start(STUCK_CONFIG(1, 'fail_open'));
    const stuck = spin(r);
    const alarm = await waitForLine(r, (l) => l.msg === STUCK_LINE);
    expect(alarm.filter).toBe('spin');
    expect(alarm.silent_ms).toBeGreaterThanOrEqual(300);
    expect(alarm.silent_ms).toBeLessThan(5000); // the callback timeout, long before the 30 s watchdog
    expect(alarm.quarantined_ms).toBe(10_000);
    expect(await stuck).toBe('ECONNRESET');
    const restarted = await waitForLine(r, (l) => l.msg === 'worker restarted');
    // At once: the filter sits out, so this is no crash loop to back off from, even this soon
    // after the start.
    expect(restarted.time - alarm.time).toBeLessThan(800);
    // The new worker skips the filter while it is out of service: the same request now passes.
    const res = await send(`${r.url}/`, { headers: [['x-spin', '1']] });
    expect(res.status).toBe(200);
    expect(res.body).toBe('ok\n');
  });

  it("keeps a replaced worker's counts in its slot's series: what it last reported (every 5 s, unasked), plus the new worker's", { timeout: 20_000 }, async () => {
    const r = await start(STUCK_CONFIG(1, 'fail_open'));
    const served = async (): Promise<number> => {
      const families = parsePrometheus((await send(`${r.admin}/metrics`)).body);
      const samples = families.get('sluice_requests_total')!.samples.filter((s) => s.labels.worker === '0' && s.labels.status === '200');
      return samples.reduce((sum, s) => sum + s.value, 0);
    };
    for (let i = 0; i < 3; i++) expect((await send(`${r.url}/`)).status).toBe(200);
    // Nobody scraped: the worker's own report (METRICS_REPORT_INTERVAL_MS) stands for it once it is stuck.
    await new Promise((resolve) => setTimeout(resolve, 5300));
    expect(await spin(r)).toBe('ECONNRESET');
    await waitForLine(r, (l) => l.msg === 'worker restarted');
    expect(await served()).toBe(3);
    expect((await send(`${r.url}/`)).status).toBe(200);
    expect(await served()).toBe(4);
  });

  it('answers a scrape as soon as a worker that cannot answer it exits, with the counts it last gave', async () => {
    const r = await start(STUCK_CONFIG(1, 'fail_open'));
    const served = (text: string): number =>
      parsePrometheus(text)
        .get('sluice_requests_total')!
        .samples.filter((s) => s.labels.worker === '0' && s.labels.status === '200')
        .reduce((sum, s) => sum + s.value, 0);
    for (let i = 0; i < 2; i++) expect((await send(`${r.url}/`)).status).toBe(200);
    expect(served((await send(`${r.admin}/metrics`)).body)).toBe(2);
    const stuck = spin(r);
    await new Promise((resolve) => setTimeout(resolve, 100)); // stuck by now; replaced 300 ms after it got stuck
    const since = Date.now();
    const scraped = (await send(`${r.admin}/metrics`)).body;
    // The scrape used to wait its 2 s for the answer the stuck worker would never give.
    expect(Date.now() - since).toBeLessThan(1500);
    expect(served(scraped)).toBe(2);
    expect(await stuck).toBe('ECONNRESET');
  });

  it('stops answering /ready 200 within about a second of its only worker going silent, long before the watchdog replaces it', async () => {
    const r = await start(CONFIG(1, '30s', '0'));
    expect((await send(`${r.admin}/ready`)).status).toBe(200);
    const stuck = spin(r); // loops for good: no callback timeout, and a 30 s watchdog
    const since = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - since < 5000) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = (await send(`${r.admin}/ready`)).status;
    }
    expect(status).toBe(503);
    expect(Date.now() - since).toBeLessThan(3000);
    expect(r.lines.some((l) => l.msg === 'worker restarted')).toBe(false); // not replaced yet
    // A stuck worker makes a graceful stop wait its grace period out: killed here instead.
    const exited = new Promise((resolve) => r.child.once('exit', resolve));
    r.child.kill('SIGKILL');
    await exited;
    running = undefined;
    expect(await stuck).toBe('ECONNRESET');
  });

  it("counts a replaced worker's connections out of max_connections: they closed with it", async () => {
    const r = await start(STUCK_CONFIG(1, 'fail_open').replace('workers: 1', 'workers: 1\nmax_connections: 3'));
    const port = Number(new URL(r.url).port);
    // Two idle connections and the request that gets the worker stuck: the process is full.
    const idle = [connectTo(port), connectTo(port)];
    await Promise.all(idle.map((c) => c.connected));
    const stuck = spin(r);
    await waitForLine(r, (l) => l.msg === 'worker restarted');
    expect(await stuck).toBe('ECONNRESET');
    // Terminating the worker closed its connections, though none of their close handlers ran.
    await Promise.all(idle.map((c) => c.closed));
    // So the new worker has all three again, at once.
    const held = [connectTo(port), connectTo(port), connectTo(port)];
    await Promise.all(held.map((c) => c.connected));
    for (const c of held) c.socket.write('GET / HTTP/1.1\r\nhost: test\r\n\r\n');
    const answers = await Promise.all(held.map((c) => c.firstData));
    for (const answer of answers) expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    for (const c of held) c.socket.destroy();
  });

  it('takes a stuck filter out of service in every worker: fail_closed answers 503 at once, logged once per worker', async () => {
    const r = await start(STUCK_CONFIG(2, 'fail_closed'));
    const stuck = spin(r);
    await waitForLine(r, (l) => l.msg === STUCK_LINE && l.filter === 'spin');
    expect(await stuck).toBe('ECONNRESET');
    await waitForLine(r, (l) => l.msg === 'worker restarted');
    // Neither the replacement nor the worker that never met the loop runs the filter now: each
    // of these would otherwise get a worker stuck again.
    const answers = [];
    for (let i = 0; i < 16; i++) {
      const res = await send(`${r.url}/`, { headers: [['x-spin', '1']] });
      answers.push(`${res.status} ${res.body}`);
    }
    expect(answers).toEqual(Array.from({ length: 16 }, () => '503 filter failed\n'));
    const metrics = (await send(`${r.admin}/metrics`)).body;
    for (const w of [0, 1]) expect(metrics).toMatch(new RegExp(`^sluice_requests_total\\{worker="${w}",[^}]*\\} [1-9]`, 'm'));
    // Worker logs reach stdout through the supervisor's thread: wait for the first.
    await waitForLine(r, (l) => typeof l.msg === 'string' && l.msg.startsWith('filter unavailable'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const warnings = r.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('filter unavailable'));
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(warnings.length).toBeLessThanOrEqual(2);
    expect(r.lines.filter((l) => l.msg === 'filter failed; fail_closed: answering 503')).toEqual([]);
    expect(r.lines.filter((l) => l.msg === STUCK_LINE)).toHaveLength(1);
    // Worker 0 takes it back first, the other a watchdog's time (30 s) plus a second later.
    const ends = [0, 1].map((w) => Date.parse(r.lines.find((l) => l.worker === w && l.msg === 'filter out of service: its requests get its failure policy until then')!.until));
    expect(ends[1]! - ends[0]!).toBe(31_000);
  });

  it('without a callback timeout, the watchdog replaces the worker and still names the filter', async () => {
    const r = await start(CONFIG(1, '400ms', '0'));
    const stuck = spin(r);
    const alarm = await waitForLine(r, (l) => l.msg === STUCK_LINE);
    expect(alarm.filter).toBe('spin');
    expect(alarm.silent_ms).toBeGreaterThanOrEqual(400);
    expect(await stuck).toBe('ECONNRESET');
    await waitForLine(r, (l) => l.msg === 'worker restarted');
    // fail_closed: out of service for now.
    const res = await send(`${r.url}/`);
    expect(res.status).toBe(503);
  });

  it('a restart stuck in a filter that was not out of service takes that filter out too, and the next restart serves', async () => {
    const r = await start(ARM_CONFIG('1s'), await armModules());
    expect(await spin(r)).toBe('ECONNRESET');
    expect((await waitForLine(r, (l) => l.msg === STUCK_LINE)).filter).toBe('arm');
    const second = await waitForLine(r, (l) => l.msg === 'filter stuck while its worker restarted; taking it out of service');
    expect(second.filter).toBe('armed');
    await waitForLine(r, (l) => l.msg === 'worker restarted');
    // Both sit out now (fail_closed): answered at once, by a worker that started without them.
    const res = await send(`${r.url}/`);
    expect(`${res.status} ${res.body}`).toBe('503 filter failed\n');
    expect((await send(`${r.admin}/ready`)).status).toBe(200);
  });

  it('a filter back from its time out whose start-up loops again costs filter_callback_timeout, not the watchdog, and sits out twice as long', { timeout: 40_000 }, async () => {
    const r = await start(ARM_CONFIG('3s'), await armModules());
    expect(await spin(r)).toBe('ECONNRESET');
    await waitForLine(r, (l) => l.msg === 'filter stuck while its worker restarted; taking it out of service' && l.filter === 'armed');
    await waitForLine(r, (l) => l.msg === 'worker restarted');
    // ~10 s later `armed` is started again in the serving worker, where its on_configure still
    // finds the key set and loops: found after filter_callback_timeout (300 ms), well inside
    // the 3 s watchdog, and taken out for its second time out (20 s).
    const again = await waitForLine(r, (l) => l.msg === 'filter stuck while starting again (a loop?); replacing its worker and taking the filter out of service', 25_000);
    expect(again.filter).toBe('armed');
    expect(again.silent_ms).toBeLessThan(3000);
    expect(again.quarantined_ms).toBeGreaterThan(15_000);
    await waitForLine(r, (l) => l.msg === 'worker restarted' && r.lines.indexOf(l) > r.lines.indexOf(again));
    expect((await send(`${r.admin}/ready`)).status).toBe(200);
    const res = await send(`${r.url}/`);
    expect(`${res.status} ${res.body}`).toBe('503 filter failed\n'); // armed sits out (fail_closed)
  });

  it('fails the start, naming the cause, when a worker is stuck while starting (a filter looping in on_configure)', async () => {
    const { code, output } = await runLoopingOnConfigure('400ms');
    expect(code).toBe(1);
    expect(output).toContain('did not finish starting');
    expect(output).toContain("filter 'loop' is stuck in a loop while starting");
  });

  it('stops on SIGTERM even while a start is stuck and the watchdog is off', async () => {
    const { code, output, afterSignalMs } = await runLoopingOnConfigure('0', 800);
    expect(code).toBe(1);
    expect(output).toContain('stopped while starting: the start did not finish within 3 s');
    expect(afterSignalMs).toBeLessThan(6000);
  });
});

/**
 * `sluice run` with a filter looping in on_configure, until it exits (or 8 s pass); with
 * `signalAfterMs`, a SIGTERM is sent that long after the spawn.
 */
async function runLoopingOnConfigure(watchdog: string, signalAfterMs?: number): Promise<{ code: number | null; output: string; afterSignalMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-workers-'));
  writeFileSync(join(dir, 'loop.wasm'), await fixtureWasm('e2e-loop-on-configure'));
  writeFileSync(
    join(dir, 'config.yaml'),
    `workers: 1
watchdog_timeout: ${watchdog}
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [loop]
    routes: [{ match: {}, direct_response: { status: 200, body: "ok\\n" } }]
filters:
  - name: loop
    module: loop.wasm
`,
  );
  const child = spawn(process.execPath, [CLI, 'run', '--config', join(dir, 'config.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  let signalledAt = Date.now();
  if (signalAfterMs !== undefined) {
    setTimeout(() => {
      signalledAt = Date.now();
      child.kill('SIGTERM');
    }, signalAfterMs);
  }
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(null);
    }, 8000);
    child.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  return { code, output, afterSignalMs: Date.now() - signalledAt };
}
