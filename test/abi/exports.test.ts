// readExports: every callback sluice may call is looked up, by its own name, once.

import { describe, expect, it } from 'vitest';
import { CALLBACKS, readExports, STREAM_CALLBACK_NAMES } from '../../src/abi/exports.ts';
import { watToWasm } from '../helpers/wat.ts';

/** A module exporting each name as a function returning its index + 1. */
async function instanceExporting(names: readonly string[]): Promise<WebAssembly.Instance> {
  const funcs = names.map((name, i) => `(func (export "${name}") (result i32) (i32.const ${i + 1}))`).join('\n');
  const bytes = await watToWasm(`(module (memory (export "memory") 1)\n${funcs})`, 'exports.wat');
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
}

describe('readExports', () => {
  it('finds every callback under its own name, and the stream callbacks again by index', async () => {
    const names = [...CALLBACKS, 'proxy_on_memory_allocate'];
    const exports = readExports(await instanceExporting(names));
    if (typeof exports === 'string') throw new Error(exports);
    const fields = exports as unknown as Record<string, (() => number) | undefined>;
    for (const [i, name] of CALLBACKS.entries()) expect(fields[name]?.(), name).toBe(i + 1);
    expect(exports.allocate?.()).toBe(names.length);
    expect(exports.streamCallbacks.map((fn) => fn?.())).toEqual(STREAM_CALLBACK_NAMES.map((name) => CALLBACKS.indexOf(name) + 1));
  });

  it('leaves absent callbacks undefined and falls back to malloc', async () => {
    const exports = readExports(await instanceExporting(['malloc', 'proxy_on_log']));
    if (typeof exports === 'string') throw new Error(exports);
    expect(exports.allocate?.()).toBe(1);
    expect(exports.proxy_on_log?.()).toBe(2);
    expect(exports.proxy_on_request_headers).toBeUndefined();
    expect(exports.streamCallbacks).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
  });

  it('refuses a module without an exported memory', async () => {
    const bytes = await watToWasm('(module (func (export "proxy_on_log") (param i32)))', 'no-memory.wat');
    expect(readExports(new WebAssembly.Instance(new WebAssembly.Module(bytes), {}))).toBe('the module does not export its memory as "memory"');
  });
});
