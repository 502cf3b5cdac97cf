// proxy_call_foreign_function driven from a real guest: the built-in compress / uncompress,
// unknown names, discarded results, bad pointers, embedder functions (statuses, exceptions,
// caller context) and asynchronous results delivered through proxy_on_foreign_function with
// buffer 8 (reference §4.14).

import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ForeignFunctionRegistry, type ForeignCallContext } from '../../src/abi/foreign-functions.ts';
import { BufferType, Status } from '../../src/abi/types.ts';
import { CallServices, harness, SCRATCH, type Harness } from './helpers.ts';

const RESULT_PTR = 0x20;
const RESULT_SIZE = 0x24;
/** Where the fixture's `call` reads its results-size pointer from. */
const SIZE_PTR_SLOT = 0x30;
const NAME = 0x800;

class ForeignServices extends CallServices {
  readonly foreignFunctions: ForeignFunctionRegistry;
  constructor(registry: ForeignFunctionRegistry) {
    super();
    this.foreignFunctions = registry;
  }
}

async function setup(registry = new ForeignFunctionRegistry()): Promise<Harness> {
  return harness('abi-foreign-functions', { services: new ForeignServices(registry), config: { name: 'ff', rootId: 'ff-root', vmId: 'ff-vm' } });
}

/** Calls `name` with `args` as the root context (or `ctx`); returns the status and the result. */
function call(h: Harness, name: string, args: Buffer | string, options: { ctx?: { id: number }; resultsPtr?: number; sizePtr?: number } = {}) {
  const [namePtr, nameLen] = h.mem.write(NAME, name);
  const [argsPtr, argsLen] = h.mem.write(SCRATCH, args);
  h.mem.setU32(RESULT_PTR, 0xdeadbeef);
  h.mem.setU32(RESULT_SIZE, 0xdeadbeef);
  h.mem.setU32(SIZE_PTR_SLOT, options.sizePtr ?? RESULT_SIZE);
  const status = h.call('call', options.ctx ?? h.plugin.root, namePtr, nameLen, argsPtr, argsLen, options.resultsPtr ?? RESULT_PTR);
  const ptr = h.mem.u32(RESULT_PTR);
  const size = h.mem.u32(RESULT_SIZE);
  const result = status === Status.OK && ptr !== 0xdeadbeef ? h.mem.bytes(ptr, size) : null;
  return { status, ptr, size, result };
}

describe('built-in compress / uncompress', () => {
  it('round-trips a buffer inside the guest', async () => {
    const h = await setup();
    const [ptr, len] = h.mem.write(SCRATCH, 'hello hello hello hello, foreign functions');
    expect(h.call('roundtrip', h.plugin.root, ptr, len)).toBe(1);
  });

  it('compress produces zlib (RFC 1950) data', async () => {
    const h = await setup();
    const input = Buffer.from('a'.repeat(1000));
    const { status, result } = call(h, 'compress', input);
    expect(status).toBe(Status.OK);
    expect(result).toEqual(deflateSync(input));
    expect(result![0]).toBe(0x78); // zlib header, not raw deflate or gzip
  });

  it('uncompress of data that is not zlib answers SERIALIZATION_FAILURE and writes nothing', async () => {
    const h = await setup();
    const before = h.mem.allocations();
    const { status, ptr, size } = call(h, 'uncompress', 'definitely not zlib');
    expect(status).toBe(Status.SERIALIZATION_FAILURE);
    expect([ptr, size]).toEqual([0xdeadbeef, 0xdeadbeef]);
    expect(h.mem.allocations()).toBe(before);
  });

  it('an empty result is (0, 0) without calling the allocator', async () => {
    const registry = new ForeignFunctionRegistry().register('nothing', () => Buffer.alloc(0));
    const h = await setup(registry);
    const before = h.mem.allocations();
    expect(call(h, 'nothing', 'x')).toMatchObject({ status: Status.OK, ptr: 0, size: 0 });
    expect(h.mem.allocations()).toBe(before);
  });
});

describe('proxy_call_foreign_function', () => {
  it('answers NOT_FOUND for a name nobody registered', async () => {
    const h = await setup();
    expect(call(h, 'no_such_function', 'x')).toMatchObject({ status: Status.NOT_FOUND, ptr: 0xdeadbeef, size: 0xdeadbeef });
  });

  it('answers NOT_FOUND for everything when the services carry no registry', async () => {
    const h = await harness('abi-foreign-functions');
    expect(call(h, 'compress', 'x').status).toBe(Status.NOT_FOUND);
  });

  it('discards the result when the results pointer is 0: no allocation, size still reported', async () => {
    const h = await setup();
    const before = h.mem.allocations();
    const input = Buffer.from('b'.repeat(500));
    const { status, ptr, size } = call(h, 'compress', input, { resultsPtr: 0 });
    expect(status).toBe(Status.OK);
    expect(ptr).toBe(0xdeadbeef);
    expect(size).toBe(deflateSync(input).length);
    expect(h.mem.allocations()).toBe(before);
    expect(call(h, 'compress', input, { resultsPtr: 0, sizePtr: 0 }).status).toBe(Status.OK);
    expect(h.mem.allocations()).toBe(before);
  });

  it('answers INVALID_MEMORY_ACCESS for out-of-bounds name, arguments or out pointers', async () => {
    const h = await setup();
    const far = h.mem.size;
    h.mem.setU32(SIZE_PTR_SLOT, RESULT_SIZE);
    expect(h.call('call', h.plugin.root, far, 8, SCRATCH, 1, RESULT_PTR)).toBe(Status.INVALID_MEMORY_ACCESS);
    const [namePtr, nameLen] = h.mem.write(NAME, 'compress');
    expect(h.call('call', h.plugin.root, namePtr, nameLen, far - 2, 8, RESULT_PTR)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(h.call('call', h.plugin.root, namePtr, nameLen, SCRATCH, 4, far)).toBe(Status.INVALID_MEMORY_ACCESS);
    h.mem.setU32(SIZE_PTR_SLOT, far);
    expect(h.call('call', h.plugin.root, namePtr, nameLen, SCRATCH, 4, RESULT_PTR)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(h.call('call', h.plugin.root, namePtr, nameLen, SCRATCH, 4, 0)).toBe(Status.INVALID_MEMORY_ACCESS);
  });
});

describe('embedder functions', () => {
  it('receive the arguments and the calling context, and their bytes reach the guest', async () => {
    const seen: Array<{ args: string; ctx: Omit<ForeignCallContext, 'logger'> }> = [];
    const registry = new ForeignFunctionRegistry().register('echo_upper', (args, { logger: _logger, ...ctx }) => {
      seen.push({ args: args.toString(), ctx });
      return Buffer.from(args.toString().toUpperCase());
    });
    const h = await setup(registry);
    const { ctx } = h.stream();
    expect(call(h, 'echo_upper', 'shout', { ctx })).toMatchObject({ status: Status.OK, result: Buffer.from('SHOUT') });
    expect(seen).toEqual([{ args: 'shout', ctx: { filter: 'ff', rootId: 'ff-root', vmId: 'ff-vm', contextId: ctx.id, functionId: 2 } }]);
  });

  it('may answer any status; a result given with a non-OK status is not handed over', async () => {
    const registry = new ForeignFunctionRegistry()
      .register('bad_arg', () => ({ status: Status.BAD_ARGUMENT, result: Buffer.from('ignored') }))
      .register('ok_obj', () => ({ status: Status.OK, result: Buffer.from('fine') }))
      .register('ok_empty', () => ({ status: Status.OK }));
    const h = await setup(registry);
    expect(call(h, 'bad_arg', '')).toMatchObject({ status: Status.BAD_ARGUMENT, ptr: 0xdeadbeef });
    expect(call(h, 'ok_obj', '')).toMatchObject({ status: Status.OK, result: Buffer.from('fine') });
    expect(call(h, 'ok_empty', '')).toMatchObject({ status: Status.OK, ptr: 0, size: 0 });
  });

  it('a throwing function or an invalid status becomes INTERNAL_FAILURE, logged once per interval, never a trap', async () => {
    const registry = new ForeignFunctionRegistry()
      .register('boom', () => {
        throw new Error('kaboom');
      })
      .register('weird', () => ({ status: 99 as Status }));
    const h = await setup(registry);
    expect(call(h, 'boom', '').status).toBe(Status.INTERNAL_FAILURE);
    // Again at once (a guest may make it fail on every request): the answer, not another line.
    expect(call(h, 'boom', '').status).toBe(Status.INTERNAL_FAILURE);
    expect(call(h, 'weird', '').status).toBe(Status.INTERNAL_FAILURE);
    expect(h.vm.failure).toBeNull();
    expect(h.lines.filter((l) => l.msg === 'foreign function failed').map((l) => l['err'])).toEqual(['kaboom']);
    expect(h.lines.some((l) => l.msg === 'foreign function answered an invalid status' && l['status'] === 99)).toBe(true);
  });
});

describe('asynchronous results', () => {
  it('answers OK with an empty result now and delivers the bytes later as buffer 8', async () => {
    let resolve!: (bytes: Buffer) => void;
    const registry = new ForeignFunctionRegistry().register('later', () => new Promise<Buffer>((r) => (resolve = r)), { id: 7 });
    const h = await setup(registry);
    const before = h.mem.allocations();
    expect(call(h, 'later', 'q')).toMatchObject({ status: Status.OK, ptr: 0, size: 0 });
    expect(h.mem.allocations()).toBe(before);
    expect(h.mem.trace()).toEqual([]);

    resolve(Buffer.from('the answer'));
    await new Promise((r) => setImmediate(r));
    const [[id, size, status, ptr, len]] = h.mem.trace(5) as [number[]];
    expect([id, size, status, len]).toEqual([7, 10, Status.OK, 10]);
    expect(h.mem.bytes(ptr!, len!).toString()).toBe('the answer');
  });

  it('buffer 8 is readable only while proxy_on_foreign_function runs', async () => {
    const h = await setup();
    expect(h.call('get_buffer', h.plugin.root, BufferType.FOREIGN_FUNCTION_ARGUMENTS, 0, 100)).toBe(Status.NOT_FOUND);
  });

  it('a rejected promise is logged and never delivered', async () => {
    const registry = new ForeignFunctionRegistry().register('fails_later', () => Promise.reject(new Error('no luck')));
    const h = await setup(registry);
    expect(call(h, 'fails_later', '').status).toBe(Status.OK);
    await new Promise((r) => setImmediate(r));
    expect(h.mem.trace()).toEqual([]);
    expect(h.lines.some((l) => l.msg === 'foreign function failed; nothing delivered' && l['err'] === 'no luck')).toBe(true);
  });

  it('a result arriving after the plugin stopped is dropped', async () => {
    let resolve!: (bytes: Buffer) => void;
    const registry = new ForeignFunctionRegistry().register('later', () => new Promise<Buffer>((r) => (resolve = r)));
    const h = await setup(registry);
    expect(call(h, 'later', '').status).toBe(Status.OK);
    h.plugin.stop();
    resolve(Buffer.from('too late'));
    await new Promise((r) => setImmediate(r));
    expect(h.mem.trace()).toEqual([]);
  });
});
