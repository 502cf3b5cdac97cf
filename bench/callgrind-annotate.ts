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
 * The functions whose estimated cycles grew the most from `a` to `b`, largest first, and the
 * total change over every function. A function absent from one side counts 0 there: TurboFan
 * inlines differently in different rows, so one row's cost can sit in a caller in the other.
 */
export function costChanges(a: readonly FunctionCost[], b: readonly FunctionCost[], top: number): { top: CostChange[]; total: CostChange } {
  const changes = new Map<string, CostChange>();
  const add = (list: readonly FunctionCost[], sign: number) => {
    for (const f of list) {
      const c = changes.get(f.name) ?? { name: f.name, instructions: 0, cycles: 0 };
      c.instructions += sign * f.instructions;
      c.cycles += sign * f.cycles;
      changes.set(f.name, c);
    }
  };
  add(a, -1);
  add(b, 1);
  const all = [...changes.values()];
  const total = all.reduce((t, c) => ({ name: 'total', instructions: t.instructions + c.instructions, cycles: t.cycles + c.cycles }), {
    name: 'total',
    instructions: 0,
    cycles: 0,
  });
  return { top: all.sort((x, y) => y.cycles - x.cycles).slice(0, top), total };
}
