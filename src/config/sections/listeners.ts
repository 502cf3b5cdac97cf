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

const LISTENER_SHAPE = { keys: ['name', 'address', 'filters', ...BODY_LIMIT_KEYS, 'stream_idle_timeout', 'idle_timeout', 'request_headers_timeout', 'request_timeout', 'metadata', 'routes'], required: ['name', 'address', 'routes'] };

/** Envoy's default stream_idle_timeout. */
export const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 5 * 60_000;
/**
 * How long a client connection may sit with no request in progress. Longer than the idle
 * timeouts of the load balancers usually in front (60 s for AWS's, nginx's keep-alive), so
 * that they, not sluice, close an idle connection; see docs/RATIONALE.md, "Client connections".
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 5 * 60_000;
/** Node's own default: a request's headers must be complete a minute after its first byte. */
export const DEFAULT_REQUEST_HEADERS_TIMEOUT_MS = 60_000;

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
  const idleTimeoutMs = entry.readOr('idle_timeout', (f) => r.parseQuantity(f, parseDuration), DEFAULT_IDLE_TIMEOUT_MS);
  // Off by default, as in Envoy: a long upload is fine while it moves (stream_idle_timeout).
  const requestTimeoutMs = entry.readOr('request_timeout', (f) => r.parseQuantity(f, parseDuration), 0);
  // The headers are part of the request: by default their limit is never the longer one.
  const headersDefault = requestTimeoutMs > 0 ? Math.min(DEFAULT_REQUEST_HEADERS_TIMEOUT_MS, requestTimeoutMs) : DEFAULT_REQUEST_HEADERS_TIMEOUT_MS;
  const requestHeadersTimeoutMs = entry.readOr('request_headers_timeout', (f) => r.parseQuantity(f, parseDuration), headersDefault);
  if (requestTimeoutMs > 0 && requestHeadersTimeoutMs > requestTimeoutMs) {
    r.report(entry.get('request_headers_timeout')!, `cannot be longer than request_timeout (${requestTimeoutMs}ms): the headers are part of the request`);
  }
  const metadata = entry.readOr('metadata', (f) => readMetadata(r, f), {});
  const defaults = { listenerName: name ?? field.path, listenerPath: field.path, filters, ...limits };
  const routes = entry.read('routes', (f) => {
    const items = r.list(f);
    if (items?.length === 0) r.report(f, 'a listener needs at least one route');
    return items?.map((item, i) => readRoute(r, symbols, item, i, defaults));
  });
  if (name === undefined || !address || !routes || !routes.every((route) => route !== undefined)) return undefined;
  return { name, address, filters, streamIdleTimeoutMs, idleTimeoutMs, requestHeadersTimeoutMs, requestTimeoutMs, routes, metadata };
}

/** Parses a listen address and claims it; port 0 (any free port) can be used any number of times. */
export function readListenAddress(r: Reader, symbols: Symbols, field: Field): HostPort | undefined {
  const address = r.parse(field, parseHostPort);
  if (address && address.port !== 0) {
    symbols.declare('address', formatHostPort({ host: address.host.toLowerCase(), port: address.port }), field);
  }
  return address;
}
