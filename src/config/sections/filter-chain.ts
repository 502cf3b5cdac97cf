// A `filters:` list on a listener or route: names of filters, run in order.

import type { Field, Reader } from '../reader.ts';
import type { Symbols } from '../symbols.ts';

export function readFilterChain(r: Reader, symbols: Symbols, field: Field): string[] | undefined {
  const items = r.list(field);
  if (!items) return undefined;
  const chain: string[] = [];
  for (const item of items) {
    const name = symbols.readReference(item, 'filter');
    if (name === undefined) continue;
    // Each filter in a chain gets its own per-request state keyed by name; listing one twice is a mistake.
    if (chain.includes(name)) r.report(item, `filter ${JSON.stringify(name)} is listed twice in this chain`);
    chain.push(name);
  }
  return chain.length === items.length ? chain : undefined;
}
