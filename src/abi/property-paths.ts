// The segments of a property path a guest passes to proxy_get_property. Filters ask for the same
// few paths on every request, so a small direct-mapped cache, looked up on the guest's bytes in
// place, hands back the segments decoded last time. Decoding each time (a view of the bytes,
// Buffer's latin1Slice, split) or keying a Map on the decoded string (hashing a new string per
// call) cost about twice the instructions of the whole lookup (callgrind, Node 24). A hit is
// confirmed four bytes at a time (byte-slots.ts, sameAsWords).

import { NO_WORDS, sameAsWords, sampledSlot, wordsOf } from './byte-slots.ts';
import { internalize } from './internalize.ts';
import { decodePropertyPath } from './pairs.ts';

const SLOTS = 256; // a power of two
/** Longer paths are decoded on every call; the ones filters use are far shorter. */
const CACHEABLE_LENGTH = 128;
/** Per slot, the cached path's length in bytes (-1: empty) and its bytes as words. */
const lengths = new Int32Array(SLOTS).fill(-1);
const words: Int32Array[] = new Array<Int32Array>(SLOTS).fill(NO_WORDS);
const paths: Array<readonly string[]> = new Array<readonly string[]>(SLOTS).fill([]);

/**
 * The path in bytes[start, start+len) (in bounds) as its segments; `view` is a DataView over
 * the same memory as `bytes`. Shared between callers: never modify the array returned.
 */
export function propertyPathFromBytes(bytes: Uint8Array, view: DataView, start: number, len: number): readonly string[] {
  if (len === 0 || len > CACHEABLE_LENGTH) return decodePropertyPath(bytes.subarray(start, start + len));
  const slot = sampledSlot(bytes, start, len, SLOTS - 1);
  if (lengths[slot] === len && sameAsWords(words[slot]!, view, start, len)) return paths[slot]!;
  // A copy (Buffer's slice would be a view): guest memory changes under a view.
  const key = new Uint8Array(bytes.subarray(start, start + len));
  // Internalized, so that the attribute switches and the header-map lookups they lead to
  // compare segments with their literals and names by address (internalize.ts).
  const path = decodePropertyPath(key).map(internalize);
  lengths[slot] = len;
  words[slot] = wordsOf(key);
  paths[slot] = path;
  return path;
}
