// The requests a worker sends its supervisor about shared state, and the supervisor's answers.
// The supervisor owns the state (src/proxy/shared-state.ts); workers hold remote views of it.

import type { Logger } from 'pino';
import type { MetricKind } from '../abi/metrics.ts';
import type { QueueConsumer } from '../abi/shared-queues.ts';
import { Status } from '../abi/types.ts';
import type { OwnedSharedState } from '../proxy/shared-state.ts';

export type StateRequest =
  | { op: 'data.get'; vmId: string; key: string }
  | { op: 'data.set'; vmId: string; key: string; value: Buffer; cas: number }
  | { op: 'queue.register'; vmId: string; name: string; consumer: number | null }
  | { op: 'queue.resolve'; vmId: string; name: string }
  | { op: 'queue.enqueue'; token: number; value: Buffer }
  | { op: 'queue.dequeue'; token: number }
  | { op: 'queue.release'; consumer: number }
  | { op: 'metric.define'; type: MetricKind; name: string };

/** Tells a worker that one of its consumers has an item waiting. */
export interface QueueReadyMessage {
  type: 'queue-ready';
  consumer: number;
  token: number;
}

/**
 * A worker's queue consumer as the supervisor's queues see it: notifying it posts a message to
 * that worker, which delivers proxy_on_queue_ready to its own plugin.
 */
class RemoteConsumer implements QueueConsumer {
  readonly #post: (message: QueueReadyMessage) => void;
  readonly #id: number;
  #cleanups: Array<() => void> = [];

  constructor(post: (message: QueueReadyMessage) => void, id: number) {
    this.#post = post;
    this.#id = id;
  }

  callRoot(_name: 'proxy_on_queue_ready', token: number): boolean {
    this.#post({ type: 'queue-ready', consumer: this.#id, token });
    return true;
  }

  onStop(cleanup: () => void): void {
    this.#cleanups.push(cleanup);
  }

  stop(): void {
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
  }
}

/** Answers one worker's requests against the owned state. */
export class WorkerStateHandler {
  readonly #state: OwnedSharedState;
  readonly #logger: Logger;
  readonly #post: (message: QueueReadyMessage) => void;
  readonly #consumers = new Map<number, RemoteConsumer>();

  constructor(state: OwnedSharedState, logger: Logger, post: (message: QueueReadyMessage) => void) {
    this.#state = state;
    this.#logger = logger;
    this.#post = post;
  }

  handle(request: StateRequest): unknown {
    const { sharedData, queues, filterMetrics } = this.#state;
    switch (request.op) {
      case 'data.get':
        return sharedData.get(request.vmId, request.key);
      case 'data.set':
        return sharedData.set(request.vmId, request.key, request.value, request.cas, this.#logger);
      case 'queue.register':
        return queues.register(request.vmId, request.name, request.consumer === null ? null : this.#consumer(request.consumer));
      case 'queue.resolve':
        return queues.resolve(request.vmId, request.name);
      case 'queue.enqueue':
        return queues.enqueue(request.token, request.value, this.#logger);
      case 'queue.dequeue':
        return queues.dequeue(request.token);
      case 'queue.release':
        this.#consumers.get(request.consumer)?.stop();
        this.#consumers.delete(request.consumer);
        return Status.OK;
      case 'metric.define':
        return filterMetrics.define(request.type, request.name)?.offset ?? null;
    }
  }

  /** The worker went away: its consumers stop being notified (the queues and items stay). */
  releaseAll(): void {
    for (const consumer of this.#consumers.values()) consumer.stop();
    this.#consumers.clear();
  }

  #consumer(id: number): RemoteConsumer {
    let consumer = this.#consumers.get(id);
    if (consumer === undefined) this.#consumers.set(id, (consumer = new RemoteConsumer(this.#post, id)));
    return consumer;
  }
}
