// A route's `match:` — conditions on the request that must all hold.

import { isIPv6 } from 'node:net';
import { isValidHost } from '../address.ts';
import { readAll, reportConflicts, type Field, type Reader } from '../reader.ts';
import { omitUndefined } from '../omit-undefined.ts';
import type { HeaderMatch, RouteMatch } from '../types.ts';
import { isToken, parseHeaderName } from './http.ts';

const MATCH_SHAPE = { keys: ['prefix', 'path', 'headers', 'methods', 'host'] };
const HEADER_SHAPE = { keys: ['name', 'exact', 'prefix', 'present'], required: ['name'] };

export function readMatch(r: Reader, field: Field): RouteMatch | undefined {
  const entry = r.map(field, MATCH_SHAPE);
  if (!entry) return undefined;
  reportConflicts(r, entry, ['prefix', 'path'], 'use either "prefix" or "path"');
  return omitUndefined<RouteMatch>({
    prefix: entry.read('prefix', (f) => readUrlPath(r, f)),
    path: entry.read('path', (f) => readUrlPath(r, f)),
    headers: entry.read('headers', (f) => readAll(r.list(f), (item) => readHeaderMatch(r, item))),
    methods: entry.read('methods', (f) => readMethods(r, f)),
    host: entry.read('host', (f) => readHost(r, f)),
  });
}

function readUrlPath(r: Reader, field: Field): string | undefined {
  const value = r.string(field);
  if (value === undefined || value.startsWith('/')) return value;
  r.report(field, `must start with "/" (got ${JSON.stringify(value)})`);
  return undefined;
}

function readHeaderMatch(r: Reader, field: Field): HeaderMatch | undefined {
  const entry = r.map(field, HEADER_SHAPE);
  if (!entry) return undefined;
  reportConflicts(r, entry, ['exact', 'prefix', 'present'], 'a header match takes one of "exact", "prefix", "present"');
  const name = entry.read('name', (f) => r.parse(f, parseHeaderName));
  const exact = entry.read('exact', r.string);
  const prefix = entry.read('prefix', r.string);
  const present = entry.read('present', r.boolean);
  if (name === undefined) return undefined;
  if (exact !== undefined) return { name, exact };
  if (prefix !== undefined) return { name, prefix };
  return { name, present: present ?? true };
}

function readMethods(r: Reader, field: Field): string[] | undefined {
  const items = r.list(field);
  // An empty list would match no request at all; leave "methods" out to match any method.
  if (items?.length === 0) r.report(field, 'must not be empty (leave "methods" out to match any method)');
  return readAll(items, (item) => readMethod(r, item));
}

function readMethod(r: Reader, field: Field): string | undefined {
  const method = r.nonEmptyString(field);
  if (method === undefined) return undefined;
  if (!isToken(method)) {
    r.report(field, `invalid method name ${JSON.stringify(method)}`);
    return undefined;
  }
  // Methods are case-sensitive on the wire: "get" would never match a GET request.
  if (method !== method.toUpperCase()) {
    r.report(field, `method names are upper-case: write ${JSON.stringify(method.toUpperCase())}`);
    return undefined;
  }
  return method;
}

/** Host header pattern: "example.com", "*.example.com", an IP; no port. Lower-cased. */
function readHost(r: Reader, field: Field): string | undefined {
  const host = r.nonEmptyString(field)?.toLowerCase();
  if (host === undefined || isHostPattern(host)) return host;
  const port = /:\d+$/.test(host) ? ', without a port' : '';
  r.report(field, `expected a host like "example.com" or "*.example.com"${port} (got ${JSON.stringify(host)})`);
  return undefined;
}

function isHostPattern(host: string): boolean {
  const ipv6 = /^\[(.*)\]$/.exec(host)?.[1];
  if (ipv6 !== undefined) return isIPv6(ipv6);
  return isValidHost(host.startsWith('*.') ? host.slice(2) : host);
}
