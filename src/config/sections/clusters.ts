// `clusters:` — named groups of upstream endpoints that routes forward to.

import { parseHostPort } from '../address.ts';
import { readAll, type Field, type Reader } from '../reader.ts';
import type { Symbols } from '../symbols.ts';
import type { ClusterConfig, HostPort } from '../types.ts';
import { parseDuration } from '../units.ts';
import { readCount } from './counts.ts';
import { readMetadata } from './metadata.ts';

const PROTOCOLS = ['http1', 'http2'] as const;
export const DEFAULT_CONNECT_TIMEOUT_MS = 1000;
export const DEFAULT_TIMEOUT_MS = 15_000;
/** Envoy's default circuit breaker: enough for any one upstream, and a bound on descriptors. */
export const DEFAULT_MAX_CONNECTIONS = 1024;
const MAX_CONNECTIONS = 2 ** 20;
/** Envoy's default too: past max_connections, this many requests may wait for a connection. */
export const DEFAULT_MAX_PENDING_REQUESTS = 1024;

const CLUSTER_SHAPE = { keys: ['name', 'endpoints', 'connect_timeout', 'timeout', 'protocol', 'max_connections', 'max_pending_requests', 'metadata'], required: ['name', 'endpoints'] };

export function readClusters(r: Reader, symbols: Symbols, field: Field | undefined): ClusterConfig[] {
  const items = field ? r.list(field) : [];
  return (items ?? []).flatMap((item) => readCluster(r, symbols, item) ?? []);
}

function readCluster(r: Reader, symbols: Symbols, field: Field): ClusterConfig | undefined {
  const entry = r.map(field, CLUSTER_SHAPE);
  if (!entry) return undefined;
  const name = symbols.readName(entry, 'cluster');
  const endpoints = entry.read('endpoints', (f) => readEndpoints(r, f));
  const connectTimeoutMs = entry.readOr('connect_timeout', (f) => positive(r, f, r.parseQuantity(f, parseDuration)), DEFAULT_CONNECT_TIMEOUT_MS);
  const timeoutMs = entry.readOr('timeout', (f) => r.parseQuantity(f, parseDuration), DEFAULT_TIMEOUT_MS);
  const protocol = entry.readOr('protocol', (f) => r.oneOf(f, PROTOCOLS), 'http1');
  const maxConnections = entry.readOr('max_connections', (f) => readCount(r, f, MAX_CONNECTIONS), DEFAULT_MAX_CONNECTIONS);
  const maxPendingRequests = entry.readOr('max_pending_requests', (f) => readCount(r, f, MAX_CONNECTIONS, '', 0), DEFAULT_MAX_PENDING_REQUESTS);
  const metadata = entry.readOr('metadata', (f) => readMetadata(r, f), {});
  if (name === undefined || !endpoints) return undefined;
  return { name, endpoints, connectTimeoutMs, timeoutMs, protocol, maxConnections, maxPendingRequests, metadata };
}

function readEndpoints(r: Reader, field: Field): HostPort[] | undefined {
  const items = r.list(field);
  if (!items) return undefined;
  if (items.length === 0) r.report(field, 'a cluster needs at least one endpoint');
  return readAll(items, (item) => r.parse(item, parseHostPort));
}

/** A connect timeout of 0 would fail every connection; only the request timeout may be disabled. */
function positive(r: Reader, field: Field, ms: number | undefined): number | undefined {
  if (ms === 0) r.report(field, 'must be greater than 0');
  return ms || undefined;
}
