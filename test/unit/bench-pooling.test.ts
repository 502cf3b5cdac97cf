// bench:pool reads several runs of `npm run bench` as one: the pairs' rounds pooled per
// comparison, the rows' figures the median over the runs, and the targets checked on those.

import { describe, expect, it } from 'vitest';
import { poolReports } from '../../bench/pooling.ts';
import type { BenchReport, ConfigResult, PairedRound, PairedResult } from '../../bench/report.ts';
import { summarizePairs } from '../../bench/report.ts';

function row(name: string, cpuUsPerReq: number, readyMs: number | null = 150): ConfigResult {
  const measured = { rounds: [], rps: 1e6 / cpuUsPerReq, cpuUsPerReq, v8HelperUsPerReq: 0, upstreamCpuUsPerReq: 0 };
  return { name, label: name, skipped: null, readyMs, autocannon: measured, wrk: null, latency: null, peakRssMiB: 150 };
}

/** Pairs whose a spends `diffs[i]` µs more than b's 40. */
function pairs(a: string, b: string, diffs: number[], seconds = 2): PairedResult {
  const rounds: PairedRound[] = diffs.map((d, i) => ({
    a: { rps: 1e6 / (40 + d), cpuUsPerReq: 40 + d },
    b: { rps: 1e6 / 40, cpuUsPerReq: 40 },
    first: i % 2 === 0 ? 'a' : 'b',
  }));
  return summarizePairs(a, b, 'wrk', seconds, rounds);
}

function report(date: string, results: ConfigResult[], paired: PairedResult[], cpu = 'AMD EPYC', build: BenchReport['build'] = { commit: 'abc1234', dirty: false }): BenchReport {
  return {
    version: 1,
    date,
    command: 'npm run bench',
    machine: { nproc: 2, cpu, node: 'v24.21.0', kernel: '6', wrk: true, nginx: false },
    options: { connections: 32 },
    build,
    rateRps: null,
    results,
    paired,
    targets: [],
  };
}

const target = (targets: ReturnType<typeof poolReports>['targets'], name: string) => targets.find((t) => t.name === name)!;

describe('pooling runs of npm run bench', () => {
  it('decides a target on every pair of the runs together, where each run alone lands either side', () => {
    // Per filter: run one 6.0 / 3 = 2.0 µs (missed), run two 1.5 / 3 = 0.5 (met); together the median of six pairs.
    const one = report('2026-12-05T21:00:00.000Z', [row('sluice-0', 40), row('sluice-3', 46)], [pairs('sluice-3', 'sluice-0', [5, 6, 7])]);
    const two = report('2026-12-05T21:10:00.000Z', [row('sluice-0', 40), row('sluice-3', 41)], [pairs('sluice-3', 'sluice-0', [1, 1.5, 2])]);
    const pooled = poolReports([
      { file: 'a.json', report: one },
      { file: 'b.json', report: two },
    ]);
    const s3s0 = pooled.paired.find((p) => p.a === 'sluice-3' && p.b === 'sluice-0')!;
    expect(s3s0.answered).toBe(6);
    expect(s3s0.cpuDiffUs).toEqual({ median: 3.5, min: 1, max: 7 });
    const perFilter = target(pooled.targets, '3 filters add ≤ 1.5 µs CPU/req each');
    expect(perFilter.met).toBe(true); // 3.5 / 3 ≈ 1.17
    expect(perFilter.detail).toContain('median of 6 back-to-back pairs');
    expect(pooled.warnings).toEqual([]);
  });

  it("takes each row's figures as the median over the runs it ran in, and warns when the runs' machines differ", () => {
    const one = report('2026-12-05T21:00:00.000Z', [row('sluice-3', 40, 140), row('undici', 40, 120)], []);
    const two = report('2026-12-05T21:10:00.000Z', [row('sluice-3', 44, 400)], [], 'Intel Xeon');
    const three = report('2026-12-05T21:20:00.000Z', [row('sluice-3', 42, 160)], []);
    const pooled = poolReports([
      { file: 'a.json', report: one },
      { file: 'b.json', report: two },
      { file: 'c.json', report: three },
    ]);
    const s3 = pooled.results.find((r) => r.name === 'sluice-3')!;
    expect(s3.readyMs).toBe(160);
    expect(s3.autocannon!.cpuUsPerReq).toBe(42);
    expect(pooled.results.find((r) => r.name === 'undici')!.readyMs).toBe(120);
    expect(target(pooled.targets, 'sluice-3 ready ≤ 300 ms after start').met).toBe(true);
    expect(pooled.runs.map((r) => r.undiciUsPerReq)).toEqual([40, null, null]);
    expect(pooled.warnings).toEqual(['the runs differ in CPU: "2 × AMD EPYC", "2 × Intel Xeon"']);
  });

  it("names each run's build, and warns when the builds differ or one had uncommitted changes", () => {
    const pooled = poolReports([
      { file: 'a.json', report: report('2026-12-05T21:00:00.000Z', [], []) },
      { file: 'b.json', report: report('2026-12-05T21:10:00.000Z', [], [], 'AMD EPYC', { commit: 'abc1234', dirty: true }) },
      { file: 'c.json', report: report('2026-12-05T21:20:00.000Z', [], [], 'AMD EPYC', null) },
    ]);
    expect(pooled.runs.map((r) => r.build)).toEqual(['abc1234', 'abc1234+', null]);
    expect(pooled.warnings).toEqual(['the runs differ in build: "abc1234", "abc1234 with changes", "unknown"']);
    const same = poolReports([
      { file: 'a.json', report: report('2026-12-05T21:00:00.000Z', [], []) },
      { file: 'b.json', report: report('2026-12-05T21:10:00.000Z', [], []) },
    ]);
    expect(same.warnings).toEqual([]);
  });

  it('keeps rounds of a different length apart, the larger pool first', () => {
    const one = report('2026-12-05T21:00:00.000Z', [], [pairs('sluice-1', 'sluice-0', [1, 1, 1], 2)]);
    const two = report('2026-12-05T21:10:00.000Z', [], [pairs('sluice-1', 'sluice-0', [9, 9, 9, 9], 5)]);
    const pooled = poolReports([
      { file: 'a.json', report: one },
      { file: 'b.json', report: two },
    ]);
    expect(pooled.paired.map((p) => [p.secondsPerRound, p.answered])).toEqual([
      [5, 4],
      [2, 3],
    ]);
  });

  it('refuses an empty list', () => {
    expect(() => poolReports([])).toThrow('no bench reports to pool');
  });
});
