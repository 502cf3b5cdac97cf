// The lists `sluice inspect` uses to say which imports are implemented must match what a real
// VM's import object provides. Adding a host function to envImports() without listing it in
// IMPLEMENTED_ENV_FUNCTIONS (or the reverse) fails here.

import { describe, expect, it } from 'vitest';
import { envImports, IMPLEMENTED_ENV_FUNCTIONS, isImplemented, linkProblem } from '../../src/abi/imports.ts';
import { GuestMemory } from '../../src/abi/memory.ts';
import { createWasiImports, WASI_FUNCTION_NAMES } from '../../src/abi/wasi.ts';
import { compileWat, createVm, memoryLogger } from './helpers.ts';

const sorted = (names: Iterable<string>) => [...names].sort();

describe('implemented import names', () => {
  it('IMPLEMENTED_ENV_FUNCTIONS lists exactly the env functions a VM gets', async () => {
    const module = await compileWat('(module (memory (export "memory") 1) (func (export "proxy_abi_version_0_2_1")))');
    const { vm } = createVm(module, { logger: memoryLogger().logger });
    expect(sorted(IMPLEMENTED_ENV_FUNCTIONS)).toEqual(sorted(Object.keys(envImports(vm))));
    expect(new Set(IMPLEMENTED_ENV_FUNCTIONS).size).toBe(IMPLEMENTED_ENV_FUNCTIONS.length);
  });

  it('WASI_FUNCTION_NAMES lists exactly the WASI table', () => {
    const table = createWasiImports({ memory: new GuestMemory(), environ: [], log: () => {} });
    expect(sorted(WASI_FUNCTION_NAMES)).toEqual(sorted(Object.keys(table)));
  });

  it('isImplemented answers per module', () => {
    expect(isImplemented('env', 'proxy_log')).toBe(true);
    expect(isImplemented('env', 'proxy_call_foreign_function')).toBe(true);
    expect(isImplemented('env', 'totally_unknown')).toBe(false);
    expect(isImplemented('wasi_snapshot_preview1', 'fd_write')).toBe(true);
    expect(isImplemented('wasi_unstable', 'fd_write')).toBe(true);
    expect(isImplemented('wasi_snapshot_preview1', 'proxy_log')).toBe(false);
    expect(isImplemented('other', 'fd_write')).toBe(false);
  });

  it('linkProblem names the first import that is not a function', () => {
    expect(linkProblem([{ module: 'env', name: 'proxy_log', kind: 'function' }])).toBeNull();
    expect(linkProblem([{ module: 'env', name: 'proxy_log', kind: 'function' }, { module: 'env', name: 'memory', kind: 'memory' }])).toBe(
      "imports a memory 'env.memory', which sluice does not provide",
    );
  });
});
