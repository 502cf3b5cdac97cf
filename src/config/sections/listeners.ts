// `listeners:` — the addresses sluice accepts requests on, each with its routes.

import { formatHostPort, parseHostPort } from '../address.ts';
import type { Field, Reader } from '../reader.ts';
import type { Symbols } from '../symbols.ts';
import type { HostPort, ListenerConfig } from '../types.ts';
import { parseDuration } from '../units.ts';
import { BODY_LIMIT_KEYS, DEFAULT_MAX_BODY_BYTES, readBodyLimits } from './body-limits.ts';
import { readFilterChain } from './filter-chain.ts';
import { readMetadata } from './metadata.ts';
import { readRoute } from './routes.ts';

const LISTENER_SHAPE = { keys: ['name', 'address', 'filters', ...BODY_LIMIT_KEYS, 'stream_idle_timeout', 'metadata', 'routes'], required: ['name', 'address', 'routes'] };

/** Envoy's default stream_idle_timeout. */
export const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 5 * 60_000;

const DEFAULT_LIMITS = { maxRequestBodyBytes: DEFAULT_MAX_BODY_BYTES, maxResponseBodyBytes: DEFAULT_MAX_BODY_BYTES };

export function readListeners(r: Reader, symbols: Symbols, field: Field | undefined): ListenerConfig[] {
  const items = field ? r.list(field) : undefined;
  if (field && items?.length === 0) r.report(field, 'at least one listener is needed');
  return (items ?? []).flatMap((item) => readListener(r, symbols, item) ?? []);
}

function readListener(r: Reader, symbols: Symbols, field: Field): ListenerConfig | undefined {
  const entry = r.map(field, LISTENER_SHAPE);
  if (!entry) return undefined;
  const name = symbols.readName(entry, 'listener');
  const address = entry.read('address', (f) => readListenAddress(r, symbols, f));
  const filters = entry.readOr('filters', (f) => readFilterChain(r, symbols, f), []);
  const limits = readBodyLimits(r, entry, DEFAULT_LIMITS);
  const streamIdleTimeoutMs = entry.readOr('stream_idle_timeout', (f) => r.parseQuantity(f, parseDuration), DEFAULT_STREAM_IDLE_TIMEOUT_MS);
  const metadata = entry.readOr('metadata', (f) => readMetadata(r, f), {});
  const defaults = { listenerName: name ?? field.path, listenerPath: field.path, filters, ...limits };
  const routes = entry.read('routes', (f) => {
    const items = r.list(f);
    if (items?.length === 0) r.report(f, 'a listener needs at least one route');
    return items?.map((item, i) => readRoute(r, symbols, item, i, defaults));
  });
  if (name === undefined || !address || !routes || !routes.every((route) => route !== undefined)) return undefined;
  return { name, address, filters, streamIdleTimeoutMs, routes, metadata };
}

/** Parses a listen address and claims it; port 0 (any free port) can be used any number of times. */
export function readListenAddress(r: Reader, symbols: Symbols, field: Field): HostPort | undefined {
  const address = r.parse(field, parseHostPort);
  if (address && address.port !== 0) {
    symbols.declare('address', formatHostPort({ host: address.host.toLowerCase(), port: address.port }), field);
  }
  return address;
}
