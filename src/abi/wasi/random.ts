// random_get: cryptographic bytes written straight into guest memory (Rust's HashMap seeds,
// Go's runtime and crypto/rand, the C++ SDK's getentropy all come through here).

import { getRandomValues } from 'node:crypto';
import { MAX_RANDOM_BYTES } from '../limits.ts';
import { WasiErrno, type WasiHost, type WasiTable } from './shared.ts';

/** Web Crypto refuses to fill more than this in one call. */
const GET_RANDOM_VALUES_MAX = 65536;

export function randomImports(host: WasiHost): WasiTable {
  const memory = host.memory;
  return {
    random_get: (bufPtr: number, bufLenArg: number): number => {
      const len = bufLenArg >>> 0;
      if (len > MAX_RANDOM_BYTES) return WasiErrno.INVAL;
      if (len === 0) return WasiErrno.SUCCESS;
      memory.refresh();
      const target = memory.slice(bufPtr, len);
      if (target === null) return WasiErrno.FAULT;
      for (let at = 0; at < len; at += GET_RANDOM_VALUES_MAX) {
        getRandomValues(target.subarray(at, Math.min(len, at + GET_RANDOM_VALUES_MAX)));
      }
      return WasiErrno.SUCCESS;
    },
  };
}
