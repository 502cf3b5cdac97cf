// The SDK guess of `sluice inspect` on signals alone: which hint wins, and "unknown" when the
// shape fits no toolchain.

import { describe, expect, it } from 'vitest';
import { guessSdk, type SdkSignals } from '../../src/abi/inspect.ts';

function signals(s: Partial<Omit<SdkSignals, 'exports' | 'producers'>> & { exports?: string[]; wasi?: string[]; env?: string[]; producers?: Record<string, string[]> }): SdkSignals {
  return {
    abi: s.abi ?? '0.2.1',
    exports: new Set(s.exports ?? []),
    imports: [
      ...(s.wasi ?? []).map((name) => ({ module: 'wasi_snapshot_preview1', name, kind: 'function' as const })),
      ...(s.env ?? []).map((name) => ({ module: 'env', name, kind: 'function' as const })),
    ],
    startSection: s.startSection ?? false,
    functionNames: s.functionNames ?? [],
    producers: new Map(Object.entries(s.producers ?? {})),
  };
}

describe('guessSdk', () => {
  it('AssemblyScript by its runtime exports, even without a start section', () => {
    expect(guessSdk(signals({ exports: ['__new', '__pin', 'malloc'] }))).toEqual({ id: 'assemblyscript', label: 'AssemblyScript', reasons: ['exports __new, __pin'] });
  });

  it('Rust names in the name section beat an Emscripten-like shape', () => {
    const guess = guessSdk(signals({ exports: ['_initialize', 'malloc'], wasi: ['fd_write'], functionNames: ['main', 'rust_begin_unwind'] }));
    expect(guess).toEqual({ id: 'rust', label: 'Rust (wasm32-wasip1)', reasons: ['function names like rust_begin_unwind', 'WASI imports'] });
  });

  it('Rust from the producers section, and Rust SDK 0.1.x for ABI 0.1.0', () => {
    expect(guessSdk(signals({ abi: '0.1.0', exports: ['_start', 'malloc'], producers: { language: ['Rust'] } })).label).toBe('Rust (SDK 0.1.x)');
  });

  it('C/C++ producers mean Emscripten', () => {
    expect(guessSdk(signals({ exports: ['_initialize', 'malloc'], producers: { language: ['C++'], 'processed-by': ['clang'] } })).id).toBe('emscripten');
  });

  it('TinyGo needs _start without _initialize', () => {
    const tinygo = { abi: '0.2.0', exports: ['_start', 'proxy_on_memory_allocate'] } as const;
    expect(guessSdk(signals({ ...tinygo, exports: [...tinygo.exports] })).id).toBe('tinygo');
    expect(guessSdk(signals({ ...tinygo, exports: [...tinygo.exports, '_initialize'] })).id).toBe('unknown');
  });

  it('a Go-like reactor without the preopen scan import is not claimed', () => {
    const shape = { abi: '0.2.0' as const, exports: ['_initialize', 'proxy_on_memory_allocate'] };
    expect(guessSdk(signals({ ...shape, wasi: ['fd_write', 'fd_prestat_get'] })).id).toBe('go');
    expect(guessSdk(signals({ ...shape, wasi: ['fd_write'] }))).toEqual({ id: 'unknown', label: 'unknown', reasons: [] });
  });

  it('an AssemblyScript-like start section needs malloc and an abort route', () => {
    expect(guessSdk(signals({ abi: '0.2.0', startSection: true, exports: ['malloc'], env: ['abort'] })).reasons).toEqual(['start section', 'malloc', 'imports env.abort']);
    expect(guessSdk(signals({ abi: '0.2.0', startSection: true, exports: ['malloc'] })).id).toBe('unknown');
  });
});
