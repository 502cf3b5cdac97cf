// A warning that may fire on every request (a full shared store, a full queue) is logged at
// most once per interval, carrying how many times it happened since the last line.

import type { Logger } from 'pino';

export const WARNING_INTERVAL_MS = 10_000;

export class ThrottledWarning {
  readonly #message: string;
  readonly #intervalMs: number;
  readonly #level: 'warn' | 'error';
  #lastAt = -Infinity;
  #suppressed = 0;

  constructor(message: string, intervalMs = WARNING_INTERVAL_MS, level: 'warn' | 'error' = 'warn') {
    this.#message = message;
    this.#intervalMs = intervalMs;
    this.#level = level;
  }

  /** Logs now unless a line went out less than an interval ago (then only counts). */
  warn(logger: Logger | undefined, details: Record<string, unknown>): void {
    const now = Date.now();
    if (now - this.#lastAt < this.#intervalMs) {
      this.#suppressed++;
      return;
    }
    logger?.[this.#level]({ ...details, suppressed: this.#suppressed }, this.#message);
    this.#lastAt = now;
    this.#suppressed = 0;
  }
}
