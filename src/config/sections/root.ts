// The top level of a config file: wires the sections together in dependency order.

import type { Reader } from '../reader.ts';
import { Symbols } from '../symbols.ts';
import { LOG_LEVELS, type SluiceConfig } from '../types.ts';
import { readClusters } from './clusters.ts';
import { readFilters } from './filters.ts';
import { readListenAddress, readListeners } from './listeners.ts';
import { DEFAULT_NODE, readNode } from './metadata.ts';
import { readStats } from './stats.ts';
import { parseDuration } from '../units.ts';
import { readCountOrAuto } from './counts.ts';

/** A worker that shows no sign of life for this long is replaced (a filter stuck in a loop). */
export const DEFAULT_WATCHDOG_TIMEOUT_MS = 10_000;
/**
 * A worker silent this long inside one filter callback is replaced, and the filter sits out.
 * Callbacks take microseconds; a second is a loop, not work (start-up callbacks excepted).
 */
export const DEFAULT_FILTER_CALLBACK_TIMEOUT_MS = 1000;
/** How long the workers a reload replaces may finish their requests in flight. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;
const MAX_WORKERS = 256;
/** Far above any fd limit: `max_connections` is a guard, not a tuning knob. */
const MAX_CONNECTIONS = 2 ** 30;

const ROOT_SHAPE = { keys: ['admin', 'log_level', 'workers', 'watchdog_timeout', 'filter_callback_timeout', 'drain_timeout', 'max_connections', 'node', 'stats', 'listeners', 'clusters', 'filters'], required: ['listeners'] };
const ADMIN_SHAPE = { keys: ['address'], required: ['address'] };

export interface RootContext {
  /** Absolute path of the config file. */
  file: string;
  /** Directory module paths are relative to. */
  baseDir: string;
}

/** Reads the whole config; undefined (with issues recorded on `r`) when it is not valid. */
export function readConfig(r: Reader, context: RootContext): SluiceConfig | undefined {
  const rootField = r.root();
  if (rootField.node === null) {
    r.report(rootField, 'the config is empty; it needs at least a "listeners" list');
    return undefined;
  }
  const root = r.map(rootField, ROOT_SHAPE);
  if (!root) return undefined;
  const symbols = new Symbols(r);
  const logLevel = root.readOr('log_level', (f) => r.oneOf(f, LOG_LEVELS), 'info');
  const admin = root.read('admin', (f) => {
    const address = r.map(f, ADMIN_SHAPE)?.read('address', (a) => readListenAddress(r, symbols, a));
    return address && { address };
  });
  const workers = root.readOr('workers', (f) => readCountOrAuto(r, f, MAX_WORKERS), 1);
  const watchdogTimeoutMs = root.readOr('watchdog_timeout', (f) => r.parseQuantity(f, parseDuration), DEFAULT_WATCHDOG_TIMEOUT_MS);
  const filterCallbackTimeoutMs = root.readOr('filter_callback_timeout', (f) => r.parseQuantity(f, parseDuration), DEFAULT_FILTER_CALLBACK_TIMEOUT_MS);
  const drainTimeoutMs = root.readOr('drain_timeout', (f) => r.parseQuantity(f, parseDuration), DEFAULT_DRAIN_TIMEOUT_MS);
  const maxConnections = root.readOr('max_connections', (f) => readCountOrAuto(r, f, MAX_CONNECTIONS), 'auto');
  const node = root.readOr('node', (f) => readNode(r, f), DEFAULT_NODE);
  const stats = root.readOr('stats', (f) => readStats(r, f), { tags: [] });
  const clusters = readClusters(r, symbols, root.get('clusters'));
  const filters = readFilters(r, symbols, root.get('filters'), { baseDir: context.baseDir, logLevel });
  const listeners = readListeners(r, symbols, root.get('listeners'));
  symbols.checkReferences();
  if (r.issues.length > 0) return undefined;
  return { file: context.file, logLevel, workers, watchdogTimeoutMs, filterCallbackTimeoutMs, drainTimeoutMs, maxConnections, ...(admin && { admin }), node, stats, listeners, clusters, filters };
}
