// Compiles WebAssembly text to binary for tests, with the `wabt` npm package. Fixtures live as
// .wat under test/fixtures/wat and are compiled at test time; no .wasm is committed.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

type Wabt = Awaited<ReturnType<typeof import('wabt')>>;

/** Features beyond the MVP that toolchain output commonly uses; i64 ↔ BigInt needs none. */
const FEATURES = {
  mutable_globals: true,
  sat_float_to_int: true,
  sign_extension: true,
  multi_value: true,
  bulk_memory: true,
  reference_types: true,
} as const;

const FIXTURE_DIR = join(import.meta.dirname, '..', 'fixtures', 'wat');

// wabt is an Emscripten build that takes ~100 ms to start; share one instance per test worker.
let wabtPromise: Promise<Wabt> | undefined;

function loadWabt(): Promise<Wabt> {
  wabtPromise ??= import('wabt').then((mod) => mod.default());
  return wabtPromise;
}

/**
 * Compiles WAT source to a wasm binary; throws with wabt's diagnostics (naming `name`) on error.
 * Typed over a plain ArrayBuffer so the result goes straight to `WebAssembly.compile`.
 */
export async function watToWasm(source: string, name = 'inline.wat'): Promise<Uint8Array<ArrayBuffer>> {
  const wabt = await loadWabt();
  const module = wabt.parseWat(name, source, FEATURES);
  try {
    module.resolveNames();
    module.validate();
    // wabt copies the output out of its own heap into a fresh Uint8Array, so this cast is exact.
    return module.toBinary({ log: false, write_debug_names: true }).buffer as Uint8Array<ArrayBuffer>;
  } finally {
    module.destroy();
  }
}

/** Compiles test/fixtures/wat/<name>.wat. */
export async function fixtureWasm(name: string): Promise<Uint8Array<ArrayBuffer>> {
  const file = `${name}.wat`;
  return watToWasm(await readFile(join(FIXTURE_DIR, file), 'utf8'), file);
}

/** Compiles and instantiates WAT source in one step. */
export async function instantiateWat(
  source: string,
  imports: WebAssembly.Imports = {},
): Promise<WebAssembly.Instance> {
  const module = await WebAssembly.compile(await watToWasm(source));
  return WebAssembly.instantiate(module, imports);
}
