// The state filters share across VMs: shared data, shared queues and filter metrics. In a single
// proxy it lives here; with workers, the supervisor owns it and every worker reaches it through
// src/supervisor (same interfaces), so it is process-wide as in Envoy.

import type { Logger } from 'pino';
import { MetricsRegistry } from '../abi/metrics.ts';
import { SharedDataStore, type NamespaceStats, type SharedDataAccess } from '../abi/shared-data.ts';
import { SharedQueues, type SharedQueuesAccess } from '../abi/shared-queues.ts';
import type { ProxyMetrics } from '../admin/metrics.ts';
import { FilterMetricsRenderer } from '../admin/prometheus.ts';
import type { StatsTagRule } from '../config/types.ts';

export interface SharedState {
  readonly sharedData: SharedDataAccess;
  readonly queues: SharedQueuesAccess;
  readonly filterMetrics: MetricsRegistry;
}

/** The state itself (not a view of someone else's): it can also report on itself. */
export interface OwnedSharedState extends SharedState {
  readonly sharedData: SharedDataStore;
  readonly queues: SharedQueues;
}

export function ownedSharedState(logger: Logger): OwnedSharedState {
  return {
    sharedData: new SharedDataStore({ logger: logger.child({ component: 'shared-data' }) }),
    queues: new SharedQueues({ logger: logger.child({ component: 'shared-queues' }) }),
    filterMetrics: new MetricsRegistry(),
  };
}

/** Shows owned state on /metrics: filter metrics (with stats tags) and shared data/queue gauges. */
export function exposeSharedState(metrics: ProxyMetrics, state: OwnedSharedState, tags: readonly StatsTagRule[]): void {
  metrics.filterMetrics(new FilterMetricsRenderer(state.filterMetrics, tags));
  const { sharedData, queues } = state;
  type Sample = [Record<string, string>, number];
  const perVmId = (pick: (s: NamespaceStats) => number) => (): Sample[] =>
    [...sharedData.stats().byVmId].map(([vmId, s]): Sample => [{ vm_id: vmId }, pick(s)]);
  metrics.gauge('sluice_shared_data_keys', 'Keys in the shared data store, by vm_id.', perVmId((s) => s.keys));
  metrics.gauge('sluice_shared_data_bytes', 'Bytes of keys and values in the shared data store, by vm_id.', perVmId((s) => s.bytes));
  metrics.gauge('sluice_shared_data_dropped_writes', 'Shared data writes dropped since start because the store was full, by vm_id.', perVmId((s) => s.droppedWrites));
  const perQueue = (pick: (q: { items: number; droppedItems: number }) => number) => (): Sample[] =>
    queues.stats().map((q): Sample => [{ vm_id: q.vmId, queue: q.name }, pick(q)]);
  metrics.gauge('sluice_shared_queue_items', 'Items waiting in each shared queue.', perQueue((q) => q.items));
  metrics.gauge('sluice_shared_queue_dropped_items', 'Items dropped since start because their shared queue was full.', perQueue((q) => q.droppedItems));
}
