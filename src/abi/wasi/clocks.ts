// Clocks. Both must work: the Go runtime throws if either realtime or monotonic fails.

import { WasiErrno, type WasiHost, type WasiTable } from './shared.ts';

const CLOCK_REALTIME = 0;
const CLOCK_MONOTONIC = 1;
const NS_PER_MS = 1_000_000n;

/**
 * Wall clock. Date.now() only has millisecond resolution, but it is the one JS clock that follows
 * the system clock when it is stepped; deriving wall time from the monotonic clock would drift.
 */
export const defaultRealtimeNs = (): bigint => BigInt(Date.now()) * NS_PER_MS;

export function clockImports(host: WasiHost): WasiTable {
  const memory = host.memory;
  const realtimeNs = host.realtimeNs ?? defaultRealtimeNs;
  const monotonicNs = host.monotonicNs ?? process.hrtime.bigint;

  return {
    // The precision hint (an i64, so a BigInt here) is ignored, as every host does.
    clock_time_get: (id: number, _precision: bigint, timePtr: number): number => {
      let now: bigint;
      if (id === CLOCK_MONOTONIC) now = monotonicNs();
      else if (id === CLOCK_REALTIME) now = realtimeNs();
      else return WasiErrno.NOTSUP; // process/thread CPU-time clocks mean nothing here
      memory.refresh();
      return memory.writeU64(timePtr, now) ? WasiErrno.SUCCESS : WasiErrno.FAULT;
    },

    // cpp-host reports 1 ns for both clocks; guests only use it to scale sleeps.
    clock_res_get: (id: number, resolutionPtr: number): number => {
      if (id !== CLOCK_REALTIME && id !== CLOCK_MONOTONIC) return WasiErrno.NOTSUP;
      memory.refresh();
      return memory.writeU64(resolutionPtr, 1n) ? WasiErrno.SUCCESS : WasiErrno.FAULT;
    },
  };
}
