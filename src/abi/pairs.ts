// Codecs for the two byte layouts the ABI shares between host and guest:
// header maps ("pairs": u32 count, count × {u32 key_len, u32 value_len}, then each key and value
// followed by a NUL) and property paths (segments joined by a single NUL).
// Strings here are latin1 so that every byte round-trips unchanged.

import { latin1Of } from './latin1.ts';
import { MAX_PAIRS_BYTES, MAX_PAIRS_COUNT } from './limits.ts';

export type Pair = [name: string, value: string];

/** Serialized size of parallel name/value lists. */
export function pairsByteLength(names: readonly string[], values: readonly string[]): number {
  let total = 4;
  for (let i = 0; i < names.length; i++) total += 10 + names[i]!.length + values[i]!.length;
  return total;
}

export function encodePairs(names: readonly string[], values: readonly string[]): Buffer {
  const count = names.length;
  const out = Buffer.allocUnsafe(pairsByteLength(names, values));
  out.writeUInt32LE(count, 0);
  let sizes = 4;
  let data = 4 + count * 8;
  for (let i = 0; i < count; i++) {
    const name = names[i]!;
    const value = values[i]!;
    out.writeUInt32LE(name.length, sizes);
    out.writeUInt32LE(value.length, sizes + 4);
    sizes += 8;
    data += out.latin1Write(name, data);
    out[data++] = 0;
    data += out.latin1Write(value, data);
    out[data++] = 0;
  }
  return out;
}

export function encodePairList(pairs: readonly Pair[]): Buffer {
  return encodePairs(
    pairs.map((p) => p[0]),
    pairs.map((p) => p[1]),
  );
}

/**
 * Parses serialized pairs from a guest. Anything shorter than 4 bytes is an empty map (guests
 * send 0 bytes or a lone NUL for "no headers"). Returns null when the bytes are malformed:
 * sizes that overrun, missing NUL terminators, trailing garbage, or over the limits.
 */
export function decodePairs(bytes: Uint8Array): Pair[] | null {
  if (bytes.length < 4) return [];
  if (bytes.length > MAX_PAIRS_BYTES) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(0, true);
  if (count > MAX_PAIRS_COUNT) return null;
  let sizes = 4;
  let data = 4 + count * 8;
  if (data > bytes.length) return null;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pairs: Pair[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const nameLen = view.getUint32(sizes, true);
    const valueLen = view.getUint32(sizes + 4, true);
    sizes += 8;
    const nameEnd = data + nameLen;
    const valueStart = nameEnd + 1;
    const valueEnd = valueStart + valueLen;
    if (valueEnd + 1 > bytes.length || bytes[nameEnd] !== 0 || bytes[valueEnd] !== 0) return null;
    pairs[i] = [latin1Of(buf, data, nameEnd), latin1Of(buf, valueStart, valueEnd)];
    data = valueEnd + 1;
  }
  return data === bytes.length ? pairs : null;
}

/** Splits a NUL-joined property path; a trailing NUL is tolerated. Dots are not separators. */
export function decodePropertyPath(bytes: Uint8Array): string[] {
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0) end--;
  // Guest memory arrives as a Buffer view already; only wrap other Uint8Arrays.
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return buf.latin1Slice(0, end).split('\0');
}

export function encodePropertyPath(segments: readonly string[]): Buffer {
  return Buffer.from(segments.join('\0'), 'latin1');
}
