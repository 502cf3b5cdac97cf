// Frees streamed body chunks promptly. Every socket read is a fresh 64 KiB ArrayBuffer outside
// the JS heap, freed only when a GC finds its small Buffer object dead. Forwarding a chunk
// allocates little JS, so once the young generation has grown (as it does under request load)
// no scavenge runs during a large transfer: dead chunks pile up until V8's external-memory
// limit (about 64 MiB) forces a full GC, and RSS grows by that much (docs/RATIONALE.md).
// Asking for a scavenge every few MiB of forwarded body bounds the pile; a scavenge only visits
// live young objects, so it costs well under a millisecond here.
//
// The state is per thread, which is per V8 heap: exactly the scope a GC has.

import { privateGc, type GcFunction } from './private-gc.ts';

/** Body bytes forwarded between two scavenges (what may wait for a GC, roughly). */
export const SCAVENGE_EVERY_BYTES = 16 * 1024 * 1024;

let collect: (() => void) | null = null;
let budget = SCAVENGE_EVERY_BYTES;

/**
 * A function that runs a young-generation GC (see private-gc.ts); null if V8 would not give
 * one (pacing then stays off: streaming works, it only uses more memory).
 */
export function minorGcFunction(gc: GcFunction | null = privateGc()): (() => void) | null {
  return gc === null ? null : () => void gc({ type: 'minor' });
}

/**
 * Turns pacing on for this thread. Only for a process sluice owns (the CLI's worker threads):
 * an embedding may run its own GC policy.
 */
export function enableBodyGcPacing(minorGc: (() => void) | null = minorGcFunction()): boolean {
  collect = minorGc;
  budget = SCAVENGE_EVERY_BYTES;
  return minorGc !== null;
}

export function disableBodyGcPacing(): void {
  collect = null;
}

/** Counts body bytes handed on; every SCAVENGE_EVERY_BYTES asks for a scavenge. */
export function bodyBytesForwarded(n: number): void {
  if (collect === null) return;
  budget -= n;
  if (budget > 0) return;
  budget = SCAVENGE_EVERY_BYTES;
  collect();
}
