// Reading callgrind_annotate's function list (`--inclusive=no`), and comparing two of them: the
// per-function view bench:instructions prints with --annotate. Kept apart from the runner so the
// parsing can be tested without valgrind.

/** One row of the function list: a count per shown event, the function and its object file. */
export interface AnnotateRow {
  counts: number[];
  name: string;
  /** The object file's path as callgrind printed it ('' when it printed none). */
  object: string;
}

/**
 * Parses one row of callgrind_annotate's function list, e.g.
 * `33,454,439 ( 5.94%) 279,988 ( 1.12%)  .  ???:Builtins_LoadIC [/path/node]`: `events` columns,
 * each a count with or without its percentage, or `.` for none. Null when the line is not such a
 * row (the list has ended).
 */
export function parseAnnotateRow(line: string, events: number): AnnotateRow | null {
  const column = String.raw`(?:([\d,]+)(?:\s+\(\s*[\d.]+%\))?|(\.))\s+`;
  const m = new RegExp(`^\\s*${column.repeat(events)}(?:\\?\\?\\?:)?(.*?)(?:\\s+\\[(.*)\\])?\\s*$`).exec(line);
  if (m === null) return null;
  const counts: number[] = [];
  for (let i = 0; i < events; i++) {
    const digits = m[1 + 2 * i];
    counts.push(digits === undefined ? 0 : Number(digits.replace(/,/g, '')));
  }
  const name = m[1 + 2 * events]!;
  if (name === '') return null;
  return { counts, name, object: m[2 + 2 * events] ?? '' };
}

/** A function's cost per request in one row of the benchmark. */
export interface FunctionCost {
  name: string;
  /** Self instructions per request. */
  instructions: number;
  /** Estimated cycles per request (bench/report.ts estimatedCycles); the instructions without --cache-sim. */
  cycles: number;
}

/** How one function's cost moved between two rows (b − a). */
export interface CostChange {
  name: string;
  instructions: number;
  cycles: number;
}

/**
 * A JIT function's name without where it came from (`JS:*'_resume file:///…/worker.mjs:13979:21`
 * becomes `JS:*'_resume`): the same function is named after its bundle in one row and after its
 * module under node_modules in another, so rows match on the name alone. Others stay as they are.
 */
export function functionKey(name: string): string {
  if (UNNAMED_ADDRESS.test(name)) return UNNAMED_CODE;
  return name.startsWith('JS:') ? name.replace(/\s+(?:file:\/\/|node:|\/)\S*$/, '') : name;
}

/**
 * Code callgrind names by its address only (`0x00001b4dd9f2b140`, `'2` for a recursion level):
 * Wasm code the perf map does not list, such as undici's HTTP parser and the slots of a module's
 * jump table. The same code sits at another address in every process, so rows compare it as
 * one bucket, not address by address (which would show each as wholly new in one row).
 */
const UNNAMED_ADDRESS = /^0x[0-9a-f]+(?:'\d+)?$/;
export const UNNAMED_CODE = '(code named by its address only: Wasm outside the perf map, jump tables)';

/**
 * The functions whose estimated cycles grew the most from `a` to `b`, largest first, and the
 * total change over every function. Functions are matched by `functionKey`, so same-named
 * functions of a row add up; each change is shown under the full name of its costliest function
 * in `b` (else in `a`). A function absent from one side counts 0 there: TurboFan inlines
 * differently in different rows, so one row's cost can sit in a caller in the other.
 */
export function costChanges(a: readonly FunctionCost[], b: readonly FunctionCost[], top: number): { top: CostChange[]; total: CostChange } {
  // Per key: the change so far, and the function whose name shows it (its row and its cycles).
  const changes = new Map<string, { change: CostChange; fromB: boolean; shownCycles: number }>();
  const add = (list: readonly FunctionCost[], fromB: boolean) => {
    const sign = fromB ? 1 : -1;
    for (const f of list) {
      const key = functionKey(f.name);
      let entry = changes.get(key);
      if (entry === undefined) {
        entry = { change: { name: key === UNNAMED_CODE ? key : f.name, instructions: 0, cycles: 0 }, fromB, shownCycles: f.cycles };
        changes.set(key, entry);
      } else if (key !== UNNAMED_CODE && ((fromB && !entry.fromB) || (fromB === entry.fromB && f.cycles > entry.shownCycles))) {
        entry.change.name = f.name;
        entry.fromB = fromB;
        entry.shownCycles = f.cycles;
      }
      entry.change.instructions += sign * f.instructions;
      entry.change.cycles += sign * f.cycles;
    }
  };
  add(a, false);
  add(b, true);
  const all = [...changes.values()].map((e) => e.change);
  const total = all.reduce((t, c) => ({ name: 'total', instructions: t.instructions + c.instructions, cycles: t.cycles + c.cycles }), {
    name: 'total',
    instructions: 0,
    cycles: 0,
  });
  return { top: all.sort((x, y) => y.cycles - x.cycles).slice(0, top), total };
}
