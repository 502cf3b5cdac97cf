// What every WASI area shares: the errno values we answer with, the host interface a filter's
// WASI table is built on, and the shape of one host function.

import type { GuestMemory } from '../memory.ts';
import type { LogLevel } from '../types.ts';

/** The subset of preview1 errno values the host ever returns. */
export const WasiErrno = {
  SUCCESS: 0,
  BADF: 8,
  FAULT: 21,
  INVAL: 28,
  NOENT: 44,
  NOSYS: 52,
  NOTSUP: 58,
  NOTDIR: 20,
  NOTCAPABLE: 76,
} as const;
export type WasiErrno = (typeof WasiErrno)[keyof typeof WasiErrno];

export interface WasiHost {
  readonly memory: GuestMemory;
  /** Guest output: fd 1 → LogLevel.INFO, fd 2 → LogLevel.ERROR; one trailing '\n' stripped. */
  log(level: LogLevel, message: string): void;
  /** "KEY=VALUE" strings served by environ_get / environ_sizes_get (per filter, never process.env). */
  readonly environ: readonly string[];
  /** Monotonic clock in ns (injectable for tests); default process.hrtime.bigint. */
  monotonicNs?: () => bigint;
  /** Wall clock in ns since epoch (injectable for tests). */
  realtimeNs?: () => bigint;
}

/**
 * One preview1 host function. i32 arguments arrive as (signed) numbers, i64 ones as BigInt;
 * every function but proc_exit returns an errno.
 */
export type WasiFunction = (...args: any[]) => number | void;

export type WasiTable = Record<string, WasiFunction>;

/** The standard fds a filter may write to. Anything else is not open. */
export const STDOUT = 1;
export const STDERR = 2;

export function isStdio(fd: number): boolean {
  return fd === STDOUT || fd === STDERR;
}
