// Loading: ABI detection from export markers, invalid bytes, lenient linking of unknown and
// unimplemented imports, and non-function imports (reference §1.1, §1.2, §4.15).

import { describe, expect, it } from 'vitest';
import { GuestTrap, ModuleLoadError, PluginStartError } from '../../src/abi/errors.ts';
import { PROXY_FUNCTION_NAMES } from '../../src/abi/imports.ts';
import { compileModule, loadModuleFile } from '../../src/abi/module.ts';
import { PluginSet } from '../../src/abi/plugin-set.ts';
import { LogLevel } from '../../src/abi/types.ts';
import { watToWasm } from '../helpers/wat.ts';
import { CallServices, compileFixture, compileWat, createVm, memoryLogger, PINO, tempFile } from './helpers.ts';

/** A minimal module exporting memory and the given (empty) functions. */
function exporting(...names: string[]): string {
  return `(module (memory (export "memory") 1) ${names.map((n) => `(func (export "${n}"))`).join(' ')})`;
}

function loadError(fn: () => unknown): ModuleLoadError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ModuleLoadError);
    return err as ModuleLoadError;
  }
  throw new Error('expected a ModuleLoadError');
}

describe('ABI detection', () => {
  it.each([
    ['proxy_abi_version_0_1_0', '0.1.0'],
    ['proxy_abi_version_0_2_0', '0.2.0'],
    ['proxy_abi_version_0_2_1', '0.2.1'],
  ])('%s → %s', async (marker, abi) => {
    const module = await compileWat(exporting(marker, 'proxy_on_vm_start'), `${marker}.wat`);
    expect(module.abi).toBe(abi);
    expect(module.file).toBe(`${marker}.wat`);
  });

  it('refuses a module without a marker, listing what it found and what is supported', async () => {
    const bytes = await watToWasm(exporting('proxy_on_vm_start'));
    const err = loadError(() => compileModule(bytes, 'no-marker.wasm'));
    expect(err.code).toBe('SLUICE_MODULE_LOAD');
    expect(err.file).toBe('no-marker.wasm');
    expect(err.message).toBe(
      'no-marker.wasm: no supported Proxy-Wasm ABI marker: found none; supported: ' +
        'proxy_abi_version_0_2_1, proxy_abi_version_0_2_0, proxy_abi_version_0_1_0',
    );
  });

  it('names unsupported markers it found (vNEXT placeholder, future versions)', async () => {
    const bytes = await watToWasm(exporting('proxy_abi_version_0_x_x', 'proxy_abi_version_0_3_0'));
    const err = loadError(() => compileModule(bytes, 'future.wasm'));
    expect(err.message).toContain('found proxy_abi_version_0_x_x, proxy_abi_version_0_3_0;');
    expect(err.message).toContain('supported: proxy_abi_version_0_2_1');
  });

  it('names the file when the bytes are not WebAssembly', () => {
    const err = loadError(() => compileModule(Buffer.from('#!/bin/sh\necho hi\n'), 'filters/script.wasm'));
    expect(err.file).toBe('filters/script.wasm');
    expect(err.message).toMatch(/^filters\/script\.wasm: invalid WebAssembly module \(not a WebAssembly binary\): /);
  });

  it('names the file when a wasm binary is corrupt', async () => {
    const bytes = await watToWasm(exporting('proxy_abi_version_0_2_1'));
    const truncated = bytes.subarray(0, bytes.length - 3);
    const err = loadError(() => compileModule(truncated, 'broken.wasm'));
    expect(err.message).toMatch(/^broken\.wasm: invalid WebAssembly module: /);
    expect(err.message).not.toContain('not a WebAssembly binary');
  });

  it('reports a missing file as "file not found"', () => {
    const err = loadError(() => loadModuleFile('/nonexistent/sluice/filter.wasm'));
    expect(err.message).toBe('/nonexistent/sluice/filter.wasm: file not found');
  });
});

describe('lenient linking', () => {
  it('instantiates a module importing names sluice has never heard of or does not implement', async () => {
    const module = await compileFixture('abi-unknown-imports');
    const { logger } = memoryLogger();
    const { vm, raw } = createVm(module, { logger });
    expect(vm.call(null, 'ok', raw['ok'] as () => number)).toBe(42);
    expect(vm.failure).toBeNull();
  });

  it.each([
    ['call_unknown', 'env.totally_unknown'],
    ['call_create_timer', 'env.proxy_create_timer'],
    ['call_custom_function', 'env.proxy_call_custom_function'],
  ])('%s traps with a message naming %s', async (entry, importName) => {
    if (importName.startsWith('env.proxy_')) expect(PROXY_FUNCTION_NAMES).toContain(importName.slice(4)); // a name sluice knows
    const module = await compileFixture('abi-unknown-imports');
    const { logger, lines } = memoryLogger();
    const { vm, raw } = createVm(module, { logger });
    let caught: unknown;
    try {
      vm.call(null, entry, raw[entry] as () => number);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(GuestTrap);
    const trap = caught as GuestTrap;
    expect(trap.callback).toBe(entry);
    expect(trap.message).toBe(`${entry} failed: the filter called ${importName}, which sluice does not implement`);
    expect(vm.failure).toBe(trap);
    const failed = lines.filter((l) => l.level === PINO.error);
    expect(failed.map((l) => [l.msg, l['callback']])).toEqual([['filter VM failed; it will be replaced', entry]]);
    expect(JSON.stringify(failed[0])).toContain(importName);
  });

  it('refuses a memory import with a load error naming it', async () => {
    const module = await compileWat(
      '(module (import "env" "memory" (memory 1)) (func (export "proxy_abi_version_0_2_1")))',
      'imports-memory.wasm',
    );
    const err = loadError(() => createVm(module, { logger: memoryLogger().logger }));
    expect(err.message).toBe("imports-memory.wasm: imports a memory 'env.memory', which sluice does not provide");
  });

  it('refuses a table import with a load error naming it', async () => {
    const module = await compileWat(
      '(module (import "env" "__indirect_function_table" (table 1 funcref)) (memory (export "memory") 1) (func (export "proxy_abi_version_0_2_1")))',
      'imports-table.wasm',
    );
    const err = loadError(() => createVm(module, { logger: memoryLogger().logger }));
    expect(err.message).toBe("imports-table.wasm: imports a table 'env.__indirect_function_table', which sluice does not provide");
  });

  it('satisfies WASI imports under both wasi_snapshot_preview1 and wasi_unstable', async () => {
    const module = await compileWat(
      `(module
        (import "wasi_snapshot_preview1" "random_get" (func $a (param i32 i32) (result i32)))
        (import "wasi_unstable" "random_get" (func $b (param i32 i32) (result i32)))
        (memory (export "memory") 1)
        (func (export "proxy_abi_version_0_2_1"))
        (func (export "both") (result i32) (i32.add (call $a (i32.const 0) (i32.const 8)) (call $b (i32.const 8) (i32.const 8)))))`,
      'wasi-both.wasm',
    );
    const { vm, raw } = createVm(module, { logger: memoryLogger().logger });
    expect(vm.call(null, 'both', raw['both'] as () => number)).toBe(0);
  });
});

describe('load errors through PluginSet', () => {
  const spec = (modulePath: string) => ({
    modulePath,
    name: 'broken-filter',
    rootId: '',
    vmId: '',
    environ: [],
    configuration: Buffer.alloc(0),
    vmConfiguration: Buffer.alloc(0),
    logLevel: LogLevel.INFO,
    failOpen: false,
  });

  it('invalid bytes: a PluginStartError naming the filter and the file', async () => {
    const file = tempFile('garbage.wasm', 'not wasm at all');
    let caught: unknown;
    try {
      new PluginSet([spec(file)], new CallServices(), memoryLogger().logger);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PluginStartError);
    expect((caught as PluginStartError).message).toMatch(/^filter 'broken-filter': .*garbage\.wasm: invalid WebAssembly module \(not a WebAssembly binary\)/);
  });

  it('a memory import: start fails with a PluginStartError that names the import', async () => {
    const file = tempFile('imports-memory.wasm', await watToWasm('(module (import "env" "memory" (memory 1)) (func (export "proxy_abi_version_0_2_1")))'));
    const set = new PluginSet([spec(file)], new CallServices(), memoryLogger().logger);
    let caught: unknown;
    try {
      set.start();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PluginStartError);
    expect((caught as PluginStartError).message).toContain("imports a memory 'env.memory', which sluice does not provide");
  });
});
