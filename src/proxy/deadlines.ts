// Timeouts for many in-flight requests without a timer object per request. undici's own
// per-request timers keep a cleared timer (and through it the request's handler and the whole
// stream) alive until their next pass, up to a second later, which promotes every request's
// garbage to the old generation; Node timers cost an allocation each. Instead each tracked item
// carries a deadline, and one unref'd interval checks them all.

import { performance } from 'node:perf_hooks';

/** Something with a deadline (ms, performance.now() clock) to act on when it passes. */
export interface Expiring {
  deadline: number;
  /** Position in the tracking array (-1 when not tracked); owned by Deadlines. */
  deadlineSlot: number;
  expire(): void;
}

/** How often deadlines are checked: the precision of the timeouts it serves. */
export const DEADLINE_TICK_MS = 100;

export class Deadlines {
  // A plain array with swap-remove: a finished request's slot is overwritten at once. (A Set
  // kept deleted entries reachable long enough for every request to reach the old generation.)
  readonly #items: Expiring[] = [];
  #timer: NodeJS.Timeout | null = null;
  #lastCheck = 0;

  /**
   * The time (performance.now() clock), to within a tick while anything is tracked: the time of
   * the last check, so marking activity on every event costs no clock read.
   */
  get now(): number {
    return this.#timer === null ? performance.now() : this.#lastCheck;
  }

  track(item: Expiring): void {
    if (item.deadlineSlot !== -1) return;
    item.deadlineSlot = this.#items.length;
    this.#items.push(item);
    if (this.#timer === null) {
      this.#lastCheck = performance.now();
      this.#timer = setInterval(() => this.#check(), DEADLINE_TICK_MS);
      this.#timer.unref();
    }
  }

  untrack(item: Expiring): void {
    const slot = item.deadlineSlot;
    if (slot === -1) return;
    const last = this.#items.pop()!;
    if (last !== item) {
      this.#items[slot] = last;
      last.deadlineSlot = slot;
    }
    item.deadlineSlot = -1;
  }

  get size(): number {
    return this.#items.length;
  }

  #check(): void {
    if (this.#items.length === 0) {
      clearInterval(this.#timer!);
      this.#timer = null;
      return;
    }
    const now = performance.now();
    this.#lastCheck = now;
    const due: Expiring[] = [];
    for (const item of this.#items) if (now >= item.deadline) due.push(item);
    for (const item of due) {
      this.untrack(item);
      item.expire();
    }
  }
}

/** One for the whole thread: every cluster's requests share the same check. */
export const upstreamDeadlines = new Deadlines();

/** Streams of every listener, for their idle timeout (stream.ts). */
export const streamIdleDeadlines = new Deadlines();
