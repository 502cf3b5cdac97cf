// A worker's view of the supervisor's shared state: the same interfaces host functions use in a
// single proxy, answered synchronously over the worker's RPC channel. Metric values need no
// round trip: they live in SharedArrayBuffer slots both threads update with Atomics; only
// defining a metric asks the supervisor for its slots.

import type { Logger } from 'pino';
import { MetricStorage, MetricsRegistry } from '../abi/metrics.ts';
import type { SharedDataAccess, SharedValue } from '../abi/shared-data.ts';
import type { QueueConsumer, SharedQueuesAccess } from '../abi/shared-queues.ts';
import { ThrottledWarning, WARNING_INTERVAL_MS } from '../abi/throttled-warning.ts';
import { Status } from '../abi/types.ts';
import type { SharedState } from '../proxy/shared-state.ts';
import type { QueueReadyMessage, StateRequest } from './shared-state-rpc.ts';
import type { SyncRpcClient } from './sync-rpc.ts';

export interface RemoteSharedState extends SharedState {
  /** Delivers a supervisor's queue notification to the local consumer it names. */
  queueReady(message: QueueReadyMessage): void;
}

export function remoteSharedState(rpc: SyncRpcClient, metricSlots: SharedArrayBuffer, logger: Logger): RemoteSharedState {
  const call = (request: StateRequest): unknown => rpc.call(request);
  // A dead or stuck supervisor, or a value too large for the channel, must not crash filters:
  // reads degrade to "absent", writes are dropped (answered like a full store), and the failure
  // is logged with its cause, once per interval per kind of call (filters repeat them per request).
  const failures = new Map<string, ThrottledWarning>();
  const degrade = <T>(what: string, fallback: T, fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      let warning = failures.get(what);
      if (warning === undefined) failures.set(what, (warning = new ThrottledWarning(`${what} failed`, WARNING_INTERVAL_MS, 'error')));
      warning.warn(logger, { err: (err as Error).message });
      return fallback;
    }
  };

  const sharedData: SharedDataAccess = {
    get: (vmId, key) => degrade('shared data read', undefined, () => call({ op: 'data.get', vmId, key }) as SharedValue | undefined),
    set: (vmId, key, value, cas) => degrade('shared data write', Status.OK, () => call({ op: 'data.set', vmId, key, value, cas }) as Status),
  };

  const consumers = new Map<number, QueueConsumer>();
  const consumerIds = new Map<QueueConsumer, number>();
  let nextConsumer = 1;
  const consumerId = (consumer: QueueConsumer): number => {
    let id = consumerIds.get(consumer);
    if (id === undefined) {
      id = nextConsumer++;
      consumerIds.set(consumer, id);
      consumers.set(id, consumer);
      const own = id;
      consumer.onStop(() => {
        consumers.delete(own);
        consumerIds.delete(consumer);
        degrade('shared queue release', undefined, () => call({ op: 'queue.release', consumer: own }));
      });
    }
    return id;
  };

  const queues: SharedQueuesAccess = {
    register: (vmId, name, consumer) => call({ op: 'queue.register', vmId, name, consumer: consumer === null ? null : consumerId(consumer) }) as number,
    resolve: (vmId, name) => degrade('shared queue lookup', undefined, () => call({ op: 'queue.resolve', vmId, name }) as number | undefined),
    enqueue: (token, value) => degrade('shared queue enqueue', Status.OK, () => call({ op: 'queue.enqueue', token, value }) as Status),
    dequeue: (token) => degrade('shared queue dequeue', Status.EMPTY, () => call({ op: 'queue.dequeue', token }) as Buffer | typeof Status.EMPTY | typeof Status.NOT_FOUND),
  };

  const filterMetrics = new MetricsRegistry({
    storage: new MetricStorage(metricSlots),
    remoteDefine: (type, name) => degrade('metric definition', null, () => call({ op: 'metric.define', type, name }) as number | null),
  });

  return {
    sharedData,
    queues,
    filterMetrics,
    queueReady({ consumer, token }) {
      consumers.get(consumer)?.callRoot('proxy_on_queue_ready', token);
    },
  };
}
