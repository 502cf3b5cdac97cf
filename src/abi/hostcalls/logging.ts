// proxy_log, proxy_get_log_level, proxy_get_current_time_nanoseconds.

import { performance } from 'node:perf_hooks';
import { LogLevel, Status } from '../types.ts';
import { MAX_LOGGED_WRITE_BYTES, notLogged } from '../wasi.ts';
import type { Vm } from '../vm.ts';
import { enter } from './util.ts';

const PINO_METHOD = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

// The wall clock, as the ABI and Envoy have it (ns since the epoch). Date.now() follows the system
// clock when it is stepped or slewed, but counts whole milliseconds; the monotonic clock, counted
// from the first call seen in the current millisecond, supplies the fraction, capped below the
// next millisecond. Monotonic time alone, counted from start-up, drifted from the wall clock (by
// 2.6 ms within one test run; by more over a proxy's uptime), as wasi/clocks.ts notes too.
let wallMs = 0;
let monoAtWallMs = 0;

export function nowNanoseconds(): bigint {
  const mono = performance.now();
  const wall = Date.now();
  if (wall !== wallMs) {
    wallMs = wall;
    monoAtWallMs = mono;
  }
  const fractionNs = Math.min(Math.floor((mono - monoAtWallMs) * 1e6), 999_999);
  return BigInt(wall) * 1_000_000n + BigInt(fractionNs);
}

export function loggingImports(vm: Vm) {
  const mem = vm.memory;
  return {
    proxy_log(level: number, msgPtr: number, msgSize: number): number {
      const ctx = enter(vm);
      if (level >>> 0 > LogLevel.CRITICAL) return Status.BAD_ARGUMENT;
      // Below the filter's level: skip decoding entirely (the common case for debug logs).
      const threshold = ctx === null ? LogLevel.TRACE : ctx.plugin.config.logLevel;
      if (level < threshold) return mem.inBounds(msgPtr, msgSize) ? Status.OK : Status.INVALID_MEMORY_ACCESS;
      if (!mem.inBounds(msgPtr, msgSize)) return Status.INVALID_MEMORY_ACCESS;
      // As a WASI write: one message is logged up to 1 MiB and the rest summarised, so a guest
      // cannot make the host build (and escape) a line of any size it likes.
      const size = msgSize >>> 0;
      const message =
        size <= MAX_LOGGED_WRITE_BYTES
          ? mem.utf8(msgPtr, size)!
          : mem.utf8(msgPtr, MAX_LOGGED_WRITE_BYTES)! + notLogged(size - MAX_LOGGED_WRITE_BYTES);
      writeGuestLog(vm, ctx?.id ?? 0, level, message, ctx === null ? undefined : ctx.logger);
      return Status.OK;
    },

    proxy_get_log_level(levelPtr: number): number {
      const ctx = enter(vm);
      const level = ctx === null ? LogLevel.INFO : ctx.plugin.config.logLevel;
      return mem.writeU32(levelPtr, level) ? Status.OK : Status.INVALID_MEMORY_ACCESS;
    },

    proxy_get_current_time_nanoseconds(timePtr: number): number {
      enter(vm);
      return mem.writeU64(timePtr, nowNanoseconds()) ? Status.OK : Status.INVALID_MEMORY_ACCESS;
    },
  };
}

/** Guest messages go under the `wasm` key of the plugin's logger, never as bindings. */
export function writeGuestLog(vm: Vm, contextId: number, level: number, message: string, logger = vm.logger): void {
  const method = PINO_METHOD[Math.min(level, LogLevel.CRITICAL)]!;
  logger[method]({ wasm: { context_id: contextId } }, message);
}
