// A listener's `routes:` entry — which requests it takes and what it does with them.

import { omitUndefined } from '../omit-undefined.ts';
import { reportConflicts, type Field, type MapFields, type Reader } from '../reader.ts';
import type { Symbols } from '../symbols.ts';
import type { DirectResponse, RouteConfig } from '../types.ts';
import { BODY_LIMIT_KEYS, readBodyLimits, type BodyLimits } from './body-limits.ts';
import { readFilterChain } from './filter-chain.ts';
import { parseHeaderName } from './http.ts';
import { readMatch } from './match.ts';
import { readMetadata } from './metadata.ts';

const ACTIONS = ['cluster', 'direct_response', 'echo'];
const ROUTE_SHAPE = { keys: ['name', 'match', ...ACTIONS, 'filters', ...BODY_LIMIT_KEYS, 'metadata'], required: ['match'] };
const DIRECT_RESPONSE_SHAPE = { keys: ['status', 'body', 'headers'], required: ['status'] };

/** What a route inherits from its listener. */
export interface RouteDefaults extends BodyLimits {
  listenerName: string;
  /** Key path of the listener: route names must be unique within it. */
  listenerPath: string;
  filters: string[];
}

export function readRoute(r: Reader, symbols: Symbols, field: Field, index: number, defaults: RouteDefaults): RouteConfig | undefined {
  const entry = r.map(field, ROUTE_SHAPE);
  if (!entry) return undefined;
  const name = entry.read('name', r.nonEmptyString) ?? `${defaults.listenerName}/${index}`;
  symbols.declare('route name', name, entry.get('name') ?? field, `${defaults.listenerPath}.routes`);
  const match = entry.read('match', (f) => readMatch(r, f));
  const cluster = entry.read('cluster', (f) => symbols.readReference(f, 'cluster'));
  const directResponse = entry.read('direct_response', (f) => readDirectResponse(r, f));
  const echo = entry.read('echo', r.boolean);
  checkOneAction(r, entry, echo);
  const filters = entry.read('filters', (f) => readFilterChain(r, symbols, f)) ?? defaults.filters;
  const limits = readBodyLimits(r, entry, defaults);
  const metadata = entry.readOr('metadata', (f) => readMetadata(r, f), {});
  if (!match) return undefined;
  return omitUndefined<RouteConfig>({ name, match, cluster, directResponse, echo: echo || undefined, filters, ...limits, metadata });
}

/** `echo: false` is allowed and means "no echo", so it doesn't count as an action. */
function checkOneAction(r: Reader, entry: MapFields, echo: boolean | undefined): void {
  const actions = ACTIONS.filter((key) => key !== 'echo' || echo !== false);
  const advice = 'a route takes exactly one of "cluster", "direct_response", "echo: true"';
  if (entry.pick(actions).length === 0) r.report(entry.field, `missing an action: ${advice}`);
  reportConflicts(r, entry, actions, advice);
}

function readDirectResponse(r: Reader, field: Field): DirectResponse | undefined {
  const entry = r.map(field, DIRECT_RESPONSE_SHAPE);
  if (!entry) return undefined;
  const status = entry.read('status', (f) => readStatus(r, f));
  const body = entry.readOr('body', r.string, '');
  const headers = entry.readOr('headers', (f) => readResponseHeaders(r, f), []);
  return status === undefined ? undefined : { status, body, headers };
}

function readStatus(r: Reader, field: Field): number | undefined {
  const status = r.number(field);
  if (status === undefined || (Number.isInteger(status) && status >= 200 && status <= 599)) return status;
  r.report(field, `expected an HTTP status from 200 to 599 (got ${status})`);
  return undefined;
}

/** A map of header name to value; names are lower-cased, file order is kept. */
function readResponseHeaders(r: Reader, field: Field): [string, string][] | undefined {
  const entry = r.map(field);
  if (!entry) return undefined;
  const headers: [string, string][] = [];
  for (const { keyField, field: valueField } of entry.entries) {
    const name = r.parse(keyField, parseHeaderName);
    const value = r.string(valueField);
    if (name !== undefined && value !== undefined) headers.push([name, value]);
  }
  return headers.length === entry.entries.length ? headers : undefined;
}
