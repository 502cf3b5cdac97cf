// `npm run bench:abi:instructions`: instructions per hot host call and per 10-header callback,
// counted by valgrind's callgrind, for machines where `npm run bench:abi`'s nanoseconds move too
// much between runs to judge a change (±30 % on the shared 2-core VM of 12-02).
//
// Each row runs `bench/abi.ts --count ROW --calls K` (the same VM, guest and warm-up as the timed
// row) under callgrind twice, with K and 3K calls; the difference of the two totals, divided by
// 2K, is what the calls alone cost: Node's start-up, the module's compilation and the warm-up
// cancel out. `--fair-sched=yes` lets V8's background compiler run, so the calls are counted in
// their optimised code. Only the main thread is counted (`--separate-threads=yes`): the compiler
// threads' work lands in one run or the other, and one compile job outweighs 100 000 cheap calls.
// A call's figure includes the guest's loop around it, and for `add` a 100th of a header-map
// rebuild.
//
// Flags: --only a,b (rows: log_level, get_value, get_pairs, add, replace, get_property,
// get_buffer, filter10), --calls K (default 50000; a tenth of it for filter10), --json.
// --profile NAME (with one row in --only): instead of the counts, where the optimised JS function
// NAME (a host function such as proxy_get_header_map_value) spends its instructions, instruction
// by instruction (bench/instruction-profile.ts).
// Needs valgrind; without it, prints one line and exits 0.

import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchFlags, numberFlag } from './flags.ts';
import { addressCosts, parseCodeListings, profile, reportProfile, type Profile } from './instruction-profile.ts';

const ROWS: ReadonlyArray<[row: string, label: string]> = [
  ['log_level', 'proxy_get_log_level (the cheapest call)'],
  ['get_value', 'proxy_get_header_map_value'],
  ['get_pairs', 'proxy_get_header_map_pairs (10 headers)'],
  ['add', 'proxy_add_header_map_value'],
  ['replace', 'proxy_replace_header_map_value'],
  ['get_property', 'proxy_get_property (request.path)'],
  ['get_buffer', 'proxy_get_buffer_bytes (1 KiB)'],
  ['filter10', 'on_request_headers, 10-header WAT filter (10 reads, 1 replace)'],
];

const flags = benchFlags(
  'bench:abi:instructions',
  {
    only: { type: 'string' },
    calls: { type: 'string' },
    json: { type: 'boolean', default: false },
    profile: { type: 'string' },
  },
  () => `Usage: npm run bench:abi:instructions -- [flags]
  --only a,b       rows (${ROWS.map(([row]) => row).join(', ')}; default all)
  --calls K        calls per counted run (default 50000; filter10 a tenth)
  --json           print the results as JSON
  --profile NAME   with one row in --only: where the optimised JS function NAME spends its
                   instructions, instruction by instruction, instead of the counts
`,
);
const CALLS = numberFlag('bench:abi:instructions', 'calls', flags.calls, 50_000, 10, true);
const only = flags.only?.split(',');
const unknown = only?.filter((r) => !ROWS.some(([row]) => row === r)) ?? [];
if (unknown.length > 0) {
  process.stderr.write(`bench:abi:instructions: no row ${unknown.join(', ')}; rows: ${ROWS.map(([r]) => r).join(', ')}\n`);
  process.exit(2);
}

const ABI_BENCH = join(import.meta.dirname, 'abi.ts');
if (flags.profile !== undefined && only?.length !== 1) {
  process.stderr.write('bench:abi:instructions: --profile takes one row: --only ROW --profile FUNCTION\n');
  process.exit(2);
}

/** valgrind's arguments for every run here (the header says why each), writing to `out`. */
const callgrind = (out: string) => ['--tool=callgrind', '--fair-sched=yes', '--smc-check=all-non-file', '--separate-threads=yes', `--callgrind-out-file=${out}`];

/** Total instructions of one `--count` run under callgrind. */
function countedRun(dir: string, row: string, calls: number): number {
  const out = join(dir, `${row}-${calls}.callgrind`);
  const run = spawnSync(
    'valgrind',
    [...callgrind(out), process.execPath, ABI_BENCH, '--count', row, '--calls', String(calls)],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  if (run.error !== undefined || run.status !== 0) {
    throw new Error(`${row}: the counted run failed (${run.error?.message ?? `exit ${run.status}`}): ${run.stderr.split('\n').slice(-8).join('\n')}`);
  }
  // With --separate-threads, thread 1 (the main thread) is written to `<out>-01`.
  const summary = /^summary: (\d+)$/m.exec(readFileSync(`${out}-01`, 'utf8'));
  if (summary === null) throw new Error(`${row}: no summary line in ${out}-01`);
  return Number(summary[1]);
}

/**
 * One run of `row` under callgrind with per-instruction counts, while V8 prints the optimised
 * code of `name`: the profile of its costliest code object, or an error saying what is missing.
 */
function profileRun(dir: string, row: string, calls: number, name: string): Profile {
  const out = join(dir, `${row}-profile.callgrind`);
  // V8 prints the code through C stdio: to a pipe, what is still buffered at exit is lost.
  const printed = join(dir, `${row}-code.txt`);
  const fd = openSync(printed, 'w');
  let run;
  try {
    run = spawnSync(
      'valgrind',
      [...callgrind(out), '--dump-instr=yes',
        process.execPath, '--print-opt-code', `--print-opt-code-filter=${name}`, '--code-comments', ABI_BENCH, '--count', row, '--calls', String(calls)],
      { encoding: 'utf8', stdio: ['ignore', fd, 'pipe'], maxBuffer: 64 << 20 },
    );
  } finally {
    closeSync(fd);
  }
  if (run.error !== undefined || run.status !== 0) throw new Error(`${row}: the profiled run failed (${run.error?.message ?? `exit ${run.status}`})`);
  const listings = parseCodeListings(readFileSync(printed, 'utf8'), name);
  if (listings.length === 0) throw new Error(`V8 printed no optimised code named ${name} (is it a function the row runs hot?)`);
  const dump = readFileSync(`${out}-01`, 'utf8');
  const profiles = listings.map((l) => profile(l, addressCosts(dump, l.start, l.start + l.size))).filter((p) => p !== null);
  if (profiles.length === 0) throw new Error(`none of ${name}'s optimised code ran while counted`);
  return profiles.reduce((a, b) => (b.entries * b.selfPerCall > a.entries * a.selfPerCall ? b : a));
}

function main(): void {
  if (spawnSync('valgrind', ['--version']).status !== 0) {
    process.stdout.write('bench:abi:instructions: valgrind is not installed; nothing measured\n');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'sluice-abi-instructions-'));
  if (flags.profile !== undefined) {
    try {
      const row = only![0]!;
      process.stdout.write(reportProfile(flags.profile, `row ${row}`, profileRun(dir, row, row === 'filter10' ? Math.floor(CALLS / 10) : CALLS, flags.profile)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return;
  }
  try {
    const results: Array<{ row: string; name: string; instructions: number }> = [];
    for (const [row, name] of ROWS) {
      if (only !== undefined && !only.includes(row)) continue;
      const k = row === 'filter10' ? Math.floor(CALLS / 10) : CALLS;
      const instructions = (countedRun(dir, row, 3 * k) - countedRun(dir, row, k)) / (2 * k);
      results.push({ row, name, instructions });
      if (!flags.json) process.stderr.write(`${row}: ${instructions.toFixed(0)} instructions per call\n`);
    }
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ calls: CALLS, node: process.version, results }, null, 2)}\n`);
      return;
    }
    const width = Math.max(...results.map((r) => r.name.length));
    process.stdout.write(`\ninstructions per call (callgrind, ${CALLS} and ${3 * CALLS} calls; filter10 a tenth); Node ${process.version}\n\n`);
    for (const r of results) process.stdout.write(`${r.name.padEnd(width)}  ${r.instructions.toFixed(0).padStart(7)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

try {
  main();
} catch (err) {
  process.stderr.write(`bench:abi:instructions: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
