// Where log lines go by default: stdout, in batches. Under load every request writes an access log
// line; handing each to its own write(2) through the thread pool cost more per request than three
// filters (docs/benchmarks.md). Lines are joined for up to FLUSH_DELAY_MS, or until a batch is full,
// and written together. With worker threads, one thread writes stdout: the others hand it their
// batches (forwardingDestination), so no line is cut by another thread's, however long it is.

import { writeSync } from 'node:fs';
import pino from 'pino';

/**
 * Linux's PIPE_BUF, the largest write that stays whole on a pipe when another process writes to
 * it too; a batch is at most this (a single longer line is a batch of its own).
 */
export const BATCH_BYTES = 4096;

/**
 * How long a line may wait for others to join it. Short enough that a person or a script watching
 * the log sees it at once; long enough that at a few hundred requests per second and more, lines
 * go out BATCH_BYTES at a time.
 */
export const FLUSH_DELAY_MS = 100;

/** What may wait for a stdout that does not keep up before lines are dropped (and counted). */
export const DEFAULT_BACKLOG_BYTES = 16 << 20;

/**
 * Joins lines into chunks of at most `BATCH_BYTES` (a longer line is a chunk of its own) and hands
 * each chunk to `sink` `delayMs` after its first line, or at once when the next line would not fit.
 * Lines are never split and keep their order. The timer does not keep the process alive: whoever
 * exits calls `take()` or `flush()` first.
 */
export class LineBatcher {
  readonly #sink: (chunk: string) => void;
  #pending = '';
  readonly #delayMs: number;
  #timer: NodeJS.Timeout | null = null;
  readonly #flushLater = (): void => {
    this.#timer = null;
    this.flush();
  };

  constructor(sink: (chunk: string) => void, delayMs = FLUSH_DELAY_MS) {
    this.#sink = sink;
    this.#delayMs = delayMs;
  }

  push(line: string): void {
    // Sizes in UTF-16 units, which are bytes for ASCII: a line with other characters makes a
    // chunk up to 3× BATCH_BYTES, still written whole (only its atomicity on a pipe is lost).
    if (this.#pending.length > 0 && this.#pending.length + line.length > BATCH_BYTES) this.flush();
    this.#pending += line;
    this.#timer ??= setTimeout(this.#flushLater, this.#delayMs).unref();
  }

  /** Hands on what is pending now. */
  flush(): void {
    const chunk = this.take();
    if (chunk !== '') this.#sink(chunk);
  }

  /** Takes what is pending, for the caller to write itself. */
  take(): string {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    const chunk = this.#pending;
    this.#pending = '';
    return chunk;
  }
}

export interface BatchedDestination {
  write(line: string): void;
  /** Writes everything still held, synchronously (pino calls it after a fatal line). */
  flushSync(): void;
}

/** The thread's stdout writer, once made: every logger of a thread shares it. */
let stdout: StdoutDestination | null = null;

export interface StdoutDestination extends BatchedDestination {
  /** Whole lines batched by another thread (forwardingDestination), written after this thread's own. */
  writeLines(chunk: string): void;
}

/** This thread's batched destination on stdout, made on first use. */
export function stdoutDestination(): StdoutDestination {
  return (stdout ??= batchedDestination());
}

/**
 * A worker thread's destination: its batches go to `send` (to the thread that writes stdout)
 * instead of to stdout itself. Two threads writing one pipe interleave any write longer than
 * PIPE_BUF (a guest's long message, an access line with a long path) with the other's lines
 * once the reader lags, which breaks both lines for whatever reads the log as JSON.
 */
export function forwardingDestination(send: (chunk: string) => void): BatchedDestination {
  const batcher = new LineBatcher(send);
  const flushSync = (): void => batcher.flush();
  // A worker's last lines: a message posted while the thread exits still arrives.
  process.on('exit', flushSync);
  return { write: (line) => batcher.push(line), flushSync };
}

/**
 * A batched destination on `fd` (stdout by default). Writes are asynchronous: a stalled reader
 * never blocks the proxy; past `backlogBytes` waiting, lines are dropped and a count goes to stderr
 * once a minute. Everything held is written synchronously when the thread exits.
 */
export function batchedDestination(fd = 1, backlogBytes = DEFAULT_BACKLOG_BYTES): StdoutDestination {
  const sonic = pino.destination({ fd, sync: false, maxWrite: BATCH_BYTES, maxLength: backlogBytes });
  const batcher = new LineBatcher((chunk) => sonic.write(chunk));
  reportDrops(sonic);
  const flushSync = (): void => {
    // Not through sonic.write: that would start an asynchronous write, and a thread that is
    // exiting does not wait for one. A write already under way when the thread exits is
    // SonicBoom's to finish (as for pino's own exit flush).
    const rest = batcher.take();
    try {
      sonic.flushSync();
      if (rest !== '') writeAllSync(fd, Buffer.from(rest));
    } catch {
      // A closed or broken stdout at exit: nothing left to write to.
    }
  };
  // pino registers its own exit flush on the main thread only; a worker's lines count too.
  process.on('exit', flushSync);
  const writeLines = (chunk: string): void => {
    batcher.flush();
    sonic.write(chunk);
  };
  return { write: (line) => batcher.push(line), flushSync, writeLines };
}

/** Writes all of `bytes`, waiting out a full non-blocking pipe (EAGAIN) for up to a second. */
function writeAllSync(fd: number, bytes: Buffer): void {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  let waited = 0;
  for (let offset = 0; offset < bytes.length; ) {
    try {
      offset += writeSync(fd, bytes, offset);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || waited >= 1000) throw err;
      Atomics.wait(pause, 0, 0, 10);
      waited += 10;
    }
  }
}

const DROP_REPORT_INTERVAL_MS = 60_000;

function reportDrops(sonic: ReturnType<typeof pino.destination>): void {
  let dropped = 0;
  let lastReport = 0;
  sonic.on('drop', (data: string) => {
    dropped += countLines(data);
    const now = Date.now();
    if (now - lastReport < DROP_REPORT_INTERVAL_MS) return;
    lastReport = now;
    process.stderr.write(`sluice: stdout is not keeping up with the log; ${dropped} lines dropped so far\n`);
  });
}

function countLines(data: string): number {
  let n = 0;
  for (let i = data.indexOf('\n'); i !== -1; i = data.indexOf('\n', i + 1)) n++;
  return n;
}
