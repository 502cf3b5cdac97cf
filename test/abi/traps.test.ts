// Traps: a trapping callback kills the VM for every later call, and PluginSet replaces it with a
// fresh VM whose root context is started again (reference §7.15, §10 item 30).

import { afterEach, describe, expect, it } from 'vitest';
import { GuestTrap } from '../../src/abi/errors.ts';
import { PluginSet } from '../../src/abi/plugin-set.ts';
import { LogLevel } from '../../src/abi/types.ts';
import { CallServices, compileWat, fixtureFile, GuestView, harness, harnessFor, MemoryHost, memoryLogger, PINO } from './helpers.ts';

const REQUEST_HEADERS = 4;

function trap(fn: () => unknown): GuestTrap {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GuestTrap);
    return err as GuestTrap;
  }
  throw new Error('expected a GuestTrap');
}

describe('a trapping callback', () => {
  it('throws GuestTrap naming the callback and marks the VM failed', async () => {
    const h = await harness('abi-trap');
    const { ctx } = h.stream();
    const onHeaders = h.vm.exports.proxy_on_request_headers!;
    const err = trap(() => h.vm.call(ctx, 'proxy_on_request_headers', onHeaders, ctx.id, 3, 1));
    expect(err.code).toBe('SLUICE_WASM_TRAP');
    expect(err.callback).toBe('proxy_on_request_headers');
    expect(err.message).toMatch(/^proxy_on_request_headers failed: .*unreachable/);
    expect(err.cause).toBeInstanceOf(WebAssembly.RuntimeError);
    expect(h.vm.failure).toBe(err);
    // The VM's context pointers are restored even though the guest trapped.
    expect([h.vm.current, h.vm.effective]).toEqual([null, null]);
    const failed = h.lines.filter((l) => l.level === PINO.error && l.msg === 'filter VM failed; it will be replaced');
    expect(failed).toHaveLength(1);
    expect(failed[0]!['callback']).toBe('proxy_on_request_headers');
    // The guest's frames, without the host's JS frames under them.
    const stack = (failed[0]!['err'] as { stack: string }).stack.split('\n');
    expect(stack[0]).toMatch(/unreachable/);
    expect(stack.length).toBeGreaterThan(1);
    for (const frame of stack.slice(1)) expect(frame).toMatch(/wasm:\/\//);
  });

  it('a failure the host decides (vm.fail) is logged with its reason and no stack, or not at all when quiet', async () => {
    const h = await harness('abi-trap');
    h.vm.fail('stuck in a callback for 1000 ms');
    const failed = h.lines.filter((l) => l.msg === 'filter VM failed; it will be replaced');
    expect(failed).toHaveLength(1);
    expect(failed[0]!['reason']).toBe('stuck in a callback for 1000 ms');
    expect(failed[0]!['err']).toBeUndefined();
    const other = await harness('abi-trap');
    other.vm.fail('quarantined', true);
    expect(other.vm.failure).not.toBeNull();
    expect(other.lines.filter((l) => l.msg === 'filter VM failed; it will be replaced')).toEqual([]);
  });

  it('later calls throw the same GuestTrap at once without entering the guest', async () => {
    const h = await harness('abi-trap');
    const { ctx } = h.stream();
    const e = h.vm.exports;
    const first = trap(() => h.vm.call(ctx, 'proxy_on_request_headers', e.proxy_on_request_headers!, ctx.id, 0, 0));
    const traceLength = h.mem.trace().length;
    expect(trap(() => h.vm.call(ctx, 'proxy_on_response_headers', e.proxy_on_response_headers!, ctx.id, 0, 0))).toBe(first);
    expect(() => h.stream()).toThrow(first);
    expect(h.mem.trace().length).toBe(traceLength);
    // Only one "VM failed" line, however many calls bounce off the dead VM.
    expect(h.lines.filter((l) => l.msg === 'filter VM failed; it will be replaced')).toHaveLength(1);
  });

  it('finishStream on a dead VM does not call the guest or throw', async () => {
    const h = await harness('abi-trap');
    const { ctx } = h.stream();
    trap(() => h.vm.call(ctx, 'proxy_on_request_headers', h.vm.exports.proxy_on_request_headers!, ctx.id, 0, 0));
    const traceLength = h.mem.trace().length;
    h.plugin.finishStream(ctx);
    expect(h.mem.trace().length).toBe(traceLength);
    expect(h.vm.contexts.has(ctx.id)).toBe(false);
    expect(h.plugin.alive).toBe(false);
  });

  // on_log, on_done and on_delete run as one guarded call (Vm.endStream): a trap in one must
  // still skip the rest, name the callback that trapped, and leave the VM's state clean.
  const endTrap = (trapIn: string) => `(module
    (memory (export "memory") 1)
    (func (export "malloc") (param i32) (result i32) (i32.const 1024))
    (func (export "proxy_abi_version_0_2_0"))
    (func (export "proxy_on_context_create") (param i32 i32))
    (func (export "proxy_on_log") (param i32) ${trapIn === 'log' ? 'unreachable' : '(i32.store8 (i32.const 0) (i32.const 1))'})
    (func (export "proxy_on_done") (param i32) (result i32) ${trapIn === 'done' ? 'unreachable' : '(i32.store8 (i32.const 1) (i32.const 1))'} (i32.const 1))
    (func (export "proxy_on_delete") (param i32) ${trapIn === 'delete' ? 'unreachable' : '(i32.store8 (i32.const 2) (i32.const 1))'}))`;

  it.each([
    ['log', 'proxy_on_log', [0, 0, 0]],
    ['done', 'proxy_on_done', [1, 0, 0]],
    ['delete', 'proxy_on_delete', [1, 1, 0]],
  ])('a trap in on_%s skips the later end-of-stream callbacks and names %s', async (trapIn, callback, ran) => {
    const h = harnessFor(await compileWat(endTrap(trapIn)));
    const { ctx } = h.stream();
    h.plugin.finishStream(ctx);
    expect([...h.mem.bytes(0, 3)]).toEqual(ran);
    expect(h.vm.failure?.callback).toBe(callback);
    expect([h.vm.current, h.vm.effective]).toEqual([null, null]);
    expect(h.vm.contexts.has(ctx.id)).toBe(false);
    const failed = h.lines.filter((l) => l.msg === 'filter VM failed; it will be replaced');
    expect(failed.map((l) => l['callback'])).toEqual([callback]);
  });
});

// One callback could otherwise commit 4 GiB before the host sees the size (chaos run, 12-03).
describe('guest memory cap', () => {
  const grower = `(module
    (memory (export "memory") 1)
    (func (export "malloc") (param i32) (result i32) (i32.const 1024))
    (func (export "proxy_abi_version_0_2_0"))
    (func (export "proxy_on_context_create") (param i32 i32))
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      ;; past 1 GiB in one step, then up to it exactly: the first fails, the second succeeds
      (i32.store (i32.const 0) (memory.grow (i32.const 16384)))
      (i32.store (i32.const 4) (memory.grow (i32.const 16383)))
      (i32.const 0)))`;

  it('makes memory.grow past 1 GiB fail inside the guest, and allows up to 1 GiB', async () => {
    const h = harnessFor(await compileWat(grower));
    const { ctx } = h.stream();
    expect(h.vm.call(ctx, 'proxy_on_request_headers', h.vm.exports.proxy_on_request_headers!, ctx.id, 0, 0)).toBe(0);
    const view = new DataView(h.vm.exports.memory.buffer);
    expect(view.getInt32(0, true)).toBe(-1);
    expect(view.getInt32(4, true)).toBe(1); // the old size in pages
    expect(h.vm.exports.memory.buffer.byteLength).toBe(1024 * 1024 * 1024);
    expect(h.vm.failure).toBeNull();
  });
});

// A new context's on_context_create and its first callback run as one guarded call
// (Vm.createStream): the same contract as two separate calls.
describe('Vm.createStream', () => {
  const startTrap = (trapIn: string) => `(module
    (memory (export "memory") 1)
    (func (export "malloc") (param i32) (result i32) (i32.const 1024))
    (func (export "proxy_abi_version_0_2_0"))
    (func (export "proxy_on_context_create") (param $id i32) (param $root i32)
      (if (i32.ne (local.get $root) (i32.const 0)) (then ${trapIn === 'create' ? 'unreachable' : '(i32.store8 (i32.const 0) (local.get $id))'})))
    (func (export "proxy_on_request_headers") (param $id i32) (param $n i32) (param $eos i32) (result i32)
      ${trapIn === 'headers' ? 'unreachable' : '(i32.store8 (i32.const 1) (local.get $n)) (i32.store8 (i32.const 2) (local.get $eos))'}
      (i32.const 7))
    (func (export "proxy_on_log") (param i32)))`;

  it('runs on_context_create, then the callback with the context id, and returns its answer', async () => {
    const h = harnessFor(await compileWat(startTrap('none')));
    const ctx = h.plugin.newStream(new MemoryHost());
    expect(h.vm.contexts.has(ctx.id)).toBe(true);
    expect([...h.mem.bytes(0, 3)]).toEqual([0, 0, 0]); // newStream does not call the guest
    const result = h.vm.createStream(ctx, h.plugin.root.id, 'proxy_on_request_headers', h.vm.exports.proxy_on_request_headers!, 5, 1);
    expect(result).toBe(7);
    expect([...h.mem.bytes(0, 3)]).toEqual([ctx.id, 5, 1]);
    expect([h.vm.current, h.vm.effective]).toEqual([null, null]);
  });

  it.each([
    ['create', 'proxy_on_context_create', [0, 0]],
    ['headers', 'proxy_on_request_headers', [2, 0]],
  ])('a trap in %s names %s and skips what follows', async (trapIn, callback, ran) => {
    const h = harnessFor(await compileWat(startTrap(trapIn)));
    const ctx = h.plugin.newStream(new MemoryHost());
    const err = trap(() => h.vm.createStream(ctx, h.plugin.root.id, 'proxy_on_request_headers', h.vm.exports.proxy_on_request_headers!, 5, 0));
    expect(err.callback).toBe(callback);
    expect(h.vm.failure).toBe(err);
    expect([...h.mem.bytes(0, 2)]).toEqual(ran);
    expect([h.vm.current, h.vm.effective]).toEqual([null, null]);
    expect(h.lines.filter((l) => l.msg === 'filter VM failed; it will be replaced').map((l) => l['callback'])).toEqual([callback]);
  });
});

describe('PluginSet after a trap', () => {
  const sets: PluginSet[] = [];
  afterEach(() => {
    for (const s of sets.splice(0)) s.stop();
  });

  it('get() returns the plugin on a new VM with its root context started again', async () => {
    const modulePath = await fixtureFile('abi-trap');
    const { logger } = memoryLogger();
    const set = new PluginSet(
      [{ modulePath, name: 'crashy', rootId: 'r', vmId: 'v', environ: [], configuration: Buffer.alloc(0), vmConfiguration: Buffer.alloc(0), logLevel: LogLevel.INFO, failOpen: false }],
      new CallServices(),
      logger,
    );
    sets.push(set);
    set.start();
    const first = set.get('crashy')!;
    expect(set.get('crashy')).toBe(first); // healthy: same plugin every time
    const ctx = first.createStream(new MemoryHost());
    trap(() => first.vm.call(ctx, 'proxy_on_request_headers', first.vm.exports.proxy_on_request_headers!, ctx.id, 0, 0));
    expect(new GuestView(first.vm).trace(2)).toEqual([[1, 1], [2, 1], [3, 1], [1, 2], [REQUEST_HEADERS, 2]]);

    const second = set.get('crashy')!;
    expect(second).not.toBe(first);
    expect(second.vm).not.toBe(first.vm);
    expect(second.vm.serial).not.toBe(first.vm.serial);
    expect(second.vm.failure).toBeNull();
    expect(second.alive).toBe(true);
    expect(second.root.id).toBe(1);
    // A fresh instance: fresh memory, start-up ran again on it.
    expect(new GuestView(second.vm).trace(2)).toEqual([[1, 1], [2, 1], [3, 1]]);
    // The new VM serves streams; ids start over on the new instance.
    expect(second.createStream(new MemoryHost()).id).toBe(2);
    // The old VM stays dead.
    expect(first.vm.failure).not.toBeNull();
    expect(set.get('crashy')).toBe(second);
  });

  it("a filter's handle follows the plugin onto the new VM", async () => {
    const modulePath = await fixtureFile('abi-trap');
    const { logger } = memoryLogger();
    const spec = { modulePath, rootId: 'r', vmId: 'v', environ: [], configuration: Buffer.alloc(0), vmConfiguration: Buffer.alloc(0), logLevel: LogLevel.INFO };
    const set = new PluginSet([{ ...spec, name: 'crashy', failOpen: false }, { ...spec, name: 'lenient', failOpen: true }], new CallServices(), logger);
    sets.push(set);
    set.start();
    const handle = set.handle('crashy');
    expect(set.handle('crashy')).toBe(handle);
    expect([handle.name, handle.failOpen, set.handle('lenient').failOpen]).toEqual(['crashy', false, true]);
    const first = handle.plugin()!;
    expect(first).toBe(set.get('crashy'));
    expect(handle.plugin()).toBe(first);
    first.vm.fail('test');
    const second = handle.plugin()!;
    expect(second).not.toBe(first);
    expect(second.vm.failure).toBeNull();
    expect(set.get('crashy')).toBe(second);
    // Both filters shared the VM: the other handle moves too.
    expect(set.handle('lenient').plugin()!.vm).toBe(second.vm);
    // A name the set does not know never has a plugin.
    expect(set.handle('nope').plugin()).toBeNull();
    expect(set.handle('nope').failOpen).toBe(false);
  });

  it('replaces a failed VM by itself, without a request: a filter that works from ticks ticks again', async () => {
    const modulePath = await fixtureFile('abi-tick-trap');
    const { logger, lines } = memoryLogger();
    const set = new PluginSet(
      [{ modulePath, name: 'ticker', rootId: 'r', vmId: 'v', environ: [], configuration: Buffer.alloc(0), vmConfiguration: Buffer.alloc(0), logLevel: LogLevel.INFO, failOpen: false }],
      new CallServices(),
      logger,
    );
    sets.push(set);
    set.start();
    const first = set.plugins()[0]!;
    // Its second tick (~40 ms) traps; nothing calls get() or runs a request from here on. The
    // replacement ran its start-up, so it ticks: its own first tick gets counted. Polled, not
    // waited for a fixed time: a busy machine compiles the replacement later.
    const ticked = () => set.plugins()[0]!.vm !== first.vm && new GuestView(set.plugins()[0]!.vm).u32(0x100) >= 1;
    for (const giveUp = Date.now() + 5000; !ticked() && Date.now() < giveUp; ) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(first.vm.failure?.callback).toBe('proxy_on_tick');
    const now = set.plugins()[0]!;
    expect(now.vm).not.toBe(first.vm);
    expect(new GuestView(now.vm).u32(0x100)).toBeGreaterThanOrEqual(1);
    expect(lines.filter((l) => l.msg === 'filter VM replaced').length).toBeGreaterThanOrEqual(1);
  });

  it('quarantine() fails the VM of a filter and every filter sharing it, and keeps them out until the time given', async () => {
    const modulePath = await fixtureFile('abi-trap');
    const { logger } = memoryLogger();
    const spec = { modulePath, rootId: 'r', vmId: 'v', environ: [], configuration: Buffer.alloc(0), vmConfiguration: Buffer.alloc(0), logLevel: LogLevel.INFO };
    const set = new PluginSet(
      [{ ...spec, name: 'first', failOpen: false }, { ...spec, name: 'looping', failOpen: false }, { ...spec, name: 'apart', vmId: 'other', failOpen: false }],
      new CallServices(),
      logger,
    );
    sets.push(set);
    set.start();
    const before = set.handle('looping').plugin()!;
    const apart = set.handle('apart').plugin()!;
    set.quarantine(1, Date.now() + 300, 'stuck in a callback for 1000 ms');
    expect(before.vm.failure?.message).toContain('stuck in a callback for 1000 ms');
    expect(before.alive).toBe(false); // stopped at once: nothing of the set keeps its VM
    expect(set.plugins()).toEqual([apart]);
    expect(set.handle('looping').plugin()).toBeNull();
    expect(set.handle('first').plugin()).toBeNull(); // same VM
    expect(set.handle('apart').plugin()).toBe(apart); // its own VM, untouched
    await new Promise((resolve) => setTimeout(resolve, 350));
    const after = set.handle('looping').plugin()!;
    expect(after.vm).not.toBe(before.vm);
    expect(after.vm.failure).toBeNull();
    expect(set.handle('first').plugin()!.vm).toBe(after.vm);
    // An index outside the configuration is ignored.
    set.quarantine(7, Date.now() + 1000, 'no such filter');
    expect(set.handle('looping').plugin()).toBe(after);
  });
});
