// `npm run bench:pool`: the targets over several runs of `npm run bench` at once, their
// back-to-back pairs pooled (bench/pooling.ts). One run's eight pairs are not a verdict on a
// shared machine; thirty-two from four runs of the same build are a steadier one.
//
// Flags: --since ISO --until ISO --dir DIR

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from './configs.ts';
import { benchFlags } from './flags.ts';
import { poolReports } from './pooling.ts';
import { pairedLines, targetLines, type BenchReport } from './report.ts';

const flags = benchFlags(
  'bench:pool',
  {
    since: { type: 'string' },
    until: { type: 'string' },
    dir: { type: 'string' },
  },
  () => `Usage: npm run bench:pool -- --since ISO [flags]
  --since ISO   pool the runs that ended at or after this time (e.g. 2026-12-05T21:00Z)
  --until ISO   ... and at or before this one (default: now)
  --dir DIR     where the runs' JSON is (default bench/results)
Pools the back-to-back pairs of those runs of \`npm run bench\` and checks the targets over them.
Pool runs of one build on one machine: each run's build and CPU are shown, and a difference in
build, CPU, Node.js or connections is warned of.
`,
);

function time(name: string, text: string | undefined, fallback: number | null): number {
  if (text === undefined) {
    if (fallback !== null) return fallback;
    process.stderr.write(`bench:pool: --${name} is required (npm run bench:pool -- --help)\n`);
    process.exit(2);
  }
  const t = Date.parse(text);
  if (Number.isNaN(t)) {
    process.stderr.write(`bench:pool: --${name} expects a date and time such as 2026-12-05T21:00Z, got ${text}\n`);
    process.exit(2);
  }
  return t;
}

const since = time('since', flags.since, null);
const until = time('until', flags.until, Date.now());
const dir = flags.dir ?? join(ROOT, 'bench', 'results');

function fail(message: string): never {
  process.stderr.write(`bench:pool: ${message}\n`);
  process.exit(1);
}

function readReport(file: string): BenchReport {
  let report: BenchReport;
  try {
    report = JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
  } catch (err) {
    fail(`${file}: ${(err as Error).message}`);
  }
  if (typeof report?.date !== 'string' || !Array.isArray(report.results)) fail(`${file}: not a report of npm run bench (no date or results)`);
  return report;
}

// `npm run bench` names its reports by report.date (with - for : and .), so the name alone says
// whether a report is in the window; other scripts' files there are named otherwise.
const REPORT_FILE = /^(\d{4}-\d\d-\d\dT\d\d)-(\d\d)-(\d\d)-(\d{3}Z)\.json$/;
const inWindow = (f: string) => {
  const t = Date.parse(f.replace(REPORT_FILE, '$1:$2:$3.$4'));
  return t >= since && t <= until;
};
let files: string[];
try {
  files = readdirSync(dir);
} catch (err) {
  fail(`cannot read ${dir}: ${(err as Error).message}`);
}
const runs = files
  .filter((f) => REPORT_FILE.test(f) && inWindow(f))
  .map((f) => ({ file: join(dir, f), report: readReport(join(dir, f)) }))
  .sort((x, y) => x.report.date.localeCompare(y.report.date));

if (runs.length === 0) fail(`no run of npm run bench in ${dir} ended between ${new Date(since).toISOString()} and ${new Date(until).toISOString()}`);

const pooled = poolReports(runs);
const lines = [`${runs.length} run${runs.length === 1 ? '' : 's'} of npm run bench, pooled:`];
for (const run of pooled.runs) {
  const undici = run.undiciUsPerReq === null ? 'no undici row' : `undici ${run.undiciUsPerReq.toFixed(1)} µs/req`;
  const build = run.build === null ? 'build not recorded' : `at ${run.build}`;
  lines.push(`- ${run.date}, ${build}, ${run.cpu}, ${undici}: ${run.command} (${relative(process.cwd(), run.file)})`);
}
for (const warning of pooled.warnings) lines.push(`warning: ${warning}`);
const paired = pairedLines(pooled.paired);
if (paired !== '') lines.push('', 'Back-to-back pairs, pooled (a ÷ b):', paired);
lines.push(
  '',
  "Targets over the pooled pairs (interleaved figures and start-up: the median of the runs' medians):",
  targetLines(pooled.targets),
);
process.stdout.write(`${lines.join('\n')}\n`);
