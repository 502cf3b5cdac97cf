// Route matching: the first route of a listener whose every condition holds wins.

import type { HeaderMap } from '../abi/header-map.ts';
import type { HeaderMatch, RouteConfig, RouteMatch } from '../config/types.ts';

export type RouteMatcher = (headers: HeaderMap) => boolean;

export function compileMatch(match: RouteMatch): RouteMatcher {
  const tests: RouteMatcher[] = [];
  if (match.path !== undefined) {
    const path = match.path;
    tests.push((h) => pathOnly(h.get(':path') ?? '') === path);
  }
  if (match.prefix !== undefined && match.prefix !== '/') {
    const prefix = match.prefix;
    tests.push((h) => pathOnly(h.get(':path') ?? '').startsWith(prefix));
  }
  if (match.methods !== undefined) {
    const methods = new Set(match.methods);
    tests.push((h) => methods.has(h.get(':method') ?? ''));
  }
  if (match.host !== undefined) tests.push(hostTest(match.host.toLowerCase()));
  for (const header of match.headers ?? []) tests.push(headerTest(header));
  if (tests.length === 0) return () => true;
  return (h) => {
    for (const test of tests) if (!test(h)) return false;
    return true;
  };
}

function pathOnly(pathValue: string): string {
  const q = pathValue.indexOf('?');
  return q === -1 ? pathValue : pathValue.slice(0, q);
}

function hostTest(pattern: string): RouteMatcher {
  const wildcard = pattern.startsWith('*.') ? pattern.slice(1) : null;
  return (h) => {
    const authority = (h.get(':authority') ?? '').toLowerCase();
    const host = authority.startsWith('[') ? authority.slice(0, authority.indexOf(']') + 1) : authority.split(':')[0]!;
    return wildcard === null ? host === pattern : host.endsWith(wildcard) && host.length > wildcard.length;
  };
}

function headerTest(m: HeaderMatch): RouteMatcher {
  const { name } = m;
  if (m.exact !== undefined) {
    const exact = m.exact;
    return (h) => h.getJoined(name) === exact;
  }
  if (m.prefix !== undefined) {
    const prefix = m.prefix;
    return (h) => h.getJoined(name)?.startsWith(prefix) === true;
  }
  const present = m.present !== false;
  return (h) => h.has(name) === present;
}

export interface CompiledRoute<F = string> {
  readonly config: RouteConfig;
  readonly matches: RouteMatcher;
  /** The route's filter chain, each name resolved once by the router's `filter` function. */
  readonly filters: readonly F[];
}

export class Router<F = string> {
  readonly #routes: CompiledRoute<F>[];

  constructor(routes: readonly RouteConfig[], filter: (name: string) => F = (name) => name as F) {
    this.#routes = routes.map((config) => ({ config, matches: compileMatch(config.match), filters: config.filters.map(filter) }));
  }

  match(headers: HeaderMap): CompiledRoute<F> | undefined {
    for (const route of this.#routes) if (route.matches(headers)) return route;
    return undefined;
  }
}
