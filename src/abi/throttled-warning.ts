// A warning that may fire on every request (a full shared store, a full queue) is logged at
// most once per interval, carrying how many times it happened since the last line; what the
// last interval suppressed is reported at its end.

import type { Logger } from 'pino';

export const WARNING_INTERVAL_MS = 10_000;

export class ThrottledWarning {
  readonly #message: string;
  readonly #intervalMs: number;
  readonly #level: 'warn' | 'error';
  #lastAt = -Infinity;
  #suppressed = 0;
  /** Reports what an interval suppressed when nothing comes after it to carry the count. */
  #flush: NodeJS.Timeout | null = null;
  #lastLogger: Logger | undefined;
  #lastDetails: Record<string, unknown> = {};

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
      this.#lastLogger = logger;
      this.#lastDetails = details;
      this.#flush ??= setTimeout(() => this.#flushSuppressed(), this.#lastAt + this.#intervalMs - now).unref();
      return;
    }
    this.#log(logger, details, now);
  }

  #flushSuppressed(): void {
    this.#flush = null;
    if (this.#suppressed > 0) this.#log(this.#lastLogger, this.#lastDetails, Date.now());
  }

  #log(logger: Logger | undefined, details: Record<string, unknown>, now: number): void {
    logger?.[this.#level]({ ...details, suppressed: this.#suppressed }, this.#message);
    this.#lastAt = now;
    this.#suppressed = 0;
  }
}

/**
 * ThrottledWarnings by message, for a warning whose text varies (a refusal and its reason): each
 * message is throttled on its own. A guest may vary the text (a name in it), so at most `max`
 * messages are kept; past that the set starts again.
 */
export class ThrottledWarnings {
  readonly #byMessage = new Map<string, ThrottledWarning>();
  readonly #max: number;

  constructor(max = 64) {
    this.#max = max;
  }

  warn(message: string, logger: Logger | undefined, details: Record<string, unknown>): void {
    let warning = this.#byMessage.get(message);
    if (warning === undefined) {
      if (this.#byMessage.size >= this.#max) this.#byMessage.clear();
      warning = new ThrottledWarning(message);
      this.#byMessage.set(message, warning);
    }
    warning.warn(logger, details);
  }
}
