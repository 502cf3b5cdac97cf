// How long a filter stays out of service after it got stuck in a callback. The worker that ran
// it has to be replaced (V8 cannot stop a Wasm loop and carry on), and every request that meets
// the same loop would cost another worker: so the filter sits out, for longer each time it
// does it again, and its requests get its failure policy meanwhile (503, or skipped under
// fail_open), as with a VM that keeps trapping.

import type { Quarantine } from './messages.ts';

/** The first time out; each further one within STRIKES_FORGOTTEN_MS doubles it, up to the cap. */
export const FIRST_QUARANTINE_MS = 10_000;
export const MAX_QUARANTINE_MS = 5 * 60_000;
/** A filter that has not got stuck for this long starts again from the first time out. */
export const STRIKES_FORGOTTEN_MS = 10 * 60_000;

interface Strikes {
  count: number;
  lastAt: number;
}

export class FilterQuarantines {
  readonly #strikes = new Map<number, Strikes>();
  readonly #active = new Map<number, Quarantine>();

  /**
   * Records that the filter at `filter` got stuck at `now`; returns its time out. Stuck again
   * while out of service, it can only be a call that began before the time out reached that
   * worker (several workers stuck on it at once): the same event, not a new strike.
   */
  strike(filter: number, now: number, reason: string): Quarantine {
    const running = this.#active.get(filter);
    if (running !== undefined && running.until > now) return running;
    const previous = this.#strikes.get(filter);
    const count = previous !== undefined && now - previous.lastAt < STRIKES_FORGOTTEN_MS ? previous.count + 1 : 1;
    this.#strikes.set(filter, { count, lastAt: now });
    const quarantine = { filter, until: now + Math.min(MAX_QUARANTINE_MS, FIRST_QUARANTINE_MS * 2 ** (count - 1)), reason };
    this.#active.set(filter, quarantine);
    return quarantine;
  }

  /**
   * What a worker starting at `now` keeps out: the time outs still running, and every filter
   * that got stuck within STRIKES_FORGOTTEN_MS, until `now + laterMs`. Its start-up may be what
   * loops (a revival may be about to find out), and a worker stuck starting helps nobody: it
   * starts them once it serves, from a timer, where getting stuck costs one replacement.
   */
  keptOut(now: number, laterMs: number): Quarantine[] {
    const out = new Map(this.active(now).map((q) => [q.filter, q]));
    for (const [filter, strikes] of this.#strikes) {
      if (!out.has(filter) && now - strikes.lastAt < STRIKES_FORGOTTEN_MS) out.set(filter, { filter, until: now + laterMs, reason: 'got a worker stuck lately' });
    }
    return [...out.values()];
  }

  /** Whether the filter got a worker stuck within STRIKES_FORGOTTEN_MS of `now`. */
  struckLately(filter: number, now: number): boolean {
    const strikes = this.#strikes.get(filter);
    return strikes !== undefined && now - strikes.lastAt < STRIKES_FORGOTTEN_MS;
  }

  /** The time outs still running at `now`, for a worker that starts now. */
  active(now: number): Quarantine[] {
    for (const [filter, q] of this.#active) if (q.until <= now) this.#active.delete(filter);
    return [...this.#active.values()];
  }
}
