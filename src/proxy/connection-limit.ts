// How many client connections the process keeps open at once, over every listener and worker.
// Without a bound, a client holding idle connections takes every file descriptor: new requests
// are refused at accept, the admin port with them, and upstream connections fail (RATIONALE,
// "Client connections"). The count lives in shared memory so that workers admit against one
// total; each worker also counts its own share, which the supervisor takes back when the worker
// is gone (a terminated worker's sockets close without running any JavaScript).

import { readFileSync } from 'node:fs';

/** "As many as the process can hold": above any real open-file limit. */
export const UNLIMITED = 2 ** 30;

/**
 * Descriptors `max_connections: auto` leaves for everything else: the admin port, filter
 * modules, log output, V8's and libuv's own, the supervisor's channels.
 */
const RESERVED_DESCRIPTORS = 256;

/** `auto` never allows fewer than this, however low the limit. */
const MIN_AUTO_CONNECTIONS = 16;

/**
 * The process's open-file limit (the soft one, which Node raises to the hard one at start-up),
 * or null where it cannot be read (only Linux has /proc/self/limits) or is unlimited.
 */
export function openFileLimit(limitsText?: string): number | null {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'latin1');
    } catch {
      return null;
    }
  }
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  if (m === null || m[1] === 'unlimited') return null;
  return Number(m[1]);
}

/**
 * `max_connections` as a number. `auto`: half of what the open-file limit leaves after a
 * reserve, since each client connection may hold an upstream connection too; without a known
 * limit, no bound.
 */
export function resolveMaxConnections(setting: number | 'auto', fileLimit = openFileLimit()): number {
  if (setting !== 'auto') return setting;
  if (fileLimit === null) return UNLIMITED;
  return Math.max(MIN_AUTO_CONNECTIONS, Math.floor((fileLimit - RESERVED_DESCRIPTORS) / 2));
}

/**
 * For a `max_connections` set by hand above what `auto` would allow: the open-file limit and
 * what it supports, for a warning at start (a limit the descriptors cannot back is no guard).
 */
export function unbackedLimit(setting: number | 'auto', fileLimit = openFileLimit()): { openFileLimit: number; supported: number } | null {
  if (setting === 'auto' || fileLimit === null) return null;
  const supported = resolveMaxConnections('auto', fileLimit);
  return setting > supported ? { openFileLimit: fileLimit, supported } : null;
}

/** The process-wide count, shared by every worker. */
export function connectionTotal(): SharedArrayBuffer {
  return new SharedArrayBuffer(4);
}

/** One worker's share of the total: a replaced worker's own, so that its successor's is not touched. */
export function connectionShare(): SharedArrayBuffer {
  return new SharedArrayBuffer(4);
}

/** One proxy's view of the process-wide count. */
export class ConnectionLimit {
  readonly max: number;
  readonly #total: Int32Array;
  readonly #share: Int32Array;

  /** By default this proxy's own count (no workers). */
  constructor(max: number, total = connectionTotal(), share = connectionShare()) {
    this.max = max;
    this.#total = new Int32Array(total);
    this.#share = new Int32Array(share);
  }

  /** Counts a new connection in; false (and nothing counted) when the process is at its limit. */
  admit(): boolean {
    if (Atomics.add(this.#total, 0, 1) >= this.max) {
      Atomics.sub(this.#total, 0, 1);
      return false;
    }
    Atomics.add(this.#share, 0, 1);
    return true;
  }

  /** An admitted connection closed. */
  release(): void {
    Atomics.sub(this.#share, 0, 1);
    Atomics.sub(this.#total, 0, 1);
  }

  /** Connections open in the whole process. */
  get open(): number {
    return Atomics.load(this.#total, 0);
  }
}

/**
 * A worker has exited and its connections with it, without their close handlers running: its
 * share leaves the total (supervisor side). Returns the share.
 */
export function reclaimShare(total: SharedArrayBuffer, share: SharedArrayBuffer): number {
  const left = Atomics.exchange(new Int32Array(share), 0, 0);
  Atomics.sub(new Int32Array(total), 0, left);
  return left;
}
