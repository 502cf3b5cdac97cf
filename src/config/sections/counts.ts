// Counts in a config: whole numbers within a range, some also `auto` (resolved when the proxy
// starts: `workers` from the CPUs, `max_connections` from the open-file limit).

import type { Field, Reader } from '../reader.ts';

/** A whole number from 1 (or `min`) to `max`. */
export function readCount(r: Reader, field: Field, max: number, alternative = '', min = 1): number | undefined {
  const n = r.number(field);
  if (n === undefined) return undefined;
  if (!Number.isInteger(n) || n < min || n > max) {
    r.report(field, `expected a whole number from ${min} to ${max}${alternative}`);
    return undefined;
  }
  return n;
}

/** A whole number from 1 to `max`, or `auto`. */
export function readCountOrAuto(r: Reader, field: Field, max: number): number | 'auto' | undefined {
  if (r.toJS(field) === 'auto') return 'auto';
  return readCount(r, field, max, ', or "auto"');
}
