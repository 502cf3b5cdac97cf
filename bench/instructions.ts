// `npm run bench:instructions`: CPU instructions per proxied request, counted by valgrind's
// callgrind. Time on a shared VM swings by ±15% from run to run; an instruction count does not,
// so ratios such as "sluice-0 ≤ 1.1× the minimal undici proxy" can be checked reliably.
//
// Per configuration: the upstream runs natively; the server runs under
// `valgrind --tool=callgrind --instr-atstart=no`, is warmed up with instrumentation off (fast),
// then instrumentation goes on and each round zeroes the counters, sends N requests one after
// another over one connection (one request per event-loop turn keeps the count repeatable),
// and dumps the counters: the dump's total ÷ N is the round's instructions per request. All
// threads of the process count (V8's background compiler and GC included).
//
// Rounds of a Node server differ when a TurboFan compile or a concurrent marking lands in one
// of them (V8's helper threads, in bursts), so the minimum is the headline (steady state) and
// the median stands beside it. Threads are dumped separately (--separate-threads=yes), and the
// serving thread alone (the event loop running the proxy) is reported too: it is steadier. So is
// the serving thread outside GC (callgrind-gc.ts): how often V8 scavenges under callgrind varies
// from run to run, by thousands of instructions per request.
//
// Flags: --only a,b --rounds N --requests N --connections N --cache-sim --warmup N --annotate
// --top N --compare a,b --out DIR (see --help)

import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { allConfigs, checkBuilt, ROOT, startUpstream, type BenchConfig } from './configs.ts';
import { benchFlags, numberFlag } from './flags.ts';
import { requestsRound, STALL_SECONDS, warmUp, type RequestsRound } from './load.ts';
import { processTree } from './proc.ts';
import { costChanges, parseAnnotateRow, type FunctionCost } from './callgrind-annotate.ts';
import { gcShare, type GcShare } from './callgrind-gc.ts';
import { addressCosts, parseCodeListings, profile, reportProfile, type Profile } from './instruction-profile.ts';
import { estimatedCycles, markdownTable, median } from './report.ts';
import type { RunningServer } from './servers.ts';

const DEFAULT_ROWS = ['undici', 'http-proxy', 'sluice-0', 'sluice-1-wat', 'sluice-1', 'sluice-3', 'nginx'];
/** `direct` is the upstream itself (not run under valgrind); worker rows only add threads. */
const measurable = (c: BenchConfig) => c.name !== 'direct' && !c.name.endsWith('-w2');

const flags = benchFlags(
  'bench:instructions',
  {
    only: { type: 'string' },
    rounds: { type: 'string' },
    requests: { type: 'string' },
    connections: { type: 'string' },
    'cache-sim': { type: 'boolean', default: false },
    'last-level': { type: 'string' },
    warmup: { type: 'string' },
    annotate: { type: 'boolean', default: false },
    top: { type: 'string' },
    compare: { type: 'string' },
    profile: { type: 'string' },
    out: { type: 'string' },
  },
  () => `Usage: npm run bench:instructions -- [flags]
  --only a,b      configurations (default ${DEFAULT_ROWS.join(',')};
                  known: ${allConfigs().filter(measurable).map((c) => c.name).join(', ')})
  --rounds N      measured rounds per configuration (default 5)
  --requests N    requests per round (default 3000)
  --connections N the round's requests over N concurrent connections (default 1:
                  sequential; more shows what batching under load changes)
  --cache-sim     also simulate the caches (callgrind --cache-sim=yes, the last level
                  sized like this CPU's L2) and report the serving thread's misses per
                  request in its cheapest round, and its estimated cycles (instructions
                  + 10 per L1 miss + 100 per L2 miss) against sluice-0's
  --last-level KIB --cache-sim with the simulated last level's size in KiB instead of
                  this CPU's L2 (rounded down to a power of two): what the same requests
                  would miss on a machine with a larger or smaller L2
  --warmup N      uninstrumented warm-up requests over 8 connections, in rounds of 10 000
                  over fresh connections (default 40000)
  --annotate      keep the callgrind dumps (and each server's perf map beside them) and
                  print the top functions by self instructions (with --cache-sim: by
                  estimated cycles) of each row's serving thread, in its cheapest round;
                  with both --compare rows measured, also the functions whose cost grew
                  most from the first to the second (by default where the filters' cost goes)
  --top N         how many functions --annotate prints per row and in the comparison
                  (default 15)
  --compare a,b   the two rows --annotate compares (default sluice-0,sluice-3; e.g.
                  undici,sluice-0 for what the bare proxy adds to the minimal one); both
                  must be among the rows measured
  --profile NAME  where the optimised JS function NAME (e.g. invoke, a host function
                  such as proxy_get_header_map_value) spends its instructions in each
                  row's serving thread, cheapest round: V8 prints the function's code
                  (--print-opt-code) and callgrind counts per instruction
                  (--dump-instr=yes), joined address by address; writes the annotated
                  listing to bench/results/profile-NAME-<timestamp>.txt
  --out DIR       where the JSON goes (default bench/results)
Needs valgrind (callgrind); without it, prints a line and exits 0.
`,
);

const count = (text: string | undefined, fallback: number, name: string): number => numberFlag('bench:instructions', name, text, fallback, 1, true);

const options = {
  only: flags.only?.split(',').map((s) => s.trim()).filter((s) => s !== '') ?? DEFAULT_ROWS,
  rounds: count(flags.rounds, 5, 'rounds'),
  requests: count(flags.requests, 3000, 'requests'),
  connections: count(flags.connections, 1, 'connections'),
  cacheSim: flags['cache-sim'] || flags['last-level'] !== undefined,
  lastLevelKiB: numberFlag('bench:instructions', 'last-level', flags['last-level'], 0, 64, true),
  warmup: count(flags.warmup, 40_000, 'warmup'),
  warmupConnections: 8,
  annotate: flags.annotate,
  top: count(flags.top, 15, 'top'),
  compare: compareArg(flags.compare),
  profile: flags.profile,
  out: resolve(flags.out ?? join(ROOT, 'bench', 'results')),
};

/** The two rows of --compare (default: the filters' cost over the bare proxy). */
function compareArg(text: string | undefined): readonly [string, string] {
  if (text === undefined) return ['sluice-0', 'sluice-3'];
  const rows = text.split(',').map((s) => s.trim());
  if (rows.length !== 2 || rows.some((r) => r === '')) {
    process.stderr.write(`bench:instructions: --compare takes two rows, a,b (got ${JSON.stringify(text)})\n`);
    process.exit(2);
  }
  return [rows[0]!, rows[1]!];
}

const log = (text: string) => process.stderr.write(`${text}\n`);

/** The tool's version line, or null when it cannot be run (callgrind_annotate exits 255 on --version). */
function toolVersion(tool: string): string | null {
  const run = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  return run.error === undefined ? `${run.stdout}${run.stderr}`.trim().split('\n')[0]! : null;
}

/** Runs callgrind_control on one valgrind process; it reports errors on stdout with status 0. */
function control(pid: number, ...args: string[]): void {
  const run = spawnSync('callgrind_control', [...args, String(pid)], { encoding: 'utf8' });
  const out = `${run.stdout ?? ''}${run.stderr ?? ''}`;
  if (run.error !== undefined || run.status !== 0 || /error/i.test(out)) {
    throw new Error(`callgrind_control ${args.join(' ')} ${pid} failed: ${run.error?.message ?? out.trim()}`);
  }
}

/** One thread's part of a dump (callgrind numbers a process's threads from 1). */
interface ThreadDump {
  thread: number;
  file: string;
  total: number;
  /** Every event's total by name (Ir, and the cache misses with --cache-sim). */
  events: Record<string, number>;
}

/**
 * The newest dump of one process in dir, from `--separate-threads=yes` files named
 * `<name>.<pid>.out.<part>-<thread>`: its part number and its threads, or null.
 */
function newestDump(dir: string, name: string, pid: number): { part: number; threads: ThreadDump[] } | null {
  const pattern = new RegExp(`^${name.replace(/[^\w]/g, '\\$&')}\\.${pid}\\.out\\.(\\d+)-(\\d+)$`);
  const found = readdirSync(dir).flatMap((file) => {
    const m = pattern.exec(file);
    return m === null ? [] : [{ part: Number(m[1]), thread: Number(m[2]), file: join(dir, file) }];
  });
  if (found.length === 0) return null;
  const part = Math.max(...found.map((f) => f.part));
  const threads: ThreadDump[] = [];
  for (const f of found.filter((f) => f.part === part).sort((a, b) => a.thread - b.thread)) {
    const events = dumpTotals(f.file);
    if (events === null) return null; // still being written
    threads.push({ thread: f.thread, file: f.file, total: events.Ir ?? 0, events });
  }
  return { part, threads };
}

/** A dump's totals by event name (its `events:` and `totals:` lines), or null while it is written. */
function dumpTotals(path: string): Record<string, number> | null {
  const text = readFileSync(path, 'latin1');
  const names = /^events:\s+(.+)$/m.exec(text)?.[1]?.trim().split(/\s+/);
  const totals = /^totals:\s+(.+)$/m.exec(text)?.[1]?.trim().split(/\s+/).map(Number);
  if (names === undefined || totals === undefined) return null;
  return Object.fromEntries(names.map((name, i) => [name, totals[i] ?? 0]));
}

/**
 * callgrind's --LL for a last level sized like this CPU's L2 (read from sysfs; 1 MiB when it
 * cannot be) or as --last-level says, 8-way, 64-byte lines: the cache a request's code and data
 * must stay in between requests. callgrind needs a power-of-two number of sets, so the size is
 * rounded down to one.
 */
function l2Option(): string {
  const bytes = options.lastLevelKiB > 0 ? options.lastLevelKiB * 1024 : l2Bytes();
  return `--LL=${2 ** Math.floor(Math.log2(bytes))},8,64`;
}

/** This CPU's L2 in bytes, from sysfs; 1 MiB when it cannot be read. */
function l2Bytes(): number {
  let bytes = 1 << 20;
  try {
    const base = '/sys/devices/system/cpu/cpu0/cache';
    for (const index of readdirSync(base).filter((d) => d.startsWith('index'))) {
      if (readFileSync(join(base, index, 'level'), 'utf8').trim() !== '2') continue;
      const size = /^(\d+)K$/.exec(readFileSync(join(base, index, 'size'), 'utf8').trim());
      if (size !== null) bytes = Number(size[1]) * 1024;
    }
  } catch {
    // no sysfs: keep 1 MiB
  }
  return bytes;
}

/** The cache events of --cache-sim, in callgrind's names, with what they count. */
const CACHE_EVENTS: ReadonlyArray<[string, string]> = [
  ['I1mr', 'L1i misses'],
  ['D1mr', 'L1d read misses'],
  ['D1mw', 'L1d write misses'],
  ['ILmr', 'L2 code misses'],
  ['DLmr', 'L2 data read misses'],
  ['DLmw', 'L2 data write misses'],
];

/** With --annotate: each row's functions and their cost per request (for the comparison below). */
const functionCosts = new Map<string, FunctionCost[]>();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Asks every process for a dump and waits for its files; returns each process's threads. */
async function dumpAll(dir: string, name: string, pids: readonly number[], seen: Map<number, number>) {
  const dumps: Array<{ pid: number; threads: ThreadDump[] }> = [];
  for (const pid of pids) {
    control(pid, '-d');
    // callgrind_control waits for the dump; the loop only guards against files still being written.
    for (let tries = 0; ; tries++) {
      const newest = newestDump(dir, name, pid);
      if (newest !== null && newest.part > (seen.get(pid) ?? 0)) {
        seen.set(pid, newest.part);
        dumps.push({ pid, threads: newest.threads });
        break;
      }
      if (tries === 200) throw new Error(`no new callgrind dump from pid ${pid} in ${dir}`);
      await sleep(50);
    }
  }
  return dumps;
}

/** Throws unless every answer of the round was a 2xx. Returns the answers counted. */
function allOk(round: RequestsRound, what: string): number {
  if (round.non2xx + round.errors + round.timeouts > 0 || round.ok === 0 || round.stalled) {
    const stall = round.stalled ? `, stopped after ${STALL_SECONDS} s without an answer` : '';
    throw new Error(`${what}: ${round.ok} 2xx, ${round.non2xx} other statuses, ${round.errors} errors, ${round.timeouts} timeouts${stall}`);
  }
  return round.ok;
}

interface TopFunction {
  /** Self instructions per request. */
  perRequest: number;
  /** Share of the thread's instructions. */
  percent: number;
  name: string;
  object: string;
  /** With --cache-sim: self estimated cycles per request (estimatedCycles of its own misses). */
  cycles?: number;
}

/** A V8 perf map (`--perf-basic-prof`): JIT code address ranges and their names, sorted. */
function readPerfMap(file: string): Array<[number, number, string]> {
  if (!existsSync(file)) return [];
  const entries: Array<[number, number, string]> = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
    if (m !== null) entries.push([parseInt(m[1]!, 16), parseInt(m[2]!, 16), m[3]!]);
  }
  return entries.sort((a, b) => a[0] - b[0]);
}

/** The name of the JIT code at `address`, or null. */
function jitName(map: Array<[number, number, string]>, address: number): string | null {
  let lo = 0;
  let hi = map.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (map[mid]![0] <= address) lo = mid + 1;
    else hi = mid - 1;
  }
  const entry = map[hi];
  return entry !== undefined && address < entry[0] + entry[1] ? entry[2] : null;
}

/**
 * Every function of a dump with its self cost per request, from callgrind_annotate's function
 * list, most costly first (by estimated cycles with --cache-sim, else by instructions). JIT code
 * appears there as bare addresses: named through the server's perf map when there is one
 * (several code objects of one function add up).
 */
function annotate(dump: ThreadDump, requests: number, perfMap: Array<[number, number, string]>): TopFunction[] {
  const events = options.cacheSim ? ['Ir', ...CACHE_EVENTS.map(([name]) => name)] : ['Ir'];
  const run = spawnSync('callgrind_annotate', ['--inclusive=no', '--threshold=100', `--show=${events.join(',')}`, '--sort=Ir', dump.file], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  if (run.error !== undefined || run.status !== 0) throw new Error(`callgrind_annotate failed: ${run.error?.message ?? run.stderr}`);
  const lines = run.stdout.split('\n');
  const start = lines.findIndex((l) => /\bfile:function\s*$/.test(l));
  const byName = new Map<string, TopFunction>();
  for (const line of lines.slice(start + 2)) {
    const row = parseAnnotateRow(line, events.length);
    if (row === null) break;
    let name = row.name;
    let object = basename(row.object === '' ? '???' : row.object);
    // callgrind marks a function's recursion levels with 'N (`0x…'2`): the same code.
    const address = /^0x([0-9a-f]+)(?:'\d+)?$/.exec(name);
    const jit = address === null ? null : jitName(perfMap, parseInt(address[1]!, 16));
    if (jit !== null) {
      name = jit;
      object = 'JIT';
    }
    const perRequest = row.counts.map((n) => n / requests);
    const misses = Object.fromEntries(events.slice(1).map((event, i) => [event, perRequest[i + 1]!]));
    const seen = byName.get(name) ?? { perRequest: 0, percent: 0, name, object, ...(options.cacheSim ? { cycles: 0 } : {}) };
    seen.perRequest += perRequest[0]!;
    seen.percent += (100 * row.counts[0]!) / dump.total;
    if (seen.cycles !== undefined) seen.cycles += estimatedCycles(perRequest[0]!, misses);
    byName.set(name, seen);
  }
  return [...byName.values()].sort((a, b) => (b.cycles ?? b.perRequest) - (a.cycles ?? a.perRequest));
}

/** A dump's estimated cycles per request with its collections left out. */
function cyclesOutsideGc(dump: ThreadDump, gc: GcShare, answered: number): number {
  const outside = (event: string) => ((dump.events[event] ?? 0) - (gc.events[event] ?? 0)) / answered;
  return estimatedCycles(outside('Ir'), Object.fromEntries(CACHE_EVENTS.map(([name]) => [name, outside(name)])));
}

/** Instructions in thousands. */
const k = (n: number | null | undefined) => (n === null || n === undefined || !Number.isFinite(n) ? 'n/a' : `${(n / 1000).toFixed(1)}k`);

interface RowResult {
  name: string;
  label: string;
  /** Why the row has no numbers (not available here, or it failed). */
  skipped: string | null;
  readyMs: number | null;
  /** Instructions per request (every thread), per round in order. */
  rounds: number[];
  min: number | null;
  median: number | null;
  max: number | null;
  /**
   * The serving thread's part, per round: the thread with the most instructions over all rounds
   * (the event loop that runs the proxy: the main thread, or sluice's worker thread). The rest is
   * the supervisor and V8's helper threads (TurboFan, concurrent marking), which come in bursts.
   */
  serving: number[];
  servingMin: number | null;
  servingMedian: number | null;
  /**
   * The serving thread without its garbage collections (callgrind-gc.ts), per round, and their
   * least: how often V8 scavenges under callgrind varies from run to run, the rest does not.
   */
  servingOutsideGc: number[];
  servingOutsideGcMin: number | null;
  /** The serving thread's scavenges per 1000 requests, per round. */
  scavengesPer1000: number[];
  /** With --annotate: the serving thread's top functions by self instructions, in its cheapest round. */
  top?: TopFunction[];
  /** With --cache-sim: the serving thread's cache misses per request (CACHE_EVENTS), in its cheapest round. */
  cacheMisses?: Record<string, number>;
  /** With --cache-sim: estimatedCycles of that round. */
  estimatedCycles?: number;
  /** With --cache-sim: estimatedCycles of the round least outside GC, its collections left out. */
  estimatedCyclesOutsideGc?: number;
}

function emptyRow(config: BenchConfig, skipped: string | null): RowResult {
  const nothing = { rounds: [], min: null, median: null, max: null, serving: [], servingMin: null, servingMedian: null, servingOutsideGc: [], servingOutsideGcMin: null, scavengesPer1000: [] };
  return { name: config.name, label: config.label, skipped, readyMs: null, ...nothing };
}

/**
 * --profile: the costliest optimised code object of `name` in a row's serving thread (V8's
 * listing joined with callgrind's per-instruction counts), as reportProfile prints it, with the
 * calls per request; or a line saying what is missing.
 */
function profileReport(row: string, name: string, codeFile: string, dumpFile: string, answered: number): string {
  const listings = parseCodeListings(readFileSync(codeFile, 'utf8'), name);
  if (listings.length === 0) return `${row}: V8 printed no optimised code named ${name} (not a function this row runs hot?)`;
  const dump = readFileSync(dumpFile, 'utf8');
  const profiles = listings.map((l) => profile(l, addressCosts(dump, l.start, l.start + l.size))).filter((p): p is Profile => p !== null);
  if (profiles.length === 0) return `${row}: none of ${name}'s optimised code ran while counted`;
  const p = profiles.reduce((a, b) => (b.entries * b.selfPerCall > a.entries * a.selfPerCall ? b : a));
  const perRequest = `${(p.entries / answered).toFixed(2)} calls per request`;
  return reportProfile(name, `${row}, serving thread, cheapest round; ${perRequest}`, p).trimEnd();
}

async function measureRow(config: BenchConfig, upstream: RunningServer, dir: string): Promise<RowResult> {
  const result = emptyRow(config, null);
  const valgrind = [
    'valgrind',
    '--tool=callgrind',
    '--instr-atstart=no',
    // V8 rewrites its JIT code in place: without this valgrind would run stale translations.
    '--smc-check=all-non-file',
    // One file per thread, so the serving thread can be told from V8's compiler and GC helpers.
    '--separate-threads=yes',
    ...(options.cacheSim ? ['--cache-sim=yes', l2Option()] : []),
    ...(options.profile !== undefined ? ['--dump-instr=yes'] : []),
    `--callgrind-out-file=${join(dir, `${config.name}.%p.out`)}`,
  ];
  log(`${config.name}: starting under callgrind`);
  // V8 prints optimised code through C stdio: to a pipe, what is still buffered at exit is lost.
  const codeFile = join(dir, `${config.name}.code.txt`);
  const codeFd = options.profile !== undefined ? openSync(codeFile, 'w') : undefined;
  const nodeFlags = options.profile !== undefined ? ['--print-opt-code', `--print-opt-code-filter=${options.profile}`, '--code-comments'] : [];
  const server = await config.start({ upstream, dir, wrap: valgrind, readyTimeoutMs: 180_000, perfMap: options.annotate, nodeFlags, stdoutFd: codeFd });
  let pids: number[] = [];
  let profiledDump: { file: string; answered: number } | null = null;
  try {
    result.readyMs = server.readyMs;
    log(`${config.name}: serving after ${(server.readyMs / 1000).toFixed(1)} s; warm-up ${options.warmup} requests`);
    await warmUp(server.port, options.warmupConnections, options.warmup, (round) => allOk(round, `${config.name} warm-up`));
    // Every valgrind process of the server: one for the rows here (nginx runs without its master
    // process under a wrapper), but a server that forks would have more.
    pids = processTree(server.pid);
    for (const pid of pids) control(pid, '-i', 'on');
    const seen = new Map<number, number>();
    // Per round: the requests answered and every thread's dump, keyed by pid and thread.
    const rounds: Array<{ answered: number; threads: Map<string, ThreadDump> }> = [];
    for (let round = 1; round <= options.rounds; round++) {
      for (const pid of pids) control(pid, '-z');
      const answered = allOk(await requestsRound(server.port, options.connections, options.requests), `${config.name} round ${round}`);
      const dumps = await dumpAll(dir, config.name, pids, seen);
      const threads = new Map(dumps.flatMap((d) => d.threads.map((t): [string, ThreadDump] => [`${d.pid}/${t.thread}`, t])));
      rounds.push({ answered, threads });
      const perRequest = [...threads.values()].reduce((sum, t) => sum + t.total, 0) / answered;
      result.rounds.push(perRequest);
      log(`${config.name}: round ${round}: ${k(perRequest)} instructions/request (${answered} requests)`);
    }
    const sums = new Map<string, number>();
    for (const r of rounds) for (const [key, t] of r.threads) sums.set(key, (sums.get(key) ?? 0) + t.total);
    const servingKey = [...sums].reduce((a, b) => (b[1] > a[1] ? b : a))[0];
    result.serving = rounds.map((r) => (r.threads.get(servingKey)?.total ?? 0) / r.answered);
    result.min = Math.min(...result.rounds);
    result.median = median(result.rounds);
    result.max = Math.max(...result.rounds);
    result.servingMin = Math.min(...result.serving);
    result.servingMedian = median(result.serving);
    log(`${config.name}: serving thread (${servingKey}): ${result.serving.map((n) => k(n)).join(', ')} instructions/request`);
    const gcs = rounds.map((r) => {
      const dump = r.threads.get(servingKey);
      return dump === undefined ? null : gcShare(readFileSync(dump.file, 'latin1'));
    });
    result.servingOutsideGc = rounds.map((r, i) => result.serving[i]! - (gcs[i]?.events.Ir ?? 0) / r.answered);
    result.servingOutsideGcMin = Math.min(...result.servingOutsideGc);
    result.scavengesPer1000 = rounds.map((r, i) => (1000 * (gcs[i]?.scavenges ?? 0)) / r.answered);
    log(`${config.name}: serving thread outside GC: ${result.servingOutsideGc.map((n) => k(n)).join(', ')} instructions/request; scavenges per 1000 requests: ${result.scavengesPer1000.map((n) => n.toFixed(1)).join(', ')}`);
    const cheapest = rounds[result.serving.indexOf(result.servingMin)]!;
    const servingDump = cheapest.threads.get(servingKey);
    if (servingDump !== undefined) profiledDump = { file: servingDump.file, answered: cheapest.answered };
    if (options.cacheSim) {
      const events = servingDump?.events ?? {};
      result.cacheMisses = Object.fromEntries(CACHE_EVENTS.map(([name]) => [name, (events[name] ?? 0) / cheapest.answered]));
      if (result.servingMin !== null) result.estimatedCycles = estimatedCycles(result.servingMin, result.cacheMisses);
      const leanest = result.servingOutsideGc.indexOf(result.servingOutsideGcMin);
      const lean = rounds[leanest]?.threads.get(servingKey);
      const gc = gcs[leanest];
      if (lean !== undefined && gc != null) result.estimatedCyclesOutsideGc = cyclesOutsideGc(lean, gc, rounds[leanest]!.answered);
    }
    if (options.annotate) {
      if (servingDump !== undefined) {
        // Read before the server stops, while the map still describes its code.
        const perfMap = readPerfMap(`/tmp/perf-${servingKey.split('/')[0]}.map`);
        const all = annotate(servingDump, cheapest.answered, perfMap);
        functionCosts.set(config.name, all.map((f) => ({ name: f.name, instructions: f.perRequest, cycles: f.cycles ?? f.perRequest })));
        result.top = all.slice(0, options.top);
      }
    }
  } finally {
    await server.stop();
    if (codeFd !== undefined) closeSync(codeFd);
    // The maps move next to the kept dumps: `callgrind_annotate --tree=caller` needs them to name JIT code.
    if (options.annotate) {
      for (const pid of pids) {
        const map = `/tmp/perf-${pid}.map`;
        if (existsSync(map)) copyFileSync(map, join(dir, `${config.name}.${pid}.perf.map`));
        rmSync(map, { force: true });
      }
    }
  }
  if (options.profile !== undefined && profiledDump !== null) {
    // After the server stopped: its code listing is complete once it has exited.
    log(profileReport(config.name, options.profile, codeFile, profiledDump.file, profiledDump.answered));
  }
  return result;
}

const times = (a: number | null | undefined, b: number | null | undefined) =>
  a === null || a === undefined || b === null || b === undefined || b === 0 ? '' : `${(a / b).toFixed(2)}×`;

function resultTable(results: readonly RowResult[]): string {
  const get = (name: string) => results.find((r) => r.name === name && r.skipped === null);
  const und = get('undici');
  const s0 = get('sluice-0');
  const head = [
    'config',
    'min instr/req',
    'median',
    'max',
    '÷ undici (min)',
    '÷ undici (median)',
    '÷ sluice-0 (min)',
    '÷ sluice-0 (median)',
    'serving thread min',
    'serving thread median',
    'serving ÷ undici (min)',
    'serving outside GC (min)',
    'scavenges per 1000 requests',
  ];
  const rows = results.map((r) =>
    r.skipped !== null
      ? [r.name, `skipped: ${r.skipped}`, ...head.slice(2).map(() => '')]
      : [
          r.name,
          k(r.min),
          k(r.median),
          k(r.max),
          times(r.min, und?.min),
          times(r.median, und?.median),
          times(r.min, s0?.min),
          times(r.median, s0?.median),
          k(r.servingMin),
          k(r.servingMedian),
          times(r.servingMin, und?.servingMin),
          k(r.servingOutsideGcMin),
          r.scavengesPer1000.map((n) => n.toFixed(1)).join(', '),
        ],
  );
  return markdownTable(head, rows);
}

/** The statistics a derived figure is computed from, each on its own. */
const STATS = ['min', 'median', 'servingMin', 'servingMedian', 'servingOutsideGcMin'] as const;
type Stat = (typeof STATS)[number];

interface Derived {
  name: string;
  unit: 'ratio' | 'instructions';
  /** The figure from each statistic (null when a row it needs was not measured). */
  values: Record<Stat, number | null>;
}

function derive(results: readonly RowResult[]): Derived[] {
  const get = (name: string) => results.find((r) => r.name === name && r.skipped === null);
  const figure = (name: string, unit: Derived['unit'], a: string, b: string, f: (x: number, y: number) => number): Derived => {
    const values = Object.fromEntries(
      STATS.map((stat) => {
        const x = get(a)?.[stat] ?? null;
        const y = get(b)?.[stat] ?? null;
        return [stat, x === null || y === null ? null : f(x, y)];
      }),
    ) as Record<Stat, number | null>;
    return { name, unit, values };
  };
  const minus = (x: number, y: number) => x - y;
  return [
    figure('sluice-0 ÷ undici (target ≤ 1.1×)', 'ratio', 'sluice-0', 'undici', (x, y) => x / y),
    figure('1 filter: sluice-1 − sluice-0', 'instructions', 'sluice-1', 'sluice-0', minus),
    figure('1 WAT filter: sluice-1-wat − sluice-0', 'instructions', 'sluice-1-wat', 'sluice-0', minus),
    figure('1 filter doing nothing: sluice-1-noop − sluice-0', 'instructions', 'sluice-1-noop', 'sluice-0', minus),
    figure('per filter: (sluice-3 − sluice-0) ÷ 3', 'instructions', 'sluice-3', 'sluice-0', (x, y) => (x - y) / 3),
  ];
}

function derivedLines(derived: readonly Derived[]): string {
  const show = (d: Derived, stat: Stat) => {
    const n = d.values[stat];
    return n === null ? 'n/a' : d.unit === 'ratio' ? `${n.toFixed(2)}×` : `${n >= 0 ? '+' : ''}${k(n)}`;
  };
  return derived
    .map((d) => `- ${d.name}: all threads ${show(d, 'min')} (min), ${show(d, 'median')} (median); ` +
      `serving thread ${show(d, 'servingMin')} (min), ${show(d, 'servingMedian')} (median), ${show(d, 'servingOutsideGcMin')} (outside GC, min)`)
    .join('\n');
}

/** With --cache-sim: the serving thread's misses and estimated cycles per request, one row per configuration. */
function cacheTable(results: readonly RowResult[]): string {
  const rows = results.filter((r) => r.cacheMisses !== undefined);
  if (rows.length === 0) return '';
  const base = rows.find((r) => r.name === 'sluice-0');
  const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? '' : `${(a / b).toFixed(3)}×`);
  const head = ['config (serving thread, cheapest round)', 'instr/req', ...CACHE_EVENTS.map(([, what]) => what), 'est. cycles/req', '÷ sluice-0', 'outside GC', '÷ sluice-0'];
  const body = rows.map((r) => [
    r.name,
    k(r.servingMin),
    ...CACHE_EVENTS.map(([name]) => r.cacheMisses![name]!.toFixed(0)),
    k(r.estimatedCycles),
    ratio(r.estimatedCycles, base?.estimatedCycles),
    k(r.estimatedCyclesOutsideGc),
    ratio(r.estimatedCyclesOutsideGc, base?.estimatedCyclesOutsideGc),
  ]);
  return (
    `Simulated cache misses per request (${l2Option()}); estimated cycles = instructions + 10 × L1 misses + 100 × L2 misses;\n` +
    `outside GC: the round least outside GC, its collections left out:\n\n${markdownTable(head, body)}\n\n`
  );
}

function topLines(results: readonly RowResult[]): string {
  const parts: string[] = [];
  const short = (name: string) => (name.length > 110 ? `${name.slice(0, 107)}...` : name);
  for (const r of results) {
    if (r.top === undefined) continue;
    const order = options.cacheSim ? 'self estimated cycles (first column; instructions beside it)' : 'self instructions';
    parts.push(`${r.name}: serving thread's top functions by ${order} per request, cheapest round (JIT code named from the perf map; Node-based rows)`);
    for (const f of r.top) {
      const cycles = f.cycles === undefined ? '' : `${f.cycles.toFixed(0).padStart(7)}  `;
      parts.push(`  ${cycles}${f.perRequest.toFixed(0).padStart(7)}  ${f.percent.toFixed(2).padStart(5)}%  ${short(f.name)}  [${f.object}]`);
    }
    parts.push('');
  }
  const comparison = costByFunction();
  if (comparison !== null) {
    const [a, b] = options.compare;
    const unit = options.cacheSim ? 'estimated cycles' : 'instructions';
    // Without --cache-sim a function's cycles are its instructions: one column says it all.
    const columns = (c: { cycles: number; instructions: number }) =>
      options.cacheSim ? `${signed(c.cycles).padStart(7)}  ${signed(c.instructions).padStart(7)}` : signed(c.instructions).padStart(7);
    parts.push(
      `Where ${b} spends more than ${a}: the functions whose self ${unit} per request grew the most${options.cacheSim ? ' (estimated cycles, then instructions)' : ''}.`,
      'TurboFan inlines differently in each row, so part of a function\'s change can be its caller\'s; the total is exact.',
    );
    for (const c of comparison.top) parts.push(`  ${columns(c)}  ${short(c.name)}`);
    parts.push(`  ${columns(comparison.total)}  total over every function`, '');
  }
  return parts.join('\n');
}

const signed = (n: number) => `${n >= 0 ? '+' : ''}${n.toFixed(0)}`;

/** The per-function comparison of the --compare rows, when --annotate measured both. */
function costByFunction(): ReturnType<typeof costChanges> | null {
  const a = functionCosts.get(options.compare[0]);
  const b = functionCosts.get(options.compare[1]);
  return a === undefined || b === undefined ? null : costChanges(a, b, options.top);
}

async function main(): Promise<void> {
  const valgrindVersion = toolVersion('valgrind');
  if (valgrindVersion === null || toolVersion('callgrind_control') === null) {
    process.stdout.write('bench:instructions: valgrind (with callgrind_control) is not installed; nothing measured\n');
    return;
  }
  if (options.annotate && toolVersion('callgrind_annotate') === null) throw new Error('--annotate needs callgrind_annotate');
  checkBuilt();
  const configs = allConfigs().filter(measurable);
  const unknown = options.only.filter((n) => !configs.some((c) => c.name === n));
  if (unknown.length > 0) throw new Error(`cannot measure ${unknown.join(', ')} (known: ${configs.map((c) => c.name).join(', ')})`);
  const chosen = options.only.map((n) => configs.find((c) => c.name === n)!);
  if (flags.compare !== undefined) {
    if (!options.annotate) throw new Error('--compare needs --annotate');
    const missing = options.compare.filter((row) => !options.only.includes(row));
    if (missing.length > 0) throw new Error(`--compare names ${missing.join(', ')}, which --only does not measure`);
  }

  const dir = mkdtempSync(join(tmpdir(), 'sluice-instructions-'));
  const upstream = await startUpstream();
  const results: RowResult[] = [];
  let failures = 0;
  try {
    for (const config of chosen) {
      if (config.skip !== null) {
        log(`${config.name}: skipped (${config.skip})`);
        results.push(emptyRow(config, config.skip));
        continue;
      }
      try {
        results.push(await measureRow(config, upstream, dir));
      } catch (err) {
        failures++;
        const message = (err as Error).message;
        log(`${config.name}: FAILED: ${message}`);
        results.push(emptyRow(config, `failed: ${message.split('\n')[0]}`));
      }
    }
  } finally {
    await upstream.stop();
    if (options.annotate) log(`callgrind dumps kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }

  const date = new Date().toISOString();
  const derived = derive(results);
  const report = {
    version: 1,
    date,
    command: `npm run bench:instructions${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine: { cpu: cpus()[0]?.model ?? 'unknown', node: process.version, valgrind: valgrindVersion },
    options,
    unit: 'instructions per request (callgrind Ir): all threads of the server process, and its serving thread alone',
    results,
    derived,
    ...(functionCosts.size > 0 ? { costByFunction: { compared: options.compare, ...costByFunction() } } : {}),
  };
  mkdirSync(options.out, { recursive: true });
  const jsonFile = join(options.out, `instructions-${date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(
    `\nInstructions per request (thousands), ${options.rounds} rounds of ${options.requests} requests each, ${options.connections === 1 ? 'sequential' : `over ${options.connections} connections`}.\n` +
      'All threads of the server; min = steady state (rounds without a burst of TurboFan compiling or\n' +
      'concurrent marking in V8\'s helper threads), median beside it. The serving thread is the event\n' +
      'loop that runs the proxy, without those helpers; outside GC, without its garbage collections\n' +
      '(how often V8 scavenges under callgrind varies from run to run): the steadiest figure.\n\n' +
      `${resultTable(results)}\n\n${derivedLines(derived)}\n\n${cacheTable(results)}${topLines(results)}` +
      `wrote ${relative(process.cwd(), jsonFile)}\n`,
  );
  if (failures > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:instructions: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
