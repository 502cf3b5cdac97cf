// Process and scheduling calls. A filter is a library living inside the proxy: it cannot exit,
// raise signals or block the event loop.

import { WasiErrno, type WasiHost, type WasiTable } from './shared.ts';

/** Thrown by proc_exit: the guest cannot continue after it, so it is a trap with a clear message. */
export class ProcExitError extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`filter called proc_exit(${code}); a Proxy-Wasm filter cannot exit`);
    this.name = 'ProcExitError';
    this.code = code;
  }
}

export function procImports(host: WasiHost): WasiTable {
  const memory = host.memory;
  return {
    // cpp-host logs and returns here, but a guest that called proc_exit expects never to resume
    // (Emscripten's abort, AssemblyScript's abort_proc_exit), so running on would be undefined
    // behaviour. Throwing through the wasm frames makes the VM fail with this message instead.
    proc_exit: (code: number): void => {
      throw new ProcExitError(code >>> 0);
    },

    proc_raise: (): number => WasiErrno.NOSYS,

    sched_yield: (): number => WasiErrno.SUCCESS,

    // Go's usleep (called even from the GC inside the allocator) goes through here and throws if
    // it fails. Reporting zero events without waiting keeps the guest running and never stalls
    // the event loop; the guest simply sees a sleep that ended early.
    poll_oneoff: (_in: number, _out: number, _nsubscriptions: number, neventsPtr: number): number => {
      memory.refresh();
      return memory.writeU32(neventsPtr, 0) ? WasiErrno.SUCCESS : WasiErrno.FAULT;
    },
  };
}
