// `npm run bench`: starts an upstream and every configuration in bench/configs.ts as child
// processes, drives load at each, and reports requests/s (median of the rounds), p50/p99 latency
// at a fixed rate below saturation, the proxy's CPU µs per request and peak RSS, with ratios
// against sluice-0 and http-proxy. Writes bench/results/<timestamp>.json and latest.svg.
//
// Rounds are interleaved (round 1 of every configuration, then round 2, ...), so a machine that
// gets slower or faster during the run shifts every configuration alike.
//
// The comparisons the targets rest on (sluice-3 against sluice-0, sluice-0 against the undici
// peer, sluice-1 against sluice-0) are then measured again in back-to-back pairs of short rounds,
// their order alternating, and summarized by the median of the per-pair ratios: on a noisy
// machine that is what resolves a 10 % difference (docs/RATIONALE.md).
//
// Each configuration is first warmed up with requests over several sets of fresh connections,
// until V8 has settled its code (see WARM_UP_ROUND_REQUESTS in load.ts).
//
// Flags: --rounds N --duration S --warmup N --connections N --latency-duration S --rate RPS
//        --wrk-duration S --no-wrk --pairs N --pair-duration S --only a,b --quick --out DIR
//        --cpu-prof DIR

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { allConfigs, checkBuilt, ROOT, startUpstream, type BenchConfig } from './configs.ts';
import { benchFlags, numberFlag } from './flags.ts';
import { autocannonRound, findWrk, paced, requestsRound, STALL_SECONDS, warmUp, wrkRound, type RequestsRound, type ThroughputRound } from './load.ts';
import { cpuNs, cpuNsByThread, peakRssKiB } from './proc.ts';
import { checkTargets, median, pairedLines, summarizePairs, svgChart, table, targetLines, type BenchReport, type ConfigResult, type Measured, type PairedResult, type PairedRound } from './report.ts';
import type { RunningServer } from './servers.ts';

/** The row pairs measured back to back `--pairs` times, [a, b]: the targets' comparisons first. */
const PAIRED_COMPARISONS: ReadonlyArray<readonly [string, string]> = [
  ['sluice-3', 'sluice-0'],
  ['sluice-0', 'undici'],
  ['sluice-1', 'sluice-0'],
  ['sluice-3', 'http-proxy'],
  // Not targets: what Node's code on huge pages changes (only when those rows run).
  ['sluice-0-largepages', 'sluice-0'],
  ['sluice-3-largepages', 'sluice-3'],
];

const flags = benchFlags(
  'bench',
  {
    rounds: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    'latency-duration': { type: 'string' },
    rate: { type: 'string' },
    'wrk-duration': { type: 'string' },
    'no-wrk': { type: 'boolean', default: false },
    pairs: { type: 'string' },
    'pair-duration': { type: 'string' },
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    'cpu-prof': { type: 'string' },
  },
  () => `Usage: npm run bench -- [flags]
  --rounds N             measured rounds per configuration (default 3; --quick 1)
  --duration S           seconds per autocannon round (default 3; --quick 1; autocannon
                         rounds it up to whole seconds)
  --warmup N             unmeasured requests first, in rounds of 10 000 over fresh
                         connections; 0 for none (default 60 000; --quick 2 000)
  --connections N        concurrent connections (default 32)
  --latency-duration S   seconds of the fixed-rate latency round (default 3; --quick 1)
  --rate RPS             rate of the latency round (default: half the slowest configuration's rps)
  --wrk-duration S       seconds per wrk round when wrk is on PATH (default 2)
  --no-wrk               do not use wrk even if it is installed (--quick implies it)
  --pairs N              back-to-back pairs per comparison (${PAIRED_COMPARISONS.map(([a, b]) => `${a} vs ${b}`).join(', ')}),
                         with wrk when it is on PATH; 0 for none (default 8; --quick 0)
  --pair-duration S      seconds per round of a pair (default 2)
  --only a,b             only these configurations (${allConfigs().map((c) => c.name).join(', ')})
  --out DIR              where the JSON and SVG go (default bench/results)
  --cpu-prof DIR         run the Node.js servers with --cpu-prof, writing profiles under DIR
`,
);

const num = (text: string | undefined, fallback: number, name: string, min?: number): number => numberFlag('bench', name, text, fallback, min);

const quick = flags.quick;
const options = {
  rounds: Math.round(num(flags.rounds, quick ? 1 : 3, 'rounds', 1)),
  duration: num(flags.duration, quick ? 1 : 3, 'duration'),
  warmup: Math.round(num(flags.warmup, quick ? 2_000 : 60_000, 'warmup', 0)),
  connections: Math.round(num(flags.connections, 32, 'connections', 1)),
  latencyDuration: num(flags['latency-duration'], quick ? 1 : 3, 'latency-duration'),
  rate: flags.rate === undefined ? null : num(flags.rate, 0, 'rate'),
  wrkDuration: num(flags['wrk-duration'], 2, 'wrk-duration'),
  wrk: !flags['no-wrk'] && !quick && findWrk() !== null,
  pairs: Math.round(num(flags.pairs, quick ? 0 : 8, 'pairs', 0)),
  pairDuration: num(flags['pair-duration'], 2, 'pair-duration'),
  only: flags.only?.split(',').map((s) => s.trim()).filter((s) => s !== '') ?? null,
  out: resolve(flags.out ?? join(ROOT, 'bench', 'results')),
  cpuProf: flags['cpu-prof'] === undefined ? null : resolve(flags['cpu-prof']),
};

const log = (text: string) => process.stderr.write(`${text}\n`);

/**
 * Requests sent just before each measured round. Rounds are interleaved, so each server idles
 * while the others are measured, and an idle Node.js process (V8's memory reducer) throws away
 * compiled code: the next round would measure recompiling (docs/benchmarks.md, "Warm-up").
 */
const REWARM_REQUESTS = 5_000;

async function rewarm(live: Live): Promise<void> {
  const amount = Math.min(options.warmup, REWARM_REQUESTS);
  if (amount > 0) stalledWarning(live.config.name, await requestsRound(live.server.port, options.connections, amount));
}

/** A warm-up round that stalled is reported and the run goes on: the measured rounds have their own end. */
function stalledWarning(name: string, round: RequestsRound): void {
  if (round.stalled) log(`${name}: warm-up round stopped after ${STALL_SECONDS} s without an answer (${round.ok} 2xx answered before)`);
}

interface Live {
  config: BenchConfig;
  server: RunningServer;
  result: ConfigResult;
  autocannon: Measured['rounds'];
  wrk: Measured['rounds'];
}

/** Runs `drive` while reading the CPU of the server and of the upstream before and after. */
async function measure(live: Live, upstream: RunningServer, drive: () => Promise<ThroughputRound>) {
  const s0 = cpuNs(live.server.pids);
  const h0 = helperNs(live.server.pids);
  const u0 = cpuNs(upstream.pids);
  const round = await drive();
  const s1 = cpuNs(live.server.pids);
  const h1 = helperNs(live.server.pids);
  const u1 = cpuNs(upstream.pids);
  const completed = round.ok + round.failed;
  if (round.failed > 0) log(`  ${live.config.name}: ${round.failed} requests failed in this round`);
  return {
    ...round,
    cpuUsPerReq: (s1 - s0) / 1000 / completed,
    v8HelperUsPerReq: (h1 - h0) / 1000 / completed,
    upstreamCpuUsPerReq: (u1 - u0) / 1000 / completed,
  };
}

/** CPU of V8's helper threads (concurrent GC and compilation): a measure of allocation pressure. */
function helperNs(pids: readonly number[]): number {
  return cpuNsByThread(pids).get('V8Worker') ?? 0;
}

function summarize(rounds: Measured['rounds']): Measured | null {
  if (rounds.length === 0) return null;
  return {
    rounds,
    rps: median(rounds.map((r) => r.rps)),
    cpuUsPerReq: median(rounds.map((r) => r.cpuUsPerReq)),
    v8HelperUsPerReq: median(rounds.map((r) => r.v8HelperUsPerReq)),
    upstreamCpuUsPerReq: median(rounds.map((r) => r.upstreamCpuUsPerReq)),
  };
}

/**
 * The target comparisons, each in `options.pairs` back-to-back pairs of rounds: a then b, then b
 * then a, and so on, so neither row always runs on the heels of the other (the upstream, say,
 * collecting the garbage of the round before).
 */
async function measurePairs(live: readonly Live[], upstream: RunningServer): Promise<PairedResult[]> {
  const out: PairedResult[] = [];
  if (options.pairs === 0) return out;
  const tool = options.wrk ? 'wrk' : 'autocannon';
  const drive = (l: Live) => () =>
    tool === 'wrk' ? wrkRound(l.server.port, options.connections, options.pairDuration) : autocannonRound(l.server.port, options.connections, options.pairDuration);
  for (const [aName, bName] of PAIRED_COMPARISONS) {
    const a = live.find((l) => l.config.name === aName);
    const b = live.find((l) => l.config.name === bName);
    if (a === undefined || b === undefined) continue;
    const rounds: PairedRound[] = [];
    for (let i = 0; i < options.pairs; i++) {
      const first = i % 2 === 0 ? 'a' : 'b';
      const order = first === 'a' ? [a, b] : [b, a];
      const measured = [];
      for (const l of order) {
        await rewarm(l);
        measured.push(await measure(l, upstream, drive(l)));
      }
      const [ra, rb] = first === 'a' ? measured : measured.reverse();
      rounds.push({ a: { rps: ra!.rps, cpuUsPerReq: ra!.cpuUsPerReq }, b: { rps: rb!.rps, cpuUsPerReq: rb!.cpuUsPerReq }, first });
      const silent = ra!.rps === 0 ? aName : rb!.rps === 0 ? bName : null; // the rule summarizePairs leaves pairs out by
      log(
        silent !== null
          ? `pair ${i + 1} ${aName} ÷ ${bName}: left out, ${silent} answered nothing in its round`
          : `pair ${i + 1} ${aName} ÷ ${bName}: ${(ra!.rps / rb!.rps).toFixed(2)}× rps, ${(ra!.cpuUsPerReq / rb!.cpuUsPerReq).toFixed(2)}× CPU/req (${tool})`,
      );
    }
    out.push(summarizePairs(aName, bName, tool, options.pairDuration, rounds));
  }
  return out;
}

function emptyResult(config: BenchConfig, skipped: string | null): ConfigResult {
  return { name: config.name, label: config.label, skipped, readyMs: null, autocannon: null, wrk: null, latency: null, peakRssMiB: null };
}

async function main(): Promise<void> {
  checkBuilt();
  const configs = allConfigs();
  if (options.only !== null) {
    const unknown = options.only.filter((n) => !configs.some((c) => c.name === n));
    if (unknown.length > 0) throw new Error(`unknown configuration ${unknown.join(', ')} (known: ${configs.map((c) => c.name).join(', ')})`);
  }
  const chosen = configs.filter((c) => options.only === null || options.only.includes(c.name));
  const loadBefore = loadavg()[0]!;
  // Read before the run: the checkout may change while it runs (a long one takes 15 minutes).
  const startedBuild = build();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  if (options.cpuProf !== null) mkdirSync(options.cpuProf, { recursive: true });
  const upstream = await startUpstream();
  const results: ConfigResult[] = [];
  const live: Live[] = [];
  try {
    // Start one at a time, so each start-up time is measured on an otherwise idle machine.
    for (const config of chosen) {
      if (config.skip !== null) {
        log(`${config.name}: skipped (${config.skip})`);
        results.push(emptyResult(config, config.skip));
        continue;
      }
      let server: RunningServer;
      try {
        server = await config.start({ upstream, dir, ...(options.cpuProf === null ? {} : { cpuProfDir: options.cpuProf }) });
      } catch (err) {
        log(`${config.name}: failed to start: ${(err as Error).message}`);
        results.push(emptyResult(config, `failed to start: ${(err as Error).message.split('\n')[0]}`));
        continue;
      }
      const result = emptyResult(config, null);
      result.readyMs = config.name === 'direct' ? null : server.readyMs;
      results.push(result);
      live.push({ config, server, result, autocannon: [], wrk: [] });
      log(`${config.name}: serving after ${server.readyMs.toFixed(0)} ms`);
    }

    for (const l of live) {
      if (options.warmup === 0) break;
      log(`${l.config.name}: warm-up, ${options.warmup} requests`);
      await warmUp(l.server.port, options.connections, options.warmup, (round) => stalledWarning(l.config.name, round));
    }
    for (let round = 1; round <= options.rounds; round++) {
      for (const l of live) {
        await rewarm(l);
        const r = await measure(l, upstream, () => autocannonRound(l.server.port, options.connections, options.duration));
        l.autocannon.push(r);
        log(`${l.config.name}: autocannon round ${round}: ${r.rps.toFixed(0)} rps, ${r.cpuUsPerReq.toFixed(1)} µs CPU/req`);
      }
    }
    if (options.wrk) {
      for (let round = 1; round <= options.rounds; round++) {
        for (const l of live) {
          await rewarm(l);
          const r = await measure(l, upstream, () => wrkRound(l.server.port, options.connections, options.wrkDuration));
          l.wrk.push(r);
          log(`${l.config.name}: wrk round ${round}: ${r.rps.toFixed(0)} rps, ${r.cpuUsPerReq.toFixed(1)} µs CPU/req`);
        }
      }
    }
    for (const l of live) {
      l.result.autocannon = summarize(l.autocannon);
      l.result.wrk = summarize(l.wrk);
    }
    const paired = await measurePairs(live, upstream);

    // The latency rate: half of what the slowest configuration managed, unless given.
    const slowest = Math.min(...live.map((l) => l.result.autocannon?.rps ?? Number.POSITIVE_INFINITY));
    const rate = options.rate ?? (Number.isFinite(slowest) ? Math.max(100, Math.floor(slowest / 2 / 100) * 100) : null);
    if (rate !== null) {
      for (const l of live) {
        await rewarm(l);
        const before = cpuNs(l.server.pids);
        const lat = await paced(l.server.port, rate, options.latencyDuration, options.connections);
        const cpu = (cpuNs(l.server.pids) - before) / 1000 / Math.max(1, lat.completed);
        l.result.latency = { rateRps: rate, sentRps: lat.sentRps, p50Us: lat.p50Us, p99Us: lat.p99Us, cpuUsPerReq: cpu, failed: lat.failed };
        log(`${l.config.name}: at ${rate} rps: p50 ${lat.p50Us.toFixed(0)} µs, p99 ${lat.p99Us.toFixed(0)} µs, ${cpu.toFixed(1)} µs CPU/req`);
      }
    }
    for (const l of live) l.result.peakRssMiB = peakRssKiB(l.server.pids) / 1024;

    const report: BenchReport = {
      version: 1,
      date: new Date().toISOString(),
      command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      machine: { ...machine(), loadAvg1m: { before: loadBefore, after: loadavg()[0]! } },
      options,
      build: startedBuild,
      rateRps: rate,
      results,
      paired,
      targets: checkTargets(results, paired),
    };
    mkdirSync(options.out, { recursive: true });
    const stamp = report.date.replace(/[:.]/g, '-');
    const jsonFile = join(options.out, `${stamp}.json`);
    writeFileSync(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(join(options.out, 'latest.svg'), svgChart(report));
    const pairedText = paired.length === 0 ? '' : `Back-to-back pairs (a ÷ b):\n${pairedLines(paired)}\n\n`;
    process.stdout.write(`\n${table(results, rate)}\n\n${pairedText}Targets:\n${targetLines(report.targets)}\n\n`);
    process.stdout.write(`wrote ${relative(process.cwd(), jsonFile)} and ${relative(process.cwd(), join(options.out, 'latest.svg'))}\n`);
  } finally {
    for (const l of live) if (l.server !== upstream) await l.server.stop();
    await upstream.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What `git` says of the checkout the harness runs from: the build a report measured. */
function build(): BenchReport['build'] {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  const head = git('rev-parse', '--short', 'HEAD');
  if (head.status !== 0) return null;
  const status = git('status', '--porcelain', '--untracked-files=no');
  return { commit: head.stdout.trim(), dirty: status.status !== 0 || status.stdout.trim() !== '' };
}

function machine(): BenchReport['machine'] {
  let kernel = release();
  try {
    kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    // not Linux: os.release() it is
  }
  return {
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    kernel,
    wrk: findWrk() !== null,
    nginx: allConfigs().some((c) => c.name === 'nginx' && c.skip === null),
  };
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
