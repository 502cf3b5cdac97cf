// Parsers for the quantities a config writes with units: durations and byte
// sizes. They throw ValueError with a user-facing message on bad input.

import { ValueError } from './errors.ts';

/** Longest timer Node honours; larger delays fire immediately (with a warning). */
export const MAX_DURATION_MS = 2 ** 31 - 1;

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1e3, mb: 1e6, gb: 1e9,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30,
};

const QUANTITY = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i;

/**
 * "250ms", "1s", "1.5s", "2m", "1h", or milliseconds as a number or bare
 * numeric string. Returns whole milliseconds.
 */
export function parseDuration(value: string | number): number {
  const hint = 'expected a duration like "250ms", "1.5s", "2m" or a number of milliseconds';
  const ms = toInteger(value, DURATION_UNITS, 'ms', hint);
  if (ms === undefined) throw new ValueError(`${hint}, not a fraction of a millisecond`);
  if (ms > MAX_DURATION_MS) throw new ValueError(`duration is too long (at most ${MAX_DURATION_MS}ms, about 24 days)`);
  return ms;
}

/**
 * A byte count as a number, or a string with a unit: B, KB/MB/GB (powers of
 * 1000) or KiB/MiB/GiB (powers of 1024), case-insensitive. Returns bytes.
 */
export function parseByteSize(value: string | number): number {
  const hint = 'expected a size like 65536, "64KiB", "1MiB" or "1MB"';
  const bytes = toInteger(value, SIZE_UNITS, 'b', hint);
  if (bytes === undefined) throw new ValueError(`${hint}, not a fraction of a byte`);
  if (!Number.isSafeInteger(bytes)) throw new ValueError('size is too large');
  return bytes;
}

/**
 * Scales `amount unit` to a count of the base unit; undefined when the result
 * has a fractional part (so "1.5ms" is refused rather than silently rounded).
 */
function toInteger(value: string | number, units: Readonly<Record<string, number>>, bareUnit: string, hint: string): number | undefined {
  let amount: number;
  let factor: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new ValueError(`${hint} (got ${value})`);
    amount = value;
    factor = 1;
  } else {
    const [, digits, unit] = QUANTITY.exec(value.trim()) ?? [];
    const unitFactor = units[(unit || bareUnit).toLowerCase()];
    if (digits === undefined || unitFactor === undefined) throw new ValueError(`${hint} (got ${JSON.stringify(value)})`);
    amount = Number(digits);
    factor = unitFactor;
  }
  const exact = amount * factor;
  const rounded = Math.round(exact);
  // Tolerate binary floating-point noise such as 1.1 * 1000 = 1100.0000000000002.
  return Math.abs(exact - rounded) < 1e-6 ? rounded : undefined;
}
