// Program arguments and environment. A filter has no argv (the spec says args_sizes_get reports
// 0/0); its environment is the per-plugin list from configuration, never the proxy's own.

import { WasiErrno, type WasiHost, type WasiTable } from './shared.ts';

interface EncodedEnviron {
  readonly count: number;
  /** Every entry as UTF-8 followed by NUL, back to back — exactly environ_get's buffer. */
  readonly bytes: Buffer;
  /** Where each entry starts inside `bytes`. */
  readonly offsets: readonly number[];
}

export function encodeEnviron(entries: readonly string[]): EncodedEnviron {
  const offsets: number[] = [];
  let size = 0;
  for (const entry of entries) {
    offsets.push(size);
    size += Buffer.byteLength(entry, 'utf8') + 1;
  }
  const bytes = Buffer.alloc(size); // zero-filled, so the terminators are already in place
  for (let i = 0; i < entries.length; i++) bytes.utf8Write(entries[i]!, offsets[i]!);
  return { count: entries.length, bytes, offsets };
}

export function environImports(host: WasiHost): WasiTable {
  const memory = host.memory;
  // The environment is fixed for the life of a VM, so it is encoded once.
  const env = encodeEnviron(host.environ);

  return {
    environ_sizes_get: (countPtr: number, bufSizePtr: number): number => {
      memory.refresh();
      if (!memory.inBounds(countPtr, 4) || !memory.inBounds(bufSizePtr, 4)) return WasiErrno.FAULT;
      memory.writeU32(countPtr, env.count);
      memory.writeU32(bufSizePtr, env.bytes.length);
      return WasiErrno.SUCCESS;
    },

    environ_get: (environPtrsArg: number, environBufArg: number): number => {
      memory.refresh();
      const ptrs = environPtrsArg >>> 0;
      const buf = environBufArg >>> 0;
      if (!memory.inBounds(ptrs, env.count * 4) || !memory.inBounds(buf, env.bytes.length)) {
        return WasiErrno.FAULT;
      }
      for (let i = 0; i < env.count; i++) memory.writeU32(ptrs + i * 4, buf + env.offsets[i]!);
      memory.writeBytes(buf, env.bytes);
      return WasiErrno.SUCCESS;
    },

    args_sizes_get: (argcPtr: number, argvBufSizePtr: number): number => {
      memory.refresh();
      if (!memory.inBounds(argcPtr, 4) || !memory.inBounds(argvBufSizePtr, 4)) return WasiErrno.FAULT;
      memory.writeU32(argcPtr, 0);
      memory.writeU32(argvBufSizePtr, 0);
      return WasiErrno.SUCCESS;
    },

    // With argc = 0 there is nothing to write.
    args_get: (): number => WasiErrno.SUCCESS,
  };
}
