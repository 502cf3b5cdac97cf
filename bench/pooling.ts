// Several runs of `npm run bench` read as one: on a shared machine a single run's eight pairs
// can land either side of a target by noise alone (docs/benchmarks.md), so the verdict is taken
// over every pair of the runs together. The pairs' rounds are pooled per comparison and
// summarized as one run summarizes its own; each row's interleaved figures become the median
// of the runs' medians, which is context for the targets, as in a single run.

import { checkTargets, median, summarizePairs, type BenchReport, type ConfigResult, type Measured, type PairedResult, type Target } from './report.ts';

export interface PooledRun {
  file: string;
  date: string;
  command: string;
  cpu: string;
  /** The commit measured, `+` when tracked files differed from it; null when the report does not say. */
  build: string | null;
  /** The undici peer's CPU per request in the run's autocannon rounds: how fast the machine was. */
  undiciUsPerReq: number | null;
}

export interface Pooled {
  runs: PooledRun[];
  results: ConfigResult[];
  paired: PairedResult[];
  targets: Target[];
  /** Why the runs may not belong together (different builds, CPUs, Node.js versions or connection counts); empty when they do. */
  warnings: string[];
}

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

function pooledMeasured(all: Array<Measured | null>): Measured | null {
  const ms = all.filter((m): m is Measured => m !== null);
  if (ms.length === 0) return null;
  const mid = (pick: (m: Measured) => number) => median(ms.map(pick));
  return { rounds: [], rps: mid((m) => m.rps), cpuUsPerReq: mid((m) => m.cpuUsPerReq), v8HelperUsPerReq: mid((m) => m.v8HelperUsPerReq), upstreamCpuUsPerReq: mid((m) => m.upstreamCpuUsPerReq) };
}

/** Each row that ran in any of the reports, its figures the median over the runs it ran in. */
function pooledResults(reports: readonly BenchReport[]): ConfigResult[] {
  const names = [...new Set(reports.flatMap((r) => r.results.map((c) => c.name)))];
  const out: ConfigResult[] = [];
  for (const name of names) {
    const rows = reports.map((r) => r.results.find((c) => c.name === name && c.skipped === null)).filter((c): c is ConfigResult => c !== undefined);
    if (rows.length === 0) continue;
    const ready = rows.map((c) => c.readyMs).filter(finite);
    const rss = rows.map((c) => c.peakRssMiB).filter(finite);
    out.push({
      name,
      label: rows[0]!.label,
      skipped: null,
      readyMs: ready.length === 0 ? null : median(ready),
      autocannon: pooledMeasured(rows.map((c) => c.autocannon)),
      wrk: pooledMeasured(rows.map((c) => c.wrk)),
      latency: null, // fixed-rate rounds ran at each run's own rate: their medians do not pool
      peakRssMiB: rss.length === 0 ? null : Math.max(...rss),
    });
  }
  return out;
}

/**
 * Every comparison's rounds from all reports, summarized together. Rounds of a different tool
 * or round length stay a comparison of their own; the one with the most answered pairs comes
 * first, which is the one the targets read.
 */
function pooledPairs(reports: readonly BenchReport[]): PairedResult[] {
  const groups = new Map<string, PairedResult[]>();
  for (const report of reports) {
    for (const p of report.paired ?? []) {
      const key = [p.a, p.b, p.tool, p.secondsPerRound].join('\u0000');
      const group = groups.get(key) ?? [];
      group.push(p);
      groups.set(key, group);
    }
  }
  return [...groups.values()]
    .map((group) => {
      const { a, b, tool, secondsPerRound } = group[0]!;
      return summarizePairs(a, b, tool, secondsPerRound, group.flatMap((p) => p.rounds));
    })
    .sort((x, y) => y.answered - x.answered);
}

function differing(reports: readonly BenchReport[], what: string, pick: (r: BenchReport) => unknown): string[] {
  const values = [...new Set(reports.map((r) => JSON.stringify(pick(r) ?? null)))];
  return values.length > 1 ? [`the runs differ in ${what}: ${values.join(', ')}`] : [];
}

export function poolReports(runs: ReadonlyArray<{ file: string; report: BenchReport }>): Pooled {
  if (runs.length === 0) throw new Error('no bench reports to pool');
  const reports = runs.map((r) => r.report);
  const results = pooledResults(reports);
  const paired = pooledPairs(reports);
  return {
    runs: runs.map(({ file, report }) => ({
      file,
      date: report.date,
      command: report.command,
      cpu: report.machine.cpu,
      build: report.build == null ? null : `${report.build.commit}${report.build.dirty ? '+' : ''}`,
      undiciUsPerReq: report.results.find((c) => c.name === 'undici' && c.skipped === null)?.autocannon?.cpuUsPerReq ?? null,
    })),
    results,
    paired,
    targets: checkTargets(results, paired),
    warnings: [
      ...differing(reports, 'build', (r) => (r.build == null ? 'unknown' : `${r.build.commit}${r.build.dirty ? ' with changes' : ''}`)),
      ...differing(reports, 'CPU', (r) => `${r.machine.nproc} × ${r.machine.cpu}`),
      ...differing(reports, 'Node.js', (r) => r.machine.node),
      ...differing(reports, 'connections', (r) => r.options.connections),
    ],
  };
}
