// The harness's results: their JSON shape, the text table with ratios, the targets from the
// issue checked against the numbers, and a small SVG bar chart.

export interface Measured {
  /** Per round, in order. */
  rounds: Array<{ rps: number; cpuUsPerReq: number; v8HelperUsPerReq: number; upstreamCpuUsPerReq: number; ok: number; failed: number }>;
  /** Medians over the rounds. */
  rps: number;
  /** CPU of every thread of the server under test, per 2xx-or-failed request. */
  cpuUsPerReq: number;
  /** The part of cpuUsPerReq spent in V8's helper threads (concurrent GC, compilation). */
  v8HelperUsPerReq: number;
  upstreamCpuUsPerReq: number;
}

export interface ConfigResult {
  name: string;
  label: string;
  /** Why the row was not measured (not available here, or it failed to start). */
  skipped: string | null;
  readyMs: number | null;
  autocannon: Measured | null;
  wrk: Measured | null;
  latency: { rateRps: number; sentRps: number; p50Us: number; p99Us: number; cpuUsPerReq: number; failed: number } | null;
  peakRssMiB: number | null;
}

/** One back-to-back measurement of two rows (see PAIRED_COMPARISONS in run.ts). */
export interface PairedRound {
  a: { rps: number; cpuUsPerReq: number };
  b: { rps: number; cpuUsPerReq: number };
  /** Which of the two ran first; the order alternates from pair to pair. */
  first: 'a' | 'b';
}

/** Two rows measured in alternating back-to-back rounds, summarized by medians of per-pair figures. */
export interface PairedResult {
  a: string;
  b: string;
  tool: 'wrk' | 'autocannon';
  secondsPerRound: number;
  rounds: PairedRound[];
  /** How many of `rounds` the figures below come from: the pairs where both servers answered. */
  answered: number;
  /** Median over the pairs of a's rps ÷ b's, with the smallest and largest. */
  rpsRatio: { median: number; min: number; max: number };
  /** Median over the pairs of a's CPU µs/req ÷ b's. */
  cpuRatio: { median: number; min: number; max: number };
  /** Median over the pairs of a's CPU µs/req − b's. */
  cpuDiffUs: { median: number; min: number; max: number };
}

/** Median, smallest and largest of per-pair figures. */
export function spread(values: readonly number[]): { median: number; min: number; max: number } {
  const finite = values.filter(Number.isFinite);
  return { median: median(finite), min: Math.min(...finite), max: Math.max(...finite) };
}

/**
 * The pairs' medians and spreads. A pair where either server answered nothing (a stalled round)
 * is kept in `rounds` but left out of the figures: its ratios (0, Infinity) say nothing.
 */
export function summarizePairs(a: string, b: string, tool: PairedResult['tool'], secondsPerRound: number, rounds: PairedRound[]): PairedResult {
  const answered = rounds.filter((r) => r.a.rps > 0 && r.b.rps > 0);
  return {
    a,
    b,
    tool,
    secondsPerRound,
    rounds,
    answered: answered.length,
    rpsRatio: spread(answered.map((r) => r.a.rps / r.b.rps)),
    cpuRatio: spread(answered.map((r) => r.a.cpuUsPerReq / r.b.cpuUsPerReq)),
    cpuDiffUs: spread(answered.map((r) => r.a.cpuUsPerReq - r.b.cpuUsPerReq)),
  };
}

export interface Target {
  name: string;
  /** null: not measured in this run. */
  met: boolean | null;
  detail: string;
}

export interface BenchReport {
  version: 1;
  date: string;
  command: string;
  machine: {
    nproc: number;
    cpu: string;
    node: string;
    kernel: string;
    wrk: boolean;
    nginx: boolean;
    /** 1-minute load average when the run started and ended: other work on the machine skews results. */
    loadAvg1m?: { before: number; after: number };
  };
  options: Record<string, unknown>;
  /**
   * The commit the run measured, and whether tracked files differed from it, as they were when
   * it started; null outside a git checkout. Absent in reports made before 2026-12-05.
   */
  build?: { commit: string; dirty: boolean } | null;
  /** The fixed rate of the latency rounds. */
  rateRps: number | null;
  results: ConfigResult[];
  /** Back-to-back comparisons the targets rest on; absent in reports made before 2026-12-02. */
  paired?: PairedResult[];
  targets: Target[];
}

/**
 * Cycles per request as callgrind's cycle estimate weighs them: an instruction 1, an L1 miss 10,
 * an L2 miss 100. Deterministic like the instruction count, but it charges a configuration for
 * the code and data it pushes out of the caches, which is where sluice-3's CPU time runs ahead
 * of its instructions under load (docs/benchmarks.md). `misses` holds callgrind's event names
 * (I1mr, D1mr, D1mw, ILmr, DLmr, DLmw); an absent one counts 0.
 */
export function estimatedCycles(instructions: number, misses: Record<string, number>): number {
  const l1 = (misses.I1mr ?? 0) + (misses.D1mr ?? 0) + (misses.D1mw ?? 0);
  const l2 = (misses.ILmr ?? 0) + (misses.DLmr ?? 0) + (misses.DLmw ?? 0);
  return instructions + 10 * l1 + 100 * l2;
}

export function median(values: readonly number[]): number {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const mid = finite.length >> 1;
  return finite.length % 2 === 1 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2;
}

const byName = (results: readonly ConfigResult[], name: string) => results.find((r) => r.name === name && r.skipped === null);

function fmt(n: number | null | undefined, digits = 0): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return 'n/a';
  return n.toFixed(digits);
}

function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return '';
  return `${(a / b).toFixed(2)}×`;
}

/** A Markdown table (also readable as plain text). */
export function table(results: readonly ConfigResult[], rateRps: number | null): string {
  const s0 = byName(results, 'sluice-0');
  const hp = byName(results, 'http-proxy');
  const withWrk = results.some((r) => r.wrk !== null);
  const head = [
    'config',
    'rps',
    '÷ sluice-0',
    '÷ http-proxy',
    ...(withWrk ? ['wrk rps'] : []),
    'CPU µs/req',
    '÷ sluice-0',
    '÷ http-proxy',
    'of which GC/JIT threads',
    `CPU µs/req @${fmt(rateRps)} rps`,
    'p50 µs',
    'p99 µs',
    'peak RSS MiB',
    'ready ms',
  ];
  const rows = results.map((r) => {
    if (r.skipped !== null) return [r.name, `skipped: ${r.skipped}`, ...head.slice(2).map(() => '')];
    const ac = r.autocannon;
    return [
      r.name,
      fmt(ac?.rps),
      ratio(ac?.rps, s0?.autocannon?.rps),
      ratio(ac?.rps, hp?.autocannon?.rps),
      ...(withWrk ? [fmt(r.wrk?.rps)] : []),
      fmt(ac?.cpuUsPerReq, 1),
      ratio(ac?.cpuUsPerReq, s0?.autocannon?.cpuUsPerReq),
      ratio(ac?.cpuUsPerReq, hp?.autocannon?.cpuUsPerReq),
      fmt(ac?.v8HelperUsPerReq, 1),
      fmt(r.latency?.cpuUsPerReq, 1),
      fmt(r.latency?.p50Us),
      fmt(r.latency?.p99Us),
      fmt(r.peakRssMiB, 1),
      fmt(r.readyMs),
    ];
  });
  return markdownTable(head, rows);
}

/** A Markdown table, first column left-aligned and the others right-aligned (numbers). */
export function markdownTable(head: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

/** CPU µs per request of the minimal undici proxy on the machine the issue's targets were set on. */
const UNDICI_REFERENCE_US = 35;

/** The issue's targets, each met / missed / not measured, with the numbers behind it. */
export function checkTargets(results: readonly ConfigResult[], paired: readonly PairedResult[] = []): Target[] {
  const get = (name: string) => byName(results, name);
  const s0 = get('sluice-0');
  const s1 = get('sluice-1');
  const s3 = get('sluice-3');
  const und = get('undici');
  const hp = get('http-proxy');
  const cpu = (r: ConfigResult | undefined) => r?.autocannon?.cpuUsPerReq;
  const pair = (a: string, b: string) => paired.find((p) => p.a === a && p.b === b && p.answered > 0);
  const check = (name: string, values: Array<number | undefined>, test: () => boolean, detail: () => string): Target => {
    const measured = values.every((v) => v !== undefined && Number.isFinite(v));
    return { name, met: measured ? test() : null, detail: measured ? detail() : 'not measured in this run' };
  };
  // Throughput targets are checked with every load generator that ran; all must agree.
  const rpsCheck = (name: string, a: ConfigResult | undefined, b: ConfigResult | undefined, factor: number): Target => {
    const pairs = (['autocannon', 'wrk'] as const)
      .map((tool) => ({ tool, x: a?.[tool]?.rps, y: b?.[tool]?.rps }))
      .filter((p) => p.x !== undefined && p.y !== undefined && Number.isFinite(p.x) && Number.isFinite(p.y));
    if (pairs.length === 0) return { name, met: null, detail: 'not measured in this run' };
    return {
      name,
      met: pairs.every((p) => p.x! >= factor * p.y!),
      detail: pairs.map((p) => `${p.tool}: ${fmt(p.x)} vs ${fmt(p.y)} rps = ${(p.x! / p.y!).toFixed(2)}×`).join('; '),
    };
  };
  // Where the two rows were also measured back to back, the paired medians decide: on a noisy
  // machine, rounds a minute apart move by more than these margins (docs/RATIONALE.md). The
  // medians of the interleaved rounds follow as context.
  const preferPaired = (interleaved: Target, p: PairedResult | undefined, test: (p: PairedResult) => boolean, detail: (p: PairedResult) => string): Target => {
    if (p === undefined) return interleaved;
    const context = interleaved.met === null ? '' : `; interleaved rounds: ${interleaved.detail}`;
    return { name: interleaved.name, met: test(p), detail: `${detail(p)} (${pairsLabel(p)})${context}` };
  };
  // The 1.5 µs was set on a machine where the undici peer spent ~35 µs per request; the detail
  // also gives the budget scaled to this run's undici peer (met stays the absolute test).
  const scaled = () => (cpu(und) === undefined ? '' : `; scaled to this machine (undici ${fmt(cpu(und), 1)} µs/req against ~${UNDICI_REFERENCE_US} where the target was set): ${fmt((1.5 * cpu(und)!) / UNDICI_REFERENCE_US, 1)} µs`);
  const s3s0 = pair('sluice-3', 'sluice-0');

  return [
    preferPaired(
      check('sluice-0 CPU ≤ 1.1× minimal undici proxy', [cpu(s0), cpu(und)], () => cpu(s0)! <= 1.1 * cpu(und)!, () =>
        `${fmt(cpu(s0), 1)} vs ${fmt(cpu(und), 1)} µs/req = ${(cpu(s0)! / cpu(und)!).toFixed(2)}×`),
      pair('sluice-0', 'undici'), (p) => p.cpuRatio.median <= 1.1, (p) => `paired: ${range(p.cpuRatio, 2, '×')}`),
    preferPaired(
      check('1 filter adds ≤ 1.5 µs CPU/req', [cpu(s1), cpu(s0)], () => cpu(s1)! - cpu(s0)! <= 1.5, () =>
        `sluice-1 − sluice-0 = ${fmt(cpu(s1)! - cpu(s0)!, 1)} µs/req${scaled()}`),
      pair('sluice-1', 'sluice-0'), (p) => p.cpuDiffUs.median <= 1.5, (p) => `paired: sluice-1 − sluice-0 = ${range(p.cpuDiffUs, 1, ' µs/req')}`),
    preferPaired(
      check('3 filters add ≤ 1.5 µs CPU/req each', [cpu(s3), cpu(s0)], () => (cpu(s3)! - cpu(s0)!) / 3 <= 1.5, () =>
        `sluice-3 − sluice-0 = ${fmt(cpu(s3)! - cpu(s0)!, 1)} µs/req = ${fmt((cpu(s3)! - cpu(s0)!) / 3, 1)} per filter${scaled()}`),
      s3s0, (p) => p.cpuDiffUs.median / 3 <= 1.5, (p) => `paired: (sluice-3 − sluice-0) ÷ 3 = ${range(scale(p.cpuDiffUs, 1 / 3), 1, ' µs/req')}`),
    preferPaired(rpsCheck('sluice-3 ≥ 0.9× sluice-0 throughput', s3, s0, 0.9), s3s0, (p) => p.rpsRatio.median >= 0.9, (p) => `paired: ${range(p.rpsRatio, 2, '×')}`),
    preferPaired(rpsCheck('sluice-3 ≥ 1.5× http-proxy throughput', s3, hp, 1.5), pair('sluice-3', 'http-proxy'), (p) => p.rpsRatio.median >= 1.5, (p) => `paired: ${range(p.rpsRatio, 2, '×')}`),
    check('sluice-3 ready ≤ 300 ms after start', [s3?.readyMs ?? undefined], () => s3!.readyMs! <= 300, () =>
      // The undici peer's start beside it: how long a minimal Node proxy takes on this machine.
      `${fmt(s3!.readyMs)} ms from spawn to the first proxied 200${und?.readyMs == null ? '' : ` (the undici peer: ${fmt(und.readyMs)} ms)`}`),
  ];
}

function pairsLabel(p: PairedResult): string {
  const left = p.rounds.length - p.answered;
  const leftOut = left === 0 ? '' : `; ${left} left out, a server answered nothing`;
  return `median of ${p.answered} back-to-back pairs of ${p.secondsPerRound} s ${p.tool} rounds, smallest–largest in brackets${leftOut}`;
}

function range(r: { median: number; min: number; max: number }, digits: number, unit: string): string {
  return `${fmt(r.median, digits)}${unit} [${fmt(r.min, digits)}–${fmt(r.max, digits)}]`;
}

function scale(r: { median: number; min: number; max: number }, k: number) {
  return { median: r.median * k, min: r.min * k, max: r.max * k };
}

/** The paired comparisons, one line each. */
export function pairedLines(paired: readonly PairedResult[]): string {
  return paired
    .filter((p) => p.answered > 0)
    .map((p) => `- ${p.a} vs ${p.b}: rps ${range(p.rpsRatio, 2, '×')}, CPU µs/req ${range(p.cpuRatio, 2, '×')}, CPU difference ${range(p.cpuDiffUs, 1, ' µs/req')} (${pairsLabel(p)})`)
    .join('\n');
}

export function targetLines(targets: readonly Target[]): string {
  return targets.map((t) => `- ${t.met === null ? 'not measured' : t.met ? 'met' : 'MISSED'}: ${t.name} — ${t.detail}`).join('\n');
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Two horizontal bar panels: CPU µs per request, and requests per second. */
export function svgChart(report: BenchReport): string {
  const rows = report.results.filter((r) => r.skipped === null && r.autocannon !== null);
  const labelWidth = 140;
  const barWidth = 520;
  const rowHeight = 22;
  const panelHeight = 40 + rows.length * rowHeight;
  const width = labelWidth + barWidth + 90;
  const height = 2 * panelHeight + 30;
  const panels = [
    { title: 'proxy CPU µs per request (lower is better)', value: (r: ConfigResult) => r.autocannon!.cpuUsPerReq, digits: 1, color: '#d9822b' },
    { title: 'requests per second, autocannon (higher is better)', value: (r: ConfigResult) => r.autocannon!.rps, digits: 0, color: '#2b7bb9' },
  ];
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="18" font-size="13" font-weight="bold">${escape(`sluice benchmark ${report.date} (${report.machine.nproc} CPUs, Node ${report.machine.node})`)}</text>`,
  ];
  panels.forEach((panel, p) => {
    const top = 30 + p * panelHeight;
    const max = Math.max(...rows.map((r) => panel.value(r)).filter(Number.isFinite), 1);
    parts.push(`<text x="10" y="${top + 16}" font-weight="bold">${escape(panel.title)}</text>`);
    rows.forEach((r, i) => {
      const y = top + 28 + i * rowHeight;
      const v = panel.value(r);
      const w = Number.isFinite(v) ? Math.max(1, (v / max) * barWidth) : 0;
      parts.push(
        `<text x="${labelWidth - 8}" y="${y + 14}" text-anchor="end">${escape(r.name === 'direct' ? 'direct (upstream)' : r.name)}</text>`,
        `<rect x="${labelWidth}" y="${y + 2}" width="${w.toFixed(1)}" height="${rowHeight - 6}" fill="${r.name.startsWith('sluice') ? panel.color : '#999'}"/>`,
        `<text x="${(labelWidth + w + 6).toFixed(1)}" y="${y + 14}">${fmt(v, panel.digits)}</text>`,
      );
    });
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
