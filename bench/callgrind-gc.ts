// How much of a callgrind dump is V8's garbage collector: the inclusive cost of its collections
// on that thread, and how many scavenges and full collections ran. A Node server's scavenges
// come every few hundred requests, and how often varies from run to run under callgrind (V8
// sizes the young generation from the allocation rate it sees, and callgrind slows everything
// some fifty times): one row had 23 scavenges in 3000 requests where the next run had 9, some
// 8,000 instructions per request apart. Reported beside the totals, so a row's own work can be
// compared without that noise. Read from the dump file itself, no callgrind_annotate needed.

/** A dump's garbage collections: their inclusive cost by event name, and their number by kind. */
export interface GcShare {
  events: Record<string, number>;
  scavenges: number;
  fullGcs: number;
}

/** Every collection goes through it, scavenges (young generation) and full ones alike. */
const COLLECT = 'v8::internal::Heap::CollectGarbage(v8::internal::AllocationSpace, v8::internal::GarbageCollectionReason, v8::GCCallbackFlags)';
const SCAVENGE = 'v8::internal::ScavengerCollector::CollectGarbage()';
const FULL = 'v8::internal::MarkCompactCollector::CollectGarbage()';

/**
 * The collections in callgrind dump text: each call of Heap::CollectGarbage carries its
 * inclusive cost on the line after its `calls=` line (one column per position, then one per
 * event); the calls of the collectors count the kinds. Names are compressed: a function's
 * `(id) name` comes once, later `(id)` alone, in fn= and cfn= lines alike.
 */
export function gcShare(text: string): GcShare {
  const eventNames = /^events:\s+(.+)$/m.exec(text)?.[1]?.trim().split(/\s+/) ?? ['Ir'];
  const positions = /^positions:\s+(.+)$/m.exec(text)?.[1]?.trim().split(/\s+/).length ?? 1;
  const totals = new Array<number>(eventNames.length).fill(0);
  const names = new Map<string, string>();
  let scavenges = 0;
  let fullGcs = 0;
  /** The function the next calls= line calls, by name. */
  let callee: string | null = null;
  let collecting = false;
  for (const line of text.split('\n')) {
    if (collecting) {
      collecting = false;
      const columns = line.trim().split(/\s+/);
      for (let i = 0; i < eventNames.length; i++) totals[i]! += Number(columns[positions + i] ?? 0);
      continue;
    }
    const fn = /^c?fn=\((\d+)\)(?: (.*))?$/.exec(line);
    if (fn !== null) {
      if (fn[2] !== undefined) names.set(fn[1]!, fn[2]);
      callee = line.startsWith('cfn=') ? (names.get(fn[1]!) ?? null) : null;
      continue;
    }
    if (line.startsWith('calls=') && callee !== null) {
      const count = Number(line.slice(6).split(' ')[0]);
      if (callee === COLLECT) collecting = true;
      else if (callee === SCAVENGE) scavenges += count;
      else if (callee === FULL) fullGcs += count;
      callee = null;
    }
  }
  return { events: Object.fromEntries(eventNames.map((name, i) => [name, totals[i]!])), scavenges, fullGcs };
}
