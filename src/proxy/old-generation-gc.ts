// Bounds the garbage the old generation holds under steady load. Each scavenge promotes the
// objects of requests that happened to be in flight at two scavenges in a row (~28 bytes per
// request, measured): garbage that only a full GC frees. V8 starts one when the old generation
// reaches a multiple of what survived the last, and on a fresh heap that multiple is large:
// measured, RSS climbed 2.7 MiB per 100 000 requests for a million requests and more without a
// single mark-compact. Lowering V8's factor for the whole heap (--heap-growing-percent) also
// tightened its external-memory limit, and a streamed GiB then cost twice the CPU. So the worker
// looks at its heap every few seconds and asks for one full GC when it has grown by
// OLD_GARBAGE_LIMIT_BYTES over the lowest size seen since the last one (docs/RATIONALE.md,
// "Heap sizing under load").

import { getHeapStatistics } from 'node:v8';

export const CHECK_EVERY_MS = 5000;
export const OLD_GARBAGE_LIMIT_BYTES = 16 * 1024 * 1024;

export class OldGenerationPacer {
  readonly #majorGc: () => void;
  readonly #usedHeap: () => number;
  /** The lowest heap size seen since the last full GC asked for (V8's own GCs lower it too). */
  #floor = Infinity;
  #timer: NodeJS.Timeout | null = null;

  constructor(majorGc: () => void, usedHeap: () => number = () => getHeapStatistics().used_heap_size) {
    this.#majorGc = majorGc;
    this.#usedHeap = usedHeap;
  }

  /** One look at the heap; true when it asked for a full GC. */
  check(): boolean {
    const used = this.#usedHeap();
    if (used < this.#floor) {
      this.#floor = used;
      return false;
    }
    if (used - this.#floor < OLD_GARBAGE_LIMIT_BYTES) return false;
    this.#floor = Infinity; // learnt again from the samples after the GC
    this.#majorGc();
    return true;
  }

  /** Looks every CHECK_EVERY_MS for the life of the thread (the timer does not hold it open). */
  start(): void {
    if (this.#timer !== null) return;
    this.#timer = setInterval(() => this.check(), CHECK_EVERY_MS);
    this.#timer.unref();
  }
}
