// The WASI preview1 layer. Proxy-Wasm filters are usually built for WASI targets although they
// never touch files, so the host must satisfy every preview1 import a toolchain links. Behaviour
// follows proxy-wasm-cpp-host (what guests were tested against): fds 1/2 are the plugin log,
// the environment is per plugin, clocks and randomness are real, everything else is a cheap
// stub answering the errno that guests tolerate. We implement it ourselves rather than use
// `node:wasi`, which owns start-up, may block in poll_oneoff and ends the instance on proc_exit.
//
// One file per area lives in ./wasi/; this module assembles them and is the public surface.

import { clockImports } from './wasi/clocks.ts';
import { environImports } from './wasi/environ.ts';
import { fdImports } from './wasi/fd.ts';
import { procImports } from './wasi/proc.ts';
import { randomImports } from './wasi/random.ts';
import type { WasiHost, WasiTable } from './wasi/shared.ts';
import { pathImports, sockImports } from './wasi/stubs.ts';

export { WasiErrno, type WasiHost, type WasiFunction, type WasiTable } from './wasi/shared.ts';
export { ProcExitError } from './wasi/proc.ts';
export {
  WASI_FUNCTION_NAMES,
  WASI_SIGNATURES,
  type WasiSignature,
  type WasiValueType,
} from './wasi/signatures.ts';
export { MAX_LOGGED_WRITE_BYTES, notLogged } from './wasi/fd.ts';

/** The module names the same table is registered under (the second is the pre-snapshot alias). */
export const WASI_MODULE_NAMES = ['wasi_snapshot_preview1', 'wasi_unstable'] as const;

/** The preview1 function table; the VM registers the same object under both `wasi_snapshot_preview1` and `wasi_unstable`. */
export function createWasiImports(host: WasiHost): WasiTable {
  return {
    ...environImports(host),
    ...clockImports(host),
    ...fdImports(host),
    ...pathImports(host),
    ...procImports(host),
    ...randomImports(host),
    ...sockImports(host),
  };
}
