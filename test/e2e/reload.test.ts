// Reloading the configuration with SIGHUP (`sluice run`): new workers with the new file start
// beside the serving ones, and once they serve the previous ones stop listening and finish the
// requests they carry. A file that is not valid, or filters that cannot start, leave the
// proxy serving as it was.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fixtureWasm } from '../helpers/wat.ts';
import { parsePrometheus } from '../helpers/prometheus.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'sluice.mjs');
const HEADERS = join(ROOT, 'filters', 'build', 'headers.wasm');

interface Running {
  child: ChildProcess;
  lines: Array<Record<string, any>>;
  dir: string;
}

let upstream: Server;
let upstreamPort: number;
let running: Running | undefined;

/** Answers with the x-gen header the proxy's filter added; `?delay=ms` answers that much later. */
beforeAll(async () => {
  upstream = createServer((req, res) => {
    const delay = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('delay') ?? 0);
    setTimeout(() => res.end(`gen ${req.headers['x-gen'] ?? '-'}`), delay);
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamPort = (upstream.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

afterEach(async () => {
  if (running === undefined) return;
  running.child.kill('SIGTERM');
  await new Promise((resolve) => running!.child.once('exit', resolve));
  running = undefined;
});

/** A config whose headers filter adds `x-gen: <gen>` to every request on `port`. */
function config(gen: string, port: number, workers = 2, filterConfig = `{ request: { add: { x-gen: "${gen}" } } }`): string {
  return `admin: { address: 127.0.0.1:0 }
workers: ${workers}
drain_timeout: 5s
listeners:
  - name: main
    address: 127.0.0.1:${port}
    filters: [headers]
    routes: [{ match: { prefix: / }, cluster: app }]
clusters:
  - name: app
    endpoints: [127.0.0.1:${upstreamPort}]
filters:
  - name: headers
    module: ${HEADERS}
    configuration: ${filterConfig}
`;
}

async function waitFor<T>(what: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = what();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function start(yaml: string): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-reload-'));
  writeFileSync(join(dir, 'config.yaml'), yaml);
  const child = spawn(process.execPath, [CLI, 'run', '--config', join(dir, 'config.yaml')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Array<Record<string, any>> = [];
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const part of parts) lines.push(JSON.parse(part));
  });
  running = { child, lines, dir };
  await waitFor(() => lines.find((l) => l.msg === 'admin listening'));
  return running;
}

/** Rewrites the file, sends SIGHUP and waits for the supervisor's verdict: the line it logged. */
async function reload(r: Running, yaml: string): Promise<Record<string, any>> {
  const seen = r.lines.length;
  writeFileSync(join(r.dir, 'config.yaml'), yaml);
  r.child.kill('SIGHUP');
  return waitFor(() => r.lines.slice(seen).find((l) => l.supervisor === true && l.level >= 40 || /^reloaded: the previous workers/.test(l.msg)));
}

interface Answer {
  status: number;
  body: string;
  connection: string | undefined;
}

function get(port: number, path = '/', agent?: Agent, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: agent ?? false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body, connection: res.headers.connection }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** `yaml` (from config()) with a second filter, `name`, running the WAT fixture `fixture`. */
async function withFilter(yaml: string, name: string, fixture: string, extra = ''): Promise<string> {
  const module = join(mkdtempSync(join(tmpdir(), 'sluice-reload-')), `${name}.wasm`);
  writeFileSync(module, await fixtureWasm(fixture));
  return `${yaml.replace('filters: [headers]', `filters: [headers, ${name}]`)}  - name: ${name}\n    module: ${module}\n${extra}`;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('SIGHUP reloads the configuration', () => {
  it('serves new requests with the new file; a request in flight finishes with the old one', async () => {
    const port = await freePort();
    const r = await start(config('a', port));
    expect(await get(port)).toMatchObject({ status: 200, body: 'gen a' });
    // Kept alive: the old worker's answer must close it (a client without an agent asks that itself).
    const agent = new Agent({ keepAlive: true });
    const slow = get(port, '/?delay=1500', agent);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const verdict = await reload(r, config('b', port, 1));
    expect(verdict.msg).toBe('reloaded: the previous workers finish their requests in flight');
    expect(verdict).toMatchObject({ workers: 1, retired_workers: 2 });
    for (let i = 0; i < 5; i++) expect(await get(port)).toMatchObject({ status: 200, body: 'gen b' });
    expect(await slow).toMatchObject({ status: 200, body: 'gen a', connection: 'close' });
    agent.destroy();
    // Both old workers leave once their requests are done.
    await waitFor(() => (r.lines.filter((l) => l.msg === 'a replaced worker finished its requests and exited').length === 2 ? true : undefined));
    const admin = r.lines.find((l) => l.msg === 'admin listening')!.address;
    const dump = JSON.parse((await get(Number(admin.split(':')[1]), '/config_dump')).body);
    expect(dump.filters[0].configuration).toContain('"b"');
  });

  it('closes the old workers\' kept-alive connections once idle: they need not wait for drain_timeout', async () => {
    const port = await freePort();
    const r = await start(config('a', port, 1));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect(await get(port, '/', agent)).toMatchObject({ body: 'gen a', connection: 'keep-alive' });
      const reloaded = Date.now();
      expect((await reload(r, config('b', port, 1))).level).toBe(30);
      await waitFor(() => r.lines.find((l) => l.msg === 'a replaced worker finished its requests and exited'));
      expect(Date.now() - reloaded).toBeLessThan(3000); // drain_timeout is 5 s
      // The client's connection was closed under it; its next request goes to the new worker.
      expect(await get(port, '/', agent)).toMatchObject({ body: 'gen b', connection: 'keep-alive' });
    } finally {
      agent.destroy();
    }
  });

  it('keeps serving with the previous configuration when the file is not valid, or a filter will not start', async () => {
    const port = await freePort();
    const r = await start(config('a', port));
    const invalid = await reload(r, config('b', port).replace('workers: 2', 'workers: many'));
    expect(invalid).toMatchObject({ level: 50, msg: 'reload refused: the configuration file is not valid; still serving with the previous configuration' });
    expect(invalid.issues).toEqual([expect.stringMatching(/config\.yaml:2:10 workers: /)]);
    expect(await get(port)).toMatchObject({ status: 200, body: 'gen a' });
    // The headers filter refuses a configuration that is not an object.
    const refused = await reload(r, config('b', port, 2, '"not an object"'));
    expect(refused).toMatchObject({ level: 50, msg: 'reload failed; still serving with the previous configuration' });
    expect(refused.err).toMatch(/config\.yaml:\d+:5 filters\[0\]: filter 'headers': proxy_on_configure returned false/);
    expect(await get(port)).toMatchObject({ status: 200, body: 'gen a' });
    // And a good file after the bad ones is taken.
    expect((await reload(r, config('c', port))).level).toBe(30);
    expect(await get(port)).toMatchObject({ status: 200, body: 'gen c' });
  });

  it('keeps a listener on port 0 on the port it was given', async () => {
    const r = await start(config('a', 0));
    const port = Number(r.lines.find((l) => l.msg === 'listening')!.address.split(':')[1]);
    expect(await get(port)).toMatchObject({ body: 'gen a' });
    expect((await reload(r, config('b', 0))).level).toBe(30);
    expect(r.lines.find((l) => l.msg === 'reloaded: listening')!.address).toBe(`127.0.0.1:${port}`);
    expect(await get(port)).toMatchObject({ body: 'gen b' });
  });

  it('terminates an old worker stuck in a filter while it drains, after the watchdog\'s time rather than drain_timeout', async () => {
    const port = await freePort();
    // Only the watchdog (1.5 s), so that the stuck worker is still there when the reload retires it.
    const spinning = (gen: string) =>
      withFilter(config(gen, port, 1).replace('drain_timeout: 5s', 'drain_timeout: 20s\nwatchdog_timeout: 1500ms\nfilter_callback_timeout: 0'), 'spin', 'e2e-spin', '    failure_policy: fail_open\n');
    const r = await start(await spinning('a'));
    expect(await get(port)).toMatchObject({ body: 'gen a' });
    const stuck = get(port, '/', undefined, { 'x-spin': '1' }).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const reloaded = Date.now();
    expect((await reload(r, await spinning('b'))).level).toBe(30);
    const cut = await waitFor(() => r.lines.find((l) => l.msg === 'a replaced worker got stuck while finishing its requests; terminating it'));
    expect(cut).toMatchObject({ level: 50, filter: 'spin' });
    expect(Date.now() - reloaded).toBeLessThan(5000); // drain_timeout is 20 s
    await stuck;
    expect(await get(port)).toMatchObject({ body: 'gen b' });
  });

  it('keeps filter metrics (the process\'s), and renders them with the new file\'s stats tags', async () => {
    const port = await freePort();
    const withMetrics = await withFilter(config('a', port, 1), 'metrics', 'e2e-metrics');
    const r = await start(withMetrics);
    const adminPort = Number(r.lines.find((l) => l.msg === 'admin listening')!.address.split(':')[1]);
    const counted = () => get(port, '/', undefined, { 'my-custom-header': 'foo' });
    await counted();
    await counted();
    expect((await get(adminPort, '/metrics')).body).toContain('custom_header_value_counts_value_foo_reporter_wasmgosdk 2');
    const tags = 'stats:\n  tags:\n    - { tag_name: value, regex: "(_value=([a-zA-Z]+))" }\n    - { tag_name: reporter, regex: "(_reporter=([a-zA-Z]+))" }\n';
    expect((await reload(r, tags + withMetrics)).level).toBe(30);
    await counted();
    expect((await get(adminPort, '/metrics')).body).toContain('custom_header_value_counts{value="foo",reporter="wasmgosdk"} 3');
  });

  it("keeps the proxy's counters across a reload: a replaced worker's count goes on in its slot, nothing lost or counted twice", async () => {
    const port = await freePort();
    const r = await start(config('a', port, 1));
    const adminPort = Number(r.lines.find((l) => l.msg === 'admin listening')!.address.split(':')[1]);
    const scrape = async () => parsePrometheus((await get(adminPort, '/metrics')).body);
    const requests = async () => {
      const samples = (await scrape()).get('sluice_requests_total')!.samples.filter((s) => s.labels.worker === '0');
      return samples.reduce((sum, s) => sum + s.value, 0);
    };
    for (let i = 0; i < 3; i++) await get(port);
    expect(await requests()).toBe(3);
    const slow = get(port, '/?delay=2000');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await reload(r, config('b', port, 1))).level).toBe(30);
    for (let i = 0; i < 2; i++) expect((await get(port)).body).toBe('gen b');
    // The old worker still finishes its request: both workers are counted, the slow one not yet.
    expect(await requests()).toBe(5);
    expect((await slow).body).toBe('gen a');
    await waitFor(() => r.lines.find((l) => l.msg === 'a replaced worker finished its requests and exited'));
    expect(await requests()).toBe(6);
    // Histograms go on the same way; gauges are the live workers' (one connection left: none).
    const families = await scrape();
    const latencyCount = families.get('sluice_upstream_latency_ms')!.samples.find((s) => s.name === 'sluice_upstream_latency_ms_count' && s.labels.worker === '0');
    expect(latencyCount?.value).toBe(6);
    expect(families.get('sluice_downstream_connections')!.samples.find((s) => s.labels.worker === '0')?.value).toBe(0);
  });

  it('moves a listener to its new port, and frees the old one', async () => {
    const [first, second] = [await freePort(), await freePort()];
    const r = await start(config('a', first));
    expect((await reload(r, config('b', second))).level).toBe(30);
    expect(await get(second)).toMatchObject({ status: 200, body: 'gen b' });
    await waitFor(() => (r.lines.filter((l) => l.msg === 'a replaced worker finished its requests and exited').length === 2 ? true : undefined));
    await expect(get(first)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('moves the admin port to its new address; one that cannot be opened fails the reload and leaves it', async () => {
    const [port, adminPort] = [await freePort(), await freePort()];
    const r = await start(config('a', port));
    const firstAdmin = Number(r.lines.find((l) => l.msg === 'admin listening')!.address.split(':')[1]);
    const moved = (gen: string, at: number) => config(gen, port).replace('admin: { address: 127.0.0.1:0 }', `admin: { address: 127.0.0.1:${at} }`);
    expect((await reload(r, moved('b', adminPort))).level).toBe(30);
    expect(r.lines.find((l) => l.msg === 'reloaded: admin listening')).toMatchObject({ address: `127.0.0.1:${adminPort}` });
    expect(await get(adminPort, '/ready')).toMatchObject({ status: 200 });
    await expect(get(firstAdmin, '/ready')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    // An address another server holds: the reload fails before any worker changes.
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    try {
      const taken = (holder.address() as AddressInfo).port;
      expect(await reload(r, moved('c', taken))).toMatchObject({ level: 50, msg: 'reload failed: the new admin address cannot be opened; still serving with the previous configuration' });
      expect(await get(adminPort, '/ready')).toMatchObject({ status: 200 });
      expect(await get(port)).toMatchObject({ status: 200, body: 'gen b' });
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});

describe('SIGQUIT stops gracefully', () => {
  it('takes no new connection, lets the requests in flight finish, then exits 0', async () => {
    const port = await freePort();
    const r = await start(config('a', port));
    const agent = new Agent({ keepAlive: true });
    try {
      const slow = get(port, '/?delay=1500', agent);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const exited = new Promise<number | null>((resolve) => r.child.once('exit', (code) => resolve(code)));
      const asked = Date.now();
      r.child.kill('SIGQUIT');
      await waitFor(() => r.lines.find((l) => l.msg === 'stopping gracefully (SIGQUIT): the requests in flight finish first'));
      await new Promise((resolve) => setTimeout(resolve, 300));
      await expect(get(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      expect(await slow).toMatchObject({ status: 200, body: 'gen a', connection: 'close' });
      expect(await exited).toBe(0);
      expect(Date.now() - asked).toBeLessThan(4000); // drain_timeout is 5 s: it did not wait for it
    } finally {
      agent.destroy();
      running = undefined;
    }
  });
});
