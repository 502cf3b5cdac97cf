// Property values in Envoy's byte encodings: strings raw, integers 8-byte little-endian,
// booleans one byte, timestamps and durations as int64 nanoseconds, maps as serialized pairs.
// The Go SDK's `properties` package and Rust filters decode exactly these layouts.

import { encodePairs } from './pairs.ts';

export function stringValue(value: string): Buffer {
  return Buffer.from(value, 'latin1');
}

export function int64Value(value: number | bigint): Buffer {
  const out = Buffer.allocUnsafe(8);
  out.writeBigInt64LE(BigInt(value));
  return out;
}

export function uint64Value(value: number | bigint): Buffer {
  const out = Buffer.allocUnsafe(8);
  out.writeBigUInt64LE(BigInt(value));
  return out;
}

export function boolValue(value: boolean): Buffer {
  return Buffer.from([value ? 1 : 0]);
}

/** Milliseconds since the epoch (fractional allowed) as an int64 nanosecond timestamp. */
export function timestampValue(epochMs: number): Buffer {
  return int64Value(msToNs(epochMs));
}

/** A duration in milliseconds (fractional allowed) as int64 nanoseconds. */
export function durationValue(ms: number): Buffer {
  return int64Value(msToNs(ms));
}

/** Whole milliseconds scale exactly; `ms * 1e6` as a double loses digits past 2^53 ns (~104 days). */
function msToNs(ms: number): bigint {
  const whole = Math.trunc(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6));
}

export function mapValue(names: readonly string[], values: readonly string[]): Buffer {
  return encodePairs(names, values);
}
