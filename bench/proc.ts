// What the kernel knows about a server under test: CPU time of every thread of a process tree
// (nanoseconds, from /proc/<pid>/task/<tid>/schedstat) and its peak resident set (VmHWM).
// Linux only; elsewhere the readers return NaN and the report shows "n/a".

import { readdirSync, readFileSync } from 'node:fs';

function read(path: string): string | null {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return null;
  }
}

/** The parent pid from /proc/<pid>/stat (the command name may contain spaces and parentheses). */
function parentOf(pid: number): number | null {
  const stat = read(`/proc/${pid}/stat`);
  if (stat === null) return null;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[1]);
}

/** `root` and all its descendants (nginx runs its workers as child processes). */
export function processTree(root: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [root];
  }
  const children = new Map<number, number[]>();
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const parent = parentOf(pid);
    if (parent === null) continue;
    const list = children.get(parent) ?? [];
    list.push(pid);
    children.set(parent, list);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** CPU time (ns) of every live thread of these processes. NaN when /proc cannot be read. */
export function cpuNs(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      return Number.NaN;
    }
    for (const tid of tids) {
      const stat = read(`/proc/${pid}/task/${tid}/schedstat`);
      if (stat !== null) total += Number(stat.split(' ')[0]);
    }
  }
  return total;
}

/**
 * CPU time (ns) per thread name (/proc/.../comm) of these processes: Node names its V8 platform
 * threads (concurrent GC, background compilation) `V8Worker`, a worker thread `WorkerThread`.
 */
export function cpuNsByThread(pids: readonly number[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of pids) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      const name = read(`/proc/${pid}/task/${tid}/comm`)?.trim();
      const stat = read(`/proc/${pid}/task/${tid}/schedstat`);
      if (name === undefined || stat === null) continue;
      out.set(name, (out.get(name) ?? 0) + Number(stat.split(' ')[0]));
    }
  }
  return out;
}

/** Peak resident set (VmHWM) of these processes added up, in KiB; NaN when unknown. */
export function peakRssKiB(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    const status = read(`/proc/${pid}/status`);
    const match = status === null ? null : /^VmHWM:\s+(\d+) kB/m.exec(status);
    if (match === null) return Number.NaN;
    total += Number(match[1]);
  }
  return total;
}
