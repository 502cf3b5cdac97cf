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
// Needs valgrind; without it, prints one line and exits 0.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

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

const { values: flags } = parseArgs({
  options: {
    only: { type: 'string' },
    calls: { type: 'string', default: '50000' },
    json: { type: 'boolean', default: false },
  },
  strict: true,
});
const CALLS = Number(flags.calls);
if (!Number.isInteger(CALLS) || CALLS < 10) {
  process.stderr.write('bench:abi:instructions: --calls takes an integer ≥ 10\n');
  process.exit(2);
}
const only = flags.only?.split(',');
const unknown = only?.filter((r) => !ROWS.some(([row]) => row === r)) ?? [];
if (unknown.length > 0) {
  process.stderr.write(`bench:abi:instructions: no row ${unknown.join(', ')}; rows: ${ROWS.map(([r]) => r).join(', ')}\n`);
  process.exit(2);
}

const ABI_BENCH = join(import.meta.dirname, 'abi.ts');

/** Total instructions of one `--count` run under callgrind. */
function countedRun(dir: string, row: string, calls: number): number {
  const out = join(dir, `${row}-${calls}.callgrind`);
  const run = spawnSync(
    'valgrind',
    ['--tool=callgrind', '--fair-sched=yes', '--smc-check=all-non-file', '--separate-threads=yes', `--callgrind-out-file=${out}`,
      process.execPath, ABI_BENCH, '--count', row, '--calls', String(calls)],
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

function main(): void {
  if (spawnSync('valgrind', ['--version']).status !== 0) {
    process.stdout.write('bench:abi:instructions: valgrind is not installed; nothing measured\n');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'sluice-abi-instructions-'));
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
