// Shared queues through a real module: the root registers in on_configure, stream contexts
// resolve and enqueue, the root dequeues in proxy_on_queue_ready (delivered later, once per
// enqueue, to the last registrant), and bad pointers (reference §4.12, §7.11).

import { describe, expect, it } from 'vitest';
import { MapType, Status } from '../../src/abi/types.ts';
import { CallServices, compileFixture, harnessFor, MemoryHost, OUT_PTR, OUT_SIZE, OUT_U32, SCRATCH, type Harness } from './helpers.ts';

const END = 2 * 65536; // the fixture's memory size
const fixture = compileFixture('abi-shared-queues');
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function setup(options: { vmId?: string; services?: CallServices; name?: string } = {}): Promise<Harness> {
  return harnessFor(await fixture, {
    config: { vmId: options.vmId ?? 'vm', name: options.name ?? 'test-filter' },
    services: options.services ?? new CallServices(),
  });
}

/** A request whose filter enqueues `msg` (the fixture reads the x-msg header). */
function request(h: Harness, msg: string): void {
  const { ctx } = h.stream(new MemoryHost().withHeaders(MapType.HTTP_REQUEST_HEADERS, [['x-msg', msg]]));
  h.call('proxy_on_request_headers', ctx, ctx.id, 1, 1);
}

function enqueue(h: Harness, token: number, value: string): number {
  const [ptr, len] = h.mem.write(SCRATCH, value);
  return h.call('enqueue', h.plugin.root, token, ptr, len);
}

function dequeue(h: Harness, token: number): { status: number; value: string } {
  h.mem.poisonOut();
  const status = h.call('dequeue', h.plugin.root, token, OUT_PTR, OUT_SIZE);
  return { status, value: status === Status.OK ? h.mem.outString() : '' };
}

function token(h: Harness, vmId = 'vm', name = 'events'): number {
  const t = h.services.queues.resolve(vmId, name);
  expect(t).toBeDefined();
  return t!;
}

describe('register in on_configure, enqueue from streams, dequeue in on_queue_ready', () => {
  it('delivers every item, in order, through one callback per enqueue on a later turn', async () => {
    const h = await setup();
    const t = token(h);
    expect(h.mem.trace()).toEqual([[Status.OK]]); // register in on_configure
    request(h, 'first');
    request(h, 'second');
    request(h, 'third');
    // resolve and enqueue statuses; nothing delivered yet
    expect(h.mem.trace().slice(1).flat()).toEqual([0, 0, 0, 0, 0, 0]);
    expect(h.guestLogs()).toEqual([]);
    await nextTurn();
    expect(h.guestLogs()).toEqual(['queue item: first', 'queue item: second', 'queue item: third']);
    // Three callbacks with (root id, token): the first drains everything, the others find EMPTY.
    const root = h.plugin.root.id;
    expect(h.mem.trace().slice(7).flat()).toEqual([-1, root, t, Status.EMPTY, -1, root, t, Status.EMPTY, -1, root, t, Status.EMPTY]);
    expect(h.vm.failure).toBeNull();
  });

  it('reaches the consumer on another VM with the same vm_id, not a VM with another vm_id', async () => {
    const services = new CallServices();
    const consumer = await setup({ services, name: 'consumer' });
    const sender = await setup({ services, name: 'sender' }); // registers too: it becomes the consumer
    const other = await setup({ services, name: 'other', vmId: 'other' });
    expect(token(sender)).toBe(token(consumer));
    expect(token(other, 'other')).not.toBe(token(consumer));
    // Re-register on the first VM: the last registrant is notified.
    const [np, nl] = consumer.mem.write(SCRATCH, 'events');
    expect(consumer.call('register', consumer.plugin.root, np, nl, OUT_U32)).toBe(Status.OK);
    expect(consumer.mem.u32(OUT_U32)).toBe(token(consumer));
    request(sender, 'hello');
    request(other, 'elsewhere');
    await nextTurn();
    expect(consumer.guestLogs()).toEqual(['queue item: hello']);
    expect(sender.guestLogs()).toEqual([]);
    expect(other.guestLogs()).toEqual(['queue item: elsewhere']);
  });

  it('resolves a queue of another vm_id by name', async () => {
    const services = new CallServices();
    const consumer = await setup({ services });
    const other = await setup({ services, vmId: 'other' });
    const [vp, vl] = other.mem.write(SCRATCH, 'vm');
    const [np, nl] = other.mem.write(SCRATCH + 0x10, 'events');
    expect(other.call('resolve', other.plugin.root, vp, vl, np, nl, OUT_U32)).toBe(Status.OK);
    expect(other.mem.u32(OUT_U32)).toBe(token(consumer));
    expect(enqueue(other, token(consumer), 'across')).toBe(Status.OK);
    await nextTurn();
    expect(consumer.guestLogs()).toEqual(['queue item: across']);
  });

  it('resolve of an unknown name, or in an unknown vm_id, is NOT_FOUND', async () => {
    const h = await setup();
    const [vp, vl] = h.mem.write(SCRATCH, 'nobody');
    const [np, nl] = h.mem.write(SCRATCH + 0x10, 'events');
    const [up, ul] = h.mem.write(SCRATCH + 0x20, 'unknown');
    h.mem.setU32(OUT_U32, 0xdeadbeef);
    expect(h.call('resolve', h.plugin.root, vp, vl, np, nl, OUT_U32)).toBe(Status.NOT_FOUND);
    expect(h.call('resolve', h.plugin.root, 0, 0, up, ul, OUT_U32)).toBe(Status.NOT_FOUND);
    expect(h.mem.u32(OUT_U32)).toBe(0xdeadbeef);
  });

  it('a stream context that registers makes its root the consumer', async () => {
    const h = await setup();
    const { ctx } = h.stream(new MemoryHost());
    const [np, nl] = h.mem.write(SCRATCH, 'from-stream');
    expect(h.call('register', ctx, np, nl, OUT_U32)).toBe(Status.OK);
    const t = h.mem.u32(OUT_U32);
    expect(t).toBe(token(h, 'vm', 'from-stream'));
    enqueue(h, t, 'x');
    await nextTurn();
    expect(h.mem.trace().slice(-4)).toEqual([[-1], [h.plugin.root.id], [t], [Status.EMPTY]]);
    expect(h.guestLogs()).toEqual(['queue item: x']);
  });
});

describe('consumers that stop', () => {
  it('a stopped plugin is not notified, and its queue keeps the items for the next registrant', async () => {
    const services = new CallServices();
    const h = await setup({ services });
    const t = token(h);
    h.plugin.stop(); // its root context is gone: enqueue from the host side
    expect(services.queues.enqueue(t, Buffer.from('kept'))).toBe(Status.OK);
    await nextTurn();
    expect(h.guestLogs()).toEqual([]);
    const next = await setup({ services, name: 'next' }); // registers "events" in on_configure
    expect(token(next)).toBe(t);
    expect(enqueue(next, t, 'new')).toBe(Status.OK);
    await nextTurn();
    expect(next.guestLogs()).toEqual(['queue item: kept', 'queue item: new']);
  });

  it('a notification pending when the plugin stops is dropped', async () => {
    const h = await setup();
    request(h, 'late');
    h.plugin.stop();
    await nextTurn();
    expect(h.guestLogs()).toEqual([]);
    expect(h.services.queues.stats()).toEqual([{ vmId: 'vm', name: 'events', items: 1, droppedItems: 0 }]);
  });

  it('a failed VM is not called', async () => {
    const h = await setup();
    request(h, 'x');
    h.vm.fail('test');
    await nextTurn();
    expect(h.guestLogs()).toEqual([]);
  });
});

describe('enqueue and dequeue from a guest', () => {
  it('FIFO, then EMPTY; an empty item comes out as (0, 0) without allocating', async () => {
    const services = new CallServices();
    const h = await setup({ services });
    const t = services.queues.register('vm', 'plain', null);
    enqueue(h, t, 'a');
    enqueue(h, t, '');
    enqueue(h, t, 'c');
    expect(dequeue(h, t)).toEqual({ status: Status.OK, value: 'a' });
    const before = h.mem.allocations();
    expect(dequeue(h, t)).toEqual({ status: Status.OK, value: '' });
    expect(h.mem.out()).toEqual([0, 0]);
    expect(h.mem.allocations()).toBe(before);
    expect(dequeue(h, t)).toEqual({ status: Status.OK, value: 'c' });
    expect(dequeue(h, t).status).toBe(Status.EMPTY);
  });

  it('unknown tokens are NOT_FOUND for enqueue and dequeue', async () => {
    const h = await setup();
    for (const t of [0, 999, 0xffffffff]) {
      expect(enqueue(h, t, 'x')).toBe(Status.NOT_FOUND);
      expect(dequeue(h, t).status).toBe(Status.NOT_FOUND);
    }
  });

  it('the queue keeps its own copy of an item', async () => {
    const h = await setup();
    const t = h.services.queues.register('vm', 'plain', null);
    enqueue(h, t, 'original');
    h.mem.write(SCRATCH, 'XXXXXXXX');
    expect(dequeue(h, t).value).toBe('original');
  });

  it('register before any plugin exists (VM start-up) is BAD_ARGUMENT; resolve is NOT_FOUND', async () => {
    const h = harnessFor(await fixture, { start: false });
    const [np, nl] = h.mem.write(SCRATCH, 'q');
    expect(h.call('register', null, np, nl, OUT_U32)).toBe(Status.BAD_ARGUMENT);
    expect(h.call('resolve', null, 0, 0, np, nl, OUT_U32)).toBe(Status.NOT_FOUND);
    expect(h.services.queues.stats()).toEqual([]);
  });
});

describe('bad pointers answer INVALID_MEMORY_ACCESS (6)', () => {
  const BAD_RANGES: Array<[string, number, number]> = [
    ['past the end', END, 1],
    ['straddling the end', END - 1, 2],
    ['at 0xFFFFFFFF', 0xffffffff, 1],
    ['wrapping past 2^32', 16, 0xfffffff8],
  ];
  const BAD_SLOTS: Array<[string, number]> = [
    ['past the end', END],
    ['straddling the end', END - 2],
    ['at 0xFFFFFFFC', 0xfffffffc],
  ];

  it.each(BAD_RANGES)('register with a name %s creates nothing', async (_label, ptr, len) => {
    const h = await setup();
    expect(h.call('register', h.plugin.root, ptr, len, OUT_U32)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(h.services.queues.stats().map((q) => q.name)).toEqual(['events']);
  });

  it.each(BAD_SLOTS)('register with a token slot %s creates nothing', async (_label, slot) => {
    const h = await setup();
    const [np, nl] = h.mem.write(SCRATCH, 'new-queue');
    expect(h.call('register', h.plugin.root, np, nl, slot)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(h.services.queues.resolve('vm', 'new-queue')).toBeUndefined();
  });

  it.each(BAD_RANGES)('resolve with a vm_id or a name %s', async (_label, ptr, len) => {
    const h = await setup();
    const [np, nl] = h.mem.write(SCRATCH, 'events');
    expect(h.call('resolve', h.plugin.root, ptr, len, np, nl, OUT_U32)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(h.call('resolve', h.plugin.root, 0, 0, ptr, len, OUT_U32)).toBe(Status.INVALID_MEMORY_ACCESS);
  });

  it.each(BAD_SLOTS)('resolve with a token slot %s', async (_label, slot) => {
    const h = await setup();
    const [np, nl] = h.mem.write(SCRATCH, 'events');
    expect(h.call('resolve', h.plugin.root, 0, 0, np, nl, slot)).toBe(Status.INVALID_MEMORY_ACCESS);
  });

  it.each(BAD_RANGES)('enqueue with a value %s enqueues nothing and notifies nobody', async (_label, ptr, len) => {
    const h = await setup();
    expect(h.call('enqueue', h.plugin.root, token(h), ptr, len)).toBe(Status.INVALID_MEMORY_ACCESS);
    await nextTurn();
    expect(h.services.queues.stats()[0]!.items).toBe(0);
    expect(h.mem.trace()).toEqual([[Status.OK]]); // no on_queue_ready
  });

  it.each(BAD_SLOTS)('dequeue with an out slot %s leaves the item in the queue', async (_label, bad) => {
    const h = await setup();
    const t = h.services.queues.register('vm', 'plain', null);
    enqueue(h, t, 'survivor');
    expect(h.call('dequeue', h.plugin.root, t, bad, OUT_SIZE)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(h.call('dequeue', h.plugin.root, t, OUT_PTR, bad)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(h.mem.allocations()).toBe(0);
    expect(dequeue(h, t)).toEqual({ status: Status.OK, value: 'survivor' });
  });
});
