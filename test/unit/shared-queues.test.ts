// SharedQueues: tokens, register / re-open / last registrant wins, resolve, FIFO, EMPTY and
// NOT_FOUND, asynchronous notification once per enqueue, consumers that stop, and the length cap
// (reference §4.12, §7.11, trap 24).

import { describe, expect, it } from 'vitest';
import { DEFAULT_QUEUE_MAX_ITEMS, SharedQueues, type QueueConsumer } from '../../src/abi/shared-queues.ts';
import { Status } from '../../src/abi/types.ts';
import { memoryLogger } from '../abi/helpers.ts';

/** Stands in for a Plugin: records notifications while alive, runs its stop hooks on stop(). */
class FakeConsumer implements QueueConsumer {
  readonly notified: number[] = [];
  readonly stopHooks: Array<() => void> = [];
  alive = true;
  throws: Error | null = null;

  callRoot(name: 'proxy_on_queue_ready', token: number): boolean {
    expect(name).toBe('proxy_on_queue_ready');
    if (this.throws !== null) throw this.throws;
    if (!this.alive) return false;
    this.notified.push(token);
    return true;
  }

  onStop(cleanup: () => void): void {
    this.stopHooks.push(cleanup);
  }

  stop(): void {
    this.alive = false;
    for (const hook of this.stopHooks.splice(0)) hook();
  }
}

const b = (s: string) => Buffer.from(s, 'latin1');
/** One event-loop turn: every setImmediate scheduled before this one has run. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

function drain(queues: SharedQueues, token: number): Array<string | number> {
  const out: Array<string | number> = [];
  for (;;) {
    const item = queues.dequeue(token);
    if (typeof item === 'number') return [...out, item];
    out.push(item.toString('latin1'));
  }
}

describe('register and resolve', () => {
  it('hands out non-zero tokens from 1, one per (vm_id, name)', () => {
    const queues = new SharedQueues();
    const consumer = new FakeConsumer();
    expect(queues.register('vm', 'a', consumer)).toBe(1);
    expect(queues.register('vm', 'b', consumer)).toBe(2);
    expect(queues.register('other', 'a', consumer)).toBe(3);
  });

  it('re-registering returns the same token and keeps the contents', () => {
    const queues = new SharedQueues();
    const first = new FakeConsumer();
    const token = queues.register('vm', 'q', first);
    queues.enqueue(token, b('kept'));
    expect(queues.register('vm', 'q', new FakeConsumer())).toBe(token);
    expect(drain(queues, token)).toEqual(['kept', Status.EMPTY]);
  });

  it('resolve finds a registered queue in any vm_id and nothing else', () => {
    const queues = new SharedQueues();
    expect(queues.resolve('vm', 'q')).toBeUndefined();
    const token = queues.register('vm', 'q', new FakeConsumer());
    expect(queues.resolve('vm', 'q')).toBe(token);
    expect(queues.resolve('other', 'q')).toBeUndefined();
    expect(queues.resolve('vm', 'Q')).toBeUndefined();
  });

  it('vm_id and name are matched exactly, even with NUL bytes in them', () => {
    const queues = new SharedQueues();
    const token = queues.register('vm', 'a\0b', null);
    expect(queues.resolve('vm\0a', 'b')).toBeUndefined();
    expect(queues.resolve('vm', 'a\0b')).toBe(token);
  });

  it('separate registries (separate proxies) share nothing', () => {
    const one = new SharedQueues();
    const two = new SharedQueues();
    const token = one.register('vm', 'q', null);
    expect(two.resolve('vm', 'q')).toBeUndefined();
    expect(two.enqueue(token, b('x'))).toBe(Status.NOT_FOUND);
  });
});

describe('enqueue and dequeue', () => {
  it('is FIFO and answers EMPTY when drained (and again after more items)', () => {
    const queues = new SharedQueues();
    const token = queues.register('vm', 'q', null);
    expect(queues.dequeue(token)).toBe(Status.EMPTY);
    for (const s of ['one', 'two', 'three']) expect(queues.enqueue(token, b(s))).toBe(Status.OK);
    expect(drain(queues, token)).toEqual(['one', 'two', 'three', Status.EMPTY]);
    queues.enqueue(token, b('four'));
    expect(drain(queues, token)).toEqual(['four', Status.EMPTY]);
  });

  it('keeps order across many items (the consumed prefix is compacted)', () => {
    const queues = new SharedQueues();
    const token = queues.register('vm', 'q', null);
    for (let i = 0; i < 3000; i++) queues.enqueue(token, b(String(i)));
    for (let i = 0; i < 2000; i++) expect((queues.dequeue(token) as Buffer).toString()).toBe(String(i));
    for (let i = 3000; i < 3500; i++) queues.enqueue(token, b(String(i)));
    const rest = drain(queues, token);
    expect(rest).toHaveLength(1501);
    expect(rest[0]).toBe('2000');
    expect(rest[1499]).toBe('3499');
    expect(rest[1500]).toBe(Status.EMPTY);
  });

  it('carries empty items', () => {
    const queues = new SharedQueues();
    const token = queues.register('vm', 'q', null);
    queues.enqueue(token, Buffer.alloc(0));
    expect(drain(queues, token)).toEqual(['', Status.EMPTY]);
  });

  it('answers NOT_FOUND for unknown tokens, including 0', () => {
    const queues = new SharedQueues();
    queues.register('vm', 'q', null);
    for (const token of [0, 2, 0xffffffff]) {
      expect(queues.enqueue(token, b('x'))).toBe(Status.NOT_FOUND);
      expect(queues.dequeue(token)).toBe(Status.NOT_FOUND);
    }
  });

  it('reads the token as u32 (an i32 -1 from a guest is 0xFFFFFFFF)', () => {
    const queues = new SharedQueues();
    const token = queues.register('vm', 'q', null);
    expect(queues.enqueue(token - 2 ** 32, b('x'))).toBe(Status.OK);
    expect(drain(queues, token)).toEqual(['x', Status.EMPTY]);
  });
});

describe('notification', () => {
  it('is asynchronous and happens once per enqueue, with the token', async () => {
    const queues = new SharedQueues();
    const consumer = new FakeConsumer();
    const token = queues.register('vm', 'q', consumer);
    queues.enqueue(token, b('1'));
    queues.enqueue(token, b('2'));
    queues.enqueue(token, b('3'));
    expect(consumer.notified).toEqual([]);
    await nextTurn();
    expect(consumer.notified).toEqual([token, token, token]);
    await nextTurn();
    expect(consumer.notified).toHaveLength(3);
  });

  it('goes to the last registrant only', async () => {
    const queues = new SharedQueues();
    const first = new FakeConsumer();
    const last = new FakeConsumer();
    const token = queues.register('vm', 'q', first);
    queues.register('vm', 'q', last);
    queues.enqueue(token, b('x'));
    await nextTurn();
    expect(first.notified).toEqual([]);
    expect(last.notified).toEqual([token]);
  });

  it('a queue registered without a consumer takes items but notifies nobody', async () => {
    const queues = new SharedQueues();
    const bystander = new FakeConsumer();
    queues.register('vm', 'other', bystander);
    const token = queues.register('vm', 'q', null);
    expect(queues.enqueue(token, b('x'))).toBe(Status.OK);
    await nextTurn();
    expect(bystander.notified).toEqual([]);
    expect(drain(queues, token)).toEqual(['x', Status.EMPTY]);
  });

  it('a stopped consumer is no longer notified; the items wait for the next registrant', async () => {
    const queues = new SharedQueues();
    const consumer = new FakeConsumer();
    const token = queues.register('vm', 'q', consumer);
    consumer.stop();
    consumer.alive = true; // prove the registry itself no longer calls it
    expect(queues.enqueue(token, b('waiting'))).toBe(Status.OK);
    await nextTurn();
    expect(consumer.notified).toEqual([]);
    const next = new FakeConsumer();
    expect(queues.register('vm', 'q', next)).toBe(token);
    queues.enqueue(token, b('new'));
    await nextTurn();
    expect(next.notified).toEqual([token]);
    expect(drain(queues, token)).toEqual(['waiting', 'new', Status.EMPTY]);
  });

  it('when the last registrant stops, an earlier one does not take over', async () => {
    const queues = new SharedQueues();
    const first = new FakeConsumer();
    const last = new FakeConsumer();
    const token = queues.register('vm', 'q', first);
    queues.register('vm', 'q', last);
    last.stop();
    queues.enqueue(token, b('x'));
    await nextTurn();
    expect(first.notified).toEqual([]);
  });

  it('a consumer that stops after being replaced does not clear the new consumer', async () => {
    const queues = new SharedQueues();
    const first = new FakeConsumer();
    const last = new FakeConsumer();
    const token = queues.register('vm', 'q', first);
    queues.register('vm', 'q', last);
    first.stop();
    queues.enqueue(token, b('x'));
    await nextTurn();
    expect(last.notified).toEqual([token]);
  });

  it('registers one stop hook per consumer, however often it registers', () => {
    const queues = new SharedQueues();
    const consumer = new FakeConsumer();
    for (let i = 0; i < 100; i++) queues.register('vm', i % 2 === 0 ? 'a' : 'b', consumer);
    expect(consumer.stopHooks).toHaveLength(1);
  });

  it('a stop hook clears every queue the consumer owned', async () => {
    const queues = new SharedQueues();
    const consumer = new FakeConsumer();
    const a = queues.register('vm', 'a', consumer);
    const c = queues.register('vm', 'c', consumer);
    consumer.stop();
    consumer.alive = true;
    queues.enqueue(a, b('x'));
    queues.enqueue(c, b('y'));
    await nextTurn();
    expect(consumer.notified).toEqual([]);
  });

  it('an exception while notifying is logged, not thrown', async () => {
    const { logger, lines } = memoryLogger();
    const queues = new SharedQueues({ logger });
    const consumer = new FakeConsumer();
    consumer.throws = new Error('host bug');
    const token = queues.register('vm', 'q', consumer);
    queues.enqueue(token, b('x'));
    await nextTurn();
    expect(lines.map((l) => l.msg)).toEqual(['delivering proxy_on_queue_ready failed']);
    expect(lines[0]).toMatchObject({ level: 50, token });
  });
});

describe('the length cap', () => {
  it('defaults to 10 000 items per queue', () => {
    expect(DEFAULT_QUEUE_MAX_ITEMS).toBe(10_000);
  });

  it('an enqueue beyond the cap answers OK, drops the item, notifies nobody and warns', async () => {
    const { logger, lines } = memoryLogger();
    const queues = new SharedQueues({ maxItems: 2, logger });
    const consumer = new FakeConsumer();
    const token = queues.register('vm', 'q', consumer);
    expect(queues.enqueue(token, b('1'))).toBe(Status.OK);
    expect(queues.enqueue(token, b('2'))).toBe(Status.OK);
    expect(queues.enqueue(token, b('3'))).toBe(Status.OK);
    expect(queues.enqueue(token, b('4'))).toBe(Status.OK);
    await nextTurn();
    expect(consumer.notified).toEqual([token, token]);
    expect(lines.map((l) => l.msg)).toEqual(['shared queue is full: item dropped (the filter was told OK)']);
    expect(lines[0]).toMatchObject({ level: 40, vm_id: 'vm', queue: 'q', max_items: 2, dropped_items: 1 });
    expect(queues.stats()).toEqual([{ vmId: 'vm', name: 'q', items: 2, droppedItems: 2 }]);
    expect(drain(queues, token)).toEqual(['1', '2', Status.EMPTY]);
    // Room again after draining.
    expect(queues.enqueue(token, b('5'))).toBe(Status.OK);
    expect(drain(queues, token)).toEqual(['5', Status.EMPTY]);
  });

  it('is per queue', () => {
    const queues = new SharedQueues({ maxItems: 1 });
    const a = queues.register('vm', 'a', null);
    const c = queues.register('vm', 'c', null);
    queues.enqueue(a, b('a1'));
    queues.enqueue(c, b('c1'));
    expect(drain(queues, c)).toEqual(['c1', Status.EMPTY]);
  });
});

describe('stats', () => {
  it('lists every queue with its length', () => {
    const queues = new SharedQueues();
    const a = queues.register('vm', 'a', null);
    queues.register('other', 'b', null);
    queues.enqueue(a, b('x'));
    queues.enqueue(a, b('y'));
    queues.dequeue(a);
    expect(queues.stats()).toEqual([
      { vmId: 'vm', name: 'a', items: 1, droppedItems: 0 },
      { vmId: 'other', name: 'b', items: 0, droppedItems: 0 },
    ]);
  });
});

describe('the byte budget', () => {
  it('drops an item that would take all queues past it, and takes items again once dequeued', () => {
    const { logger, lines } = memoryLogger();
    // Two queue names of one character: 2 × (1 + 256) bytes, leaving 10 for items.
    const queues = new SharedQueues({ maxBytes: 2 * 257 + 10, logger });
    const a = queues.register('vm', 'a', null);
    const c = queues.register('vm', 'c', null);
    expect(queues.enqueue(a, b('123456'))).toBe(Status.OK);
    expect(queues.enqueue(c, b('7890'))).toBe(Status.OK);
    expect(queues.enqueue(c, b('x'))).toBe(Status.OK); // over: dropped
    expect(lines.map((l) => l.msg)).toEqual(['shared queue is full: item dropped (the filter was told OK)']);
    expect(lines[0]).toMatchObject({ queue: 'c', bytes: 1, used_bytes: 524, max_bytes: 524 });
    expect(drain(queues, c)).toEqual(['7890', Status.EMPTY]);
    expect(queues.enqueue(c, b('x'))).toBe(Status.OK);
    expect(drain(queues, c)).toEqual(['x', Status.EMPTY]);
    expect(drain(queues, a)).toEqual(['123456', Status.EMPTY]);
  });

  it('does not create a queue it cannot take: token 0, which no queue has, and a warning quoting the name', () => {
    const { logger, lines } = memoryLogger();
    const queues = new SharedQueues({ maxBytes: 300, logger });
    expect(queues.register('vm', 'first', null)).toBe(1);
    const long = `q${'x'.repeat(199)}`;
    expect(queues.register('vm', long, null)).toBe(0);
    expect(queues.enqueue(0, b('x'))).toBe(Status.NOT_FOUND);
    expect(queues.dequeue(0)).toBe(Status.NOT_FOUND);
    expect(queues.resolve('vm', long)).toBeUndefined();
    expect(lines.map((l) => l.msg)).toEqual(['shared queues hold their byte budget: queue not created (the filter was told OK, token 0)']);
    expect(lines[0]!['queue']).toBe(`${long.slice(0, 100)}… (200 characters)`);
    // A queue that exists is re-opened whatever the budget.
    expect(queues.register('vm', 'first', null)).toBe(1);
  });
});
