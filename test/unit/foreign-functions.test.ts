// The foreign-function registry: built-ins, ids, replacement, and Envoy-compatible statuses of
// compress / uncompress.

import { deflateSync, inflateSync } from 'node:zlib';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ForeignFunctionRegistry, MAX_UNCOMPRESSED_BYTES, type ForeignCallContext } from '../../src/abi/foreign-functions.ts';
import { Status } from '../../src/abi/types.ts';

const ctx: ForeignCallContext = { filter: 'f', rootId: '', vmId: '', contextId: 1, functionId: 0, logger: pino({ level: 'silent' }) };

function run(registry: ForeignFunctionRegistry, name: string, args: Buffer) {
  return registry.get(name)!.fn(args, ctx);
}

describe('ForeignFunctionRegistry', () => {
  it('starts with compress and uncompress (ids 0 and 1), or empty when asked', () => {
    const registry = new ForeignFunctionRegistry();
    expect(registry.names()).toEqual(['compress', 'uncompress']);
    expect([registry.get('compress')!.id, registry.get('uncompress')!.id]).toEqual([0, 1]);
    expect(new ForeignFunctionRegistry({ builtins: false }).names()).toEqual([]);
  });

  it('gives new functions the next unused id unless one is chosen', () => {
    const fn = () => Buffer.alloc(0);
    const registry = new ForeignFunctionRegistry().register('a', fn).register('kong_style', fn, { id: 10 }).register('b', fn);
    expect(['a', 'kong_style', 'b'].map((n) => registry.get(n)!.id)).toEqual([2, 10, 11]);
  });

  it('rejects ids that are not a u32', () => {
    const registry = new ForeignFunctionRegistry();
    expect(() => registry.register('x', () => Buffer.alloc(0), { id: -1 })).toThrow(RangeError);
    expect(() => registry.register('x', () => Buffer.alloc(0), { id: 2 ** 32 })).toThrow(RangeError);
    expect(() => registry.register('x', () => Buffer.alloc(0), { id: 1.5 })).toThrow(RangeError);
    expect(registry.get('x')).toBeUndefined();
  });

  it('replaces a function registered under the same name, and unregisters', () => {
    const registry = new ForeignFunctionRegistry().register('compress', () => Buffer.from('mine'));
    expect(run(registry, 'compress', Buffer.from('x'))).toEqual(Buffer.from('mine'));
    expect(registry.unregister('compress')).toBe(true);
    expect(registry.unregister('compress')).toBe(false);
    expect(registry.get('compress')).toBeUndefined();
  });

  it('registries are independent (one per proxy)', () => {
    const a = new ForeignFunctionRegistry().register('only_in_a', () => Buffer.alloc(0));
    const b = new ForeignFunctionRegistry();
    expect(a.get('only_in_a')).toBeDefined();
    expect(b.get('only_in_a')).toBeUndefined();
  });
});

describe('compress / uncompress', () => {
  it('compress answers zlib-format bytes that inflate back', () => {
    const input = Buffer.from('proxy-wasm '.repeat(50));
    const out = run(new ForeignFunctionRegistry(), 'compress', input) as Buffer;
    expect(out).toEqual(deflateSync(input));
    expect(inflateSync(out)).toEqual(input);
  });

  it('uncompress inverts compress, including for empty input', () => {
    const registry = new ForeignFunctionRegistry();
    for (const input of [Buffer.alloc(0), Buffer.from('x'), Buffer.alloc(100_000, 7)]) {
      const packed = run(registry, 'compress', input) as Buffer;
      expect(run(registry, 'uncompress', packed)).toEqual(input);
    }
  });

  it('uncompress answers SERIALIZATION_FAILURE for garbage and for truncated data', () => {
    const registry = new ForeignFunctionRegistry();
    expect(run(registry, 'uncompress', Buffer.from('not zlib at all'))).toEqual({ status: Status.SERIALIZATION_FAILURE });
    const packed = deflateSync(Buffer.from('hello world, hello world'));
    expect(run(registry, 'uncompress', packed.subarray(0, packed.length - 3))).toEqual({ status: Status.SERIALIZATION_FAILURE });
  });

  it('uncompress refuses output beyond MAX_UNCOMPRESSED_BYTES', () => {
    const bomb = deflateSync(Buffer.alloc(MAX_UNCOMPRESSED_BYTES + 1));
    expect(run(new ForeignFunctionRegistry(), 'uncompress', bomb)).toEqual({ status: Status.SERIALIZATION_FAILURE });
  });
});
