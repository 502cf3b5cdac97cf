// Timeouts for many in-flight requests without a timer object per request. undici's own
// per-request timers keep a cleared timer (and through it the request's handler and the whole
// stream) alive until their next pass, up to a second later, which promotes every request's
// garbage to the old generation; Node timers cost an allocation each. Instead each tracked item
// carries a deadline, and one unref'd interval checks them all.

/** Something with a deadline (ms, performance.now() clock) to act on when it passes. */
export interface Expiring {
  deadline: number;
  expire(): void;
}

/** How often deadlines are checked: the precision of the timeouts it serves. */
export const DEADLINE_TICK_MS = 100;

export class Deadlines {
  readonly #items = new Set<Expiring>();
  #timer: NodeJS.Timeout | null = null;

  track(item: Expiring): void {
    this.#items.add(item);
    if (this.#timer === null) {
      this.#timer = setInterval(() => this.#check(), DEADLINE_TICK_MS);
      this.#timer.unref();
    }
  }

  untrack(item: Expiring): void {
    this.#items.delete(item);
  }

  get size(): number {
    return this.#items.size;
  }

  #check(): void {
    if (this.#items.size === 0) {
      clearInterval(this.#timer!);
      this.#timer = null;
      return;
    }
    const now = performance.now();
    for (const item of this.#items) {
      if (now < item.deadline) continue;
      this.#items.delete(item);
      item.expire();
    }
  }
}

/** One for the whole thread: every cluster's requests share the same check. */
export const upstreamDeadlines = new Deadlines();
