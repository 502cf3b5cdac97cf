// Shared queues behind proxy_{register,resolve,enqueue,dequeue}_shared_queue: one registry per
// proxy, queues keyed by (vm_id, name), as in proxy-wasm-cpp-host (reference §7.11). The last
// root context to register a queue is its consumer and gets proxy_on_queue_ready once per
// enqueue, always on a later event-loop turn (never from inside the enqueuing host call).
// Synchronous interface on purpose, like SharedDataStore.

import type { Logger } from 'pino';
import { quoted } from './quoted.ts';
import { ThrottledWarning } from './throttled-warning.ts';
import { Status } from './types.ts';

export const DEFAULT_QUEUE_MAX_ITEMS = 10_000;
/**
 * Bytes all queues together hold (items and queue names), as shared data's cap: without it a
 * filter enqueuing large items nobody dequeues, or registering queue after queue, would grow
 * the proxy until it runs out of memory.
 */
export const DEFAULT_QUEUE_MAX_BYTES = 64 * 1024 * 1024;
/** What a queue costs the byte budget beyond its name (its objects and map entries). */
const QUEUE_OVERHEAD_BYTES = 256;
const MAX_U32 = 0xffffffff;

/** The part of a Plugin a queue needs to notify its consumer (a Plugin satisfies it). */
export interface QueueConsumer {
  callRoot(name: 'proxy_on_queue_ready', token: number): boolean;
  onStop(cleanup: () => void): void;
}

export interface SharedQueuesOptions {
  /** Items one queue holds; an enqueue beyond it is dropped (and answered OK). */
  maxItems?: number;
  /** Bytes all queues hold together; an enqueue beyond it is dropped, a new queue not created. */
  maxBytes?: number;
  logger?: Logger;
}

export interface SharedQueueStats {
  vmId: string;
  name: string;
  items: number;
  droppedItems: number;
}

class Queue {
  readonly token: number;
  readonly vmId: string;
  readonly name: string;
  consumer: QueueConsumer | null = null;
  droppedItems = 0;
  #items: Buffer[] = [];
  #head = 0;

  constructor(token: number, vmId: string, name: string) {
    this.token = token;
    this.vmId = vmId;
    this.name = name;
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(value: Buffer): void {
    this.#items.push(value);
  }

  shift(): Buffer | undefined {
    if (this.#head === this.#items.length) return undefined;
    const value = this.#items[this.#head]!;
    this.#items[this.#head++] = EMPTY;
    // Compact once the consumed prefix dominates, so a long-lived queue does not keep it.
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return value;
  }
}

const EMPTY = Buffer.alloc(0);

/** What host functions use: the in-process queues, or a worker's view of the supervisor's. */
export type SharedQueuesAccess = Pick<SharedQueues, 'register' | 'resolve' | 'enqueue' | 'dequeue'>;

export class SharedQueues {
  readonly #byToken = new Map<number, Queue>();
  /** vm_id → name → queue (nested, so no separator can make two pairs collide). */
  readonly #byName = new Map<string, Map<string, Queue>>();
  /** Queues each consumer owns, so its onStop hook is registered once, not per register call. */
  readonly #owned = new Map<QueueConsumer, Set<Queue>>();
  readonly #maxItems: number;
  readonly #maxBytes: number;
  #bytes = 0;
  readonly #logger: Logger | undefined;
  readonly #full = new ThrottledWarning('shared queue is full: item dropped (the filter was told OK)');
  readonly #tooMany = new ThrottledWarning('shared queues hold their byte budget: queue not created (the filter was told OK, token 0)');
  #nextToken = 1;

  constructor(options: SharedQueuesOptions = {}) {
    this.#maxItems = options.maxItems ?? DEFAULT_QUEUE_MAX_ITEMS;
    this.#maxBytes = options.maxBytes ?? DEFAULT_QUEUE_MAX_BYTES;
    this.#logger = options.logger;
  }

  /**
   * Creates the queue (vm_id, name) or re-opens it with its contents, and makes `consumer` the
   * one notified on enqueue (the last registrant wins; null = nobody). The token is stable. 0
   * when the queue is new and the byte budget cannot take it: no queue has that token, so
   * enqueue and dequeue answer NOT_FOUND, statuses every SDK takes from them.
   */
  register(vmId: string, name: string, consumer: QueueConsumer | null, logger: Logger | undefined = this.#logger): number {
    let queue = this.#byName.get(vmId)?.get(name);
    if (queue === undefined) {
      const cost = name.length + QUEUE_OVERHEAD_BYTES;
      if (this.#bytes + cost > this.#maxBytes) {
        this.#tooMany.warn(logger, { vm_id: vmId, queue: quoted(name), used_bytes: this.#bytes, max_bytes: this.#maxBytes });
        return 0;
      }
      this.#bytes += cost;
      let names = this.#byName.get(vmId);
      if (names === undefined) this.#byName.set(vmId, (names = new Map()));
      queue = new Queue(this.#takeToken(), vmId, name);
      names.set(name, queue);
      this.#byToken.set(queue.token, queue);
    }
    if (queue.consumer !== null && queue.consumer !== consumer) this.#owned.get(queue.consumer)?.delete(queue);
    queue.consumer = consumer;
    if (consumer !== null) this.#own(consumer, queue);
    return queue.token;
  }

  resolve(vmId: string, name: string): number | undefined {
    return this.#byName.get(vmId)?.get(name)?.token;
  }

  /**
   * Appends `value` (kept as is; pass a copy) and schedules proxy_on_queue_ready for the
   * consumer. NOT_FOUND for an unknown token. A full queue drops the item, answers OK and warns.
   */
  enqueue(token: number, value: Buffer, logger: Logger | undefined = this.#logger): Status {
    const queue = this.#byToken.get(token >>> 0);
    if (queue === undefined) return Status.NOT_FOUND;
    if (queue.length >= this.#maxItems || this.#bytes + value.length > this.#maxBytes) {
      queue.droppedItems++;
      const limits = { max_items: this.#maxItems, used_bytes: this.#bytes, max_bytes: this.#maxBytes };
      this.#full.warn(logger, { vm_id: queue.vmId, queue: quoted(queue.name), bytes: value.length, ...limits, dropped_items: queue.droppedItems });
      return Status.OK;
    }
    this.#bytes += value.length;
    queue.push(value);
    const consumer = queue.consumer;
    if (consumer !== null) setImmediate(() => this.#notify(consumer, queue.token));
    return Status.OK;
  }

  /** The oldest item, EMPTY when there is none, NOT_FOUND for an unknown token. */
  dequeue(token: number): Buffer | typeof Status.EMPTY | typeof Status.NOT_FOUND {
    const queue = this.#byToken.get(token >>> 0);
    if (queue === undefined) return Status.NOT_FOUND;
    const value = queue.shift();
    if (value === undefined) return Status.EMPTY;
    this.#bytes -= value.length;
    return value;
  }

  stats(): SharedQueueStats[] {
    return [...this.#byToken.values()].map((q) => ({ vmId: q.vmId, name: q.name, items: q.length, droppedItems: q.droppedItems }));
  }

  #notify(consumer: QueueConsumer, token: number): void {
    try {
      // callRoot skips a stopped or failed plugin and one that does not export the callback.
      consumer.callRoot('proxy_on_queue_ready', token);
    } catch (err) {
      this.#logger?.error({ err, token }, 'delivering proxy_on_queue_ready failed');
    }
  }

  #own(consumer: QueueConsumer, queue: Queue): void {
    let queues = this.#owned.get(consumer);
    if (queues === undefined) {
      this.#owned.set(consumer, (queues = new Set()));
      // A stopped plugin stops being a consumer; the queues and their items stay.
      consumer.onStop(() => {
        for (const q of queues!) if (q.consumer === consumer) q.consumer = null;
        this.#owned.delete(consumer);
      });
    }
    queues.add(queue);
  }

  /** Non-zero u32 tokens from one counter; skips 0 and tokens still in use after a wrap. */
  #takeToken(): number {
    let token = this.#nextToken;
    while (this.#byToken.has(token)) token = token === MAX_U32 ? 1 : token + 1;
    this.#nextToken = token === MAX_U32 ? 1 : token + 1;
    return token;
  }
}
