// Messages between the supervisor and its workers (structured-cloned over worker_threads).

import type { FilterQuarantine } from '../abi/plugin-set.ts';
import type { HostPort, SluiceConfig } from '../config/types.ts';
import type { QueueReadyMessage } from './shared-state-rpc.ts';

export interface WorkerData {
  config: SluiceConfig;
  index: number;
  /** One Int32 per worker, bumped by the worker's event loop: the watchdog's pulse. */
  heartbeat: SharedArrayBuffer;
  /** One Int32 per worker: the filter whose guest code it runs, index + 1, or 0 (guest-watch.ts). */
  guestCalls: SharedArrayBuffer;
  /** Filters out of service when the worker starts (a restart after one got stuck). */
  quarantines: Quarantine[];
  /** This worker's synchronous channel to the supervisor's shared state (sync-rpc.ts). */
  stateChannel: SharedArrayBuffer;
  /** Filter metric values, shared by every worker and the supervisor (MetricStorage). */
  metricSlots: SharedArrayBuffer;
  /** Client connections open in the process, this worker's share of them, and the limit (connection-limit.ts). */
  connections: { total: SharedArrayBuffer; share: SharedArrayBuffer; max: number };
}

/** A filter (by its index in the configuration) out of service until `until` (epoch ms). */
export type Quarantine = FilterQuarantine;

/**
 * `start` comes first: a worker loads the proxy before it knows its configuration. Or `check`:
 * the worker only starts and stops the filters (`sluice validate`), reporting which one runs
 * in `guestCalls` (slot 0), and exits after answering `checked`.
 */
export type ToWorker =
  | { type: 'start'; data: WorkerData }
  | { type: 'check'; config: SluiceConfig; guestCalls: SharedArrayBuffer }
  | { type: 'stop' }
  /** A reload replaced this worker, or the proxy stops gracefully: stop listening, let the requests in flight finish, exit. */
  | { type: 'drain'; timeoutMs: number }
  | { type: 'metrics'; id: number }
  | ({ type: 'quarantine' } & Quarantine)
  | QueueReadyMessage;

export type FromWorker =
  | { type: 'ready'; listeners: Array<[string, HostPort]> }
  | { type: 'start-failed'; message: string }
  /** The filters of a `check` started and stopped (error null), or why not. */
  | { type: 'checked'; error: string | null }
  | { type: 'metrics'; id: number; text: string }
  /**
   * Its metrics, every METRICS_REPORT_INTERVAL_MS and as it exits after a drain: what it
   * counted stays in its slot's series when it ends (worker-metrics.ts).
   */
  | { type: 'metrics-report'; text: string }
  /** Whole log lines, batched: the supervisor's thread alone writes stdout (log-destination.ts). */
  | { type: 'log'; chunk: string };

/** How often a worker proves its event loop is alive. */
export const HEARTBEAT_INTERVAL_MS = 200;

/**
 * How often a worker reports its metrics unasked: what a crash or a stuck filter can lose. Each
 * report renders the worker's metrics on its event loop (a few hundred thousand instructions
 * with the bench's routes), hence seconds rather than less.
 */
export const METRICS_REPORT_INTERVAL_MS = 5000;
