// `npm run bench:streaming`: large bodies and many requests through sluice (one filter whose
// body callbacks return Continue, so bodies stream through it), against the upstream directly. Reports seconds per GiB
// each way, the proxy's RSS before, at its peak during the transfers and after, and its RSS
// over a long run of small requests, after each tenth of it (issue 4: growth under 64 MiB;
// flat over a million).
// Flags: --gib N (default 1) --requests N (default 1000000) --quick (64 MiB, 20000 requests)
//        --memory (also sample process.memoryUsage() in each sluice thread: where RSS goes)

import { existsSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { benchFlags, numberFlag } from './flags.ts';
import { cpuNs, processTree } from './proc.ts';
import { freePort, startServer, type RunningServer } from './servers.ts';

const ROOT = join(import.meta.dirname, '..');
const COMMAND = 'bench:streaming';
const flags = benchFlags(
  COMMAND,
  {
    gib: { type: 'string' },
    requests: { type: 'string' },
    quick: { type: 'boolean', default: false },
    memory: { type: 'boolean', default: false },
  },
  () => `Usage: npm run bench:streaming -- [flags]
  --gib N        GiB uploaded and downloaded through sluice, and directly (default 1; --quick 1/16)
  --requests N   small requests of the RSS soak (default 1000000; --quick 20000)
  --quick        a smoke run: 64 MiB each way, 20 000 requests
  --memory       also sample process.memoryUsage() in each sluice thread (where RSS goes)
`,
);
const bytes = Math.round(numberFlag(COMMAND, 'gib', flags.gib, flags.quick ? 1 / 16 : 1) * 1024 ** 3);
const requests = numberFlag(COMMAND, 'requests', flags.requests, flags.quick ? 20_000 : 1_000_000, 10, true);

/** Current resident set of a process tree, in MiB. */
function rssMiB(pids: readonly number[]): number {
  let kib = 0;
  for (const pid of pids) {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    kib += match === null ? 0 : Number(match[1]);
  }
  return kib / 1024;
}

/** Runs `work` while sampling RSS every 100 ms; returns its duration, the CPU time of `pids` and the peak RSS. */
async function sampled(pids: readonly number[], work: () => Promise<void>): Promise<{ seconds: number; cpuSeconds: number; peakMiB: number }> {
  let peak = rssMiB(pids);
  const timer = setInterval(() => (peak = Math.max(peak, rssMiB(pids))), 100);
  const started = performance.now();
  const cpuBefore = cpuNs(pids);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  const cpuSeconds = (cpuNs(pids) - cpuBefore) / 1e9;
  return { seconds: (performance.now() - started) / 1000, cpuSeconds, peakMiB: Math.max(peak, rssMiB(pids)) };
}

interface MemorySample {
  t: number;
  thread: string;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/** Per thread: the last memoryUsage() sample before `from` and the largest values in [from, to]. */
function memoryReport(file: string, from: number, to: number): string[] {
  if (!existsSync(file)) return ['(no memory samples: was NODE_OPTIONS=--import honoured?)'];
  const samples = readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as MemorySample);
  const mib = (n: number) => (n / 1024 ** 2).toFixed(1);
  const lines: string[] = [];
  for (const thread of new Set(samples.map((s) => s.thread))) {
    const mine = samples.filter((s) => s.thread === thread);
    const idle = mine.filter((s) => s.t < from).at(-1);
    const during = mine.filter((s) => s.t >= from && s.t <= to);
    if (idle === undefined || during.length === 0) continue;
    const peak = (key: 'heapTotal' | 'heapUsed' | 'external' | 'arrayBuffers') => mib(Math.max(...during.map((s) => s[key])));
    lines.push(
      `${thread}: heapTotal ${mib(idle.heapTotal)} → ${peak('heapTotal')}, heapUsed ${mib(idle.heapUsed)} → ${peak('heapUsed')}, ` +
        `external ${mib(idle.external)} → ${peak('external')}, arrayBuffers ${mib(idle.arrayBuffers)} → ${peak('arrayBuffers')} MiB`,
    );
  }
  return lines;
}

function download(port: number, n: number): Promise<void> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: `/bytes/${n}`, agent: false }, (res) => {
      let got = 0;
      res.on('data', (c: Buffer) => (got += c.length));
      res.on('end', () => (got === n ? resolve() : reject(new Error(`download got ${got} of ${n} bytes`))));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

function upload(port: number, n: number): Promise<void> {
  const chunk = Buffer.alloc(64 * 1024);
  let left = n;
  const body = new Readable({
    read() {
      if (left === 0) return void this.push(null);
      const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= piece.length;
      this.push(piece);
    },
  });
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/upload', method: 'POST', agent: false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => (Number(text) === n ? resolve() : reject(new Error(`upstream counted ${text} of ${n} bytes`))));
    });
    req.on('error', reject);
    body.pipe(req);
  });
}

const SOAK_SLICES = 10;

/**
 * Sends `amount` requests in ten equal slices and returns the RSS after each: growth that
 * stops after the first slice (warm-up: compiled code, connection buffers) is not a leak.
 */
async function soak(port: number, amount: number, pids: readonly number[], afterSlice?: (index: number) => Promise<void>): Promise<number[]> {
  const marks: number[] = [];
  for (let i = 0; i < SOAK_SLICES; i++) {
    const slice = Math.floor((amount * (i + 1)) / SOAK_SLICES) - Math.floor((amount * i) / SOAK_SLICES);
    if (slice > 0) await autocannon({ url: `http://127.0.0.1:${port}/`, connections: 20, amount: slice });
    marks.push(rssMiB(pids));
    await afterSlice?.(i);
  }
  return marks;
}

/**
 * --memory: asks every sluice thread for a full GC (see peers/memory-probe.mjs) and returns
 * each worker thread's heap after it, in MiB.
 */
async function heapAfterFullGc(trigger: string, samples: string, round: number): Promise<string[]> {
  writeFileSync(trigger, String(round));
  await new Promise((resolve) => setTimeout(resolve, 1000));
  if (!existsSync(samples)) return [];
  return readFileSync(samples, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { thread: string; fullGc?: number; heapUsedAfterGc?: number })
    .filter((s) => s.fullGc === round && s.thread !== 'main')
    .map((s) => `${s.thread} ${(s.heapUsedAfterGc! / 1024 ** 2).toFixed(1)}`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-streaming-'));
  const upstreamPort = await freePort();
  const upstream = await startServer({
    name: 'stream-upstream',
    command: process.execPath,
    args: [join(import.meta.dirname, 'peers', 'stream-upstream.ts'), '--port', String(upstreamPort)],
    port: upstreamPort,
  });
  const port = await freePort();
  const config = join(dir, 'sluice.yaml');
  writeFileSync(
    config,
    `log_level: warn
listeners:
  - name: bench
    address: 127.0.0.1:${port}
    filters: [body]
    routes: [{ match: { prefix: / }, cluster: app }]
clusters:
  - { name: app, endpoints: [127.0.0.1:${upstreamPort}], timeout: 60s }
filters:
  # body-rewrite for a content type this traffic never has: its body callbacks run for every
  # chunk both ways and answer Continue. (A filter without body callbacks, like headers, would
  # not be called for the bodies at all.)
  - name: body
    module: ${join(ROOT, 'filters', 'build', 'body-rewrite.wasm')}
    configuration: { request: { replace: [[never-in-the-body, x]] }, response: { replace: [[never-in-the-body, x]] }, content_types: [application/x-never] }
`,
  );
  let sluice: RunningServer | null = null;
  // --memory: a preload in every sluice thread appends its memoryUsage() to this file.
  const memoryFile = join(dir, 'memory.jsonl');
  const gcTrigger = join(dir, 'full-gc');
  const probe = pathToFileURL(join(import.meta.dirname, 'peers', 'memory-probe.mjs')).href;
  const env = flags.memory
    ? { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --expose-gc --import=${probe}`.trim(), SLUICE_MEMORY_PROBE: memoryFile, SLUICE_MEMORY_PROBE_GC: gcTrigger }
    : process.env;
  try {
    sluice = await startServer({ name: 'sluice', command: process.execPath, args: [join(ROOT, 'bin', 'sluice.mjs'), 'run', '--config', config], port, env });
    const pids = processTree(sluice.pid);
    await autocannon({ url: `http://127.0.0.1:${port}/`, connections: 20, amount: 2000 }); // warm up: JIT, pools
    const idle = rssMiB(pids);
    const transfersFrom = Date.now();
    const gib = bytes / 1024 ** 3;
    const rows: Record<string, unknown>[] = [];
    const transfer = async (name: string, target: number, work: (p: number, n: number) => Promise<void>, measured: readonly number[]) => {
      const r = await sampled(measured, () => work(target, bytes));
      const viaSluice = measured.length > 0;
      rows.push({ name, secondsPerGiB: r.seconds / gib, cpuSecondsPerGiB: viaSluice ? r.cpuSeconds / gib : null, peakRssMiB: viaSluice ? r.peakMiB : null });
    };
    await transfer('download direct', upstreamPort, download, []);
    await transfer('download via sluice', port, download, pids);
    await transfer('upload direct', upstreamPort, upload, []);
    await transfer('upload via sluice', port, upload, pids);
    const afterTransfers = rssMiB(pids);
    const transfersTo = Date.now();
    const beforeSoak = rssMiB(pids);
    let marks: number[] = [];
    const heapAfterGc: string[][] = [];
    // --memory: a full GC after the first tenth and after the last, to see what survives them.
    const afterSlice = async (i: number) => {
      if (flags.memory && (i === 0 || i === SOAK_SLICES - 1)) heapAfterGc.push(await heapAfterFullGc(gcTrigger, memoryFile, heapAfterGc.length + 1));
    };
    const soakRun = await sampled(pids, async () => {
      marks = await soak(port, requests, pids, afterSlice);
    });
    const afterSoak = rssMiB(pids);
    const result = {
      date: new Date().toISOString(),
      command: `node bench/streaming.ts ${process.argv.slice(2).join(' ')}`.trim(),
      bytes,
      requests,
      rssIdleMiB: idle,
      transfers: rows,
      rssAfterTransfersMiB: afterTransfers,
      soak: { seconds: soakRun.seconds, rssBeforeMiB: beforeSoak, rssPeakMiB: soakRun.peakMiB, rssAfterMiB: afterSoak, rssAfterEachTenthMiB: marks, ...(flags.memory ? { workerHeapAfterFullGcMiB: heapAfterGc } : {}) },
    };
    console.log(`\n${(bytes / 1024 ** 2).toFixed(0)} MiB each way; sluice with one Continue filter; RSS of the whole sluice process\n`);
    console.log('| transfer | s/GiB | sluice CPU s/GiB | peak RSS MiB |\n| --- | ---: | ---: | ---: |');
    const cell = (value: unknown, digits: number) => (value === null ? '' : (value as number).toFixed(digits));
    for (const row of rows) {
      console.log(`| ${row.name} | ${cell(row.secondsPerGiB, 2)} | ${cell(row.cpuSecondsPerGiB, 2)} | ${cell(row.peakRssMiB, 0)} |`);
    }
    const peak = Math.max(...rows.map((r) => (r.peakRssMiB as number | null) ?? 0));
    console.log(`\nRSS: idle ${idle.toFixed(0)} MiB, peak during transfers ${peak.toFixed(0)} MiB (growth ${(peak - idle).toFixed(0)} MiB; target < 64), after ${afterTransfers.toFixed(0)} MiB`);
    console.log(`${requests} requests in ${soakRun.seconds.toFixed(1)} s: RSS ${beforeSoak.toFixed(0)} → peak ${soakRun.peakMiB.toFixed(0)} → ${afterSoak.toFixed(0)} MiB`);
    console.log(`  RSS after each tenth: ${marks.map((m) => m.toFixed(0)).join(', ')} MiB (from the first tenth to the end: ${(afterSoak - marks[0]!) >= 0 ? '+' : ''}${(afterSoak - marks[0]!).toFixed(0)} MiB)`);
    if (flags.memory) {
      console.log(`  heap after a full GC (MiB), after the first tenth: ${heapAfterGc[0]?.join(', ') || '?'}; at the end: ${heapAfterGc[1]?.join(', ') || '?'}`);
      console.log('  (with --memory these two full GCs also free garbage the RSS figures above would otherwise hold)');
      console.log('\nPer thread, idle → peak during the transfers:');
      for (const line of memoryReport(memoryFile, transfersFrom, transfersTo)) console.log(`  ${line}`);
    }
    const out = join(ROOT, 'bench', 'results');
    mkdirSync(out, { recursive: true });
    const file = join(out, `streaming-${result.date.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify(result, null, 2));
    console.log(`\nwrote ${file}`);
  } finally {
    await sluice?.stop();
    await upstream.stop();
  }
}

await main();
