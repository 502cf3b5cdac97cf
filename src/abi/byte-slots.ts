// The slot of a short byte string in a small direct-mapped cache, computed from the bytes in
// place: no string is made to look something up. Used for the caches of header names and of
// property paths, whose keys a filter sends again on every request, and of response header
// values.

/**
 * The slot (0..mask) of bytes[start, start+len), len ≥ 1, from the length and four sampled
 * bytes: the cache's full compare decides, so a collision only costs a miss. Measured, hashing
 * every byte cost ~190 more instructions per 7-byte name. `| 0x20` folds A-Z onto a-z, so both
 * cases of a header name share a slot; that it also folds some other bytes together only
 * matters for the hash.
 */
export function sampledSlot(bytes: Uint8Array, start: number, len: number, mask: number): number {
  const last = start + len - 1;
  let hash = Math.imul(len ^ 0x811c9dc5, 0x01000193);
  hash = Math.imul(hash ^ (bytes[start]! | 0x20), 0x01000193);
  hash = Math.imul(hash ^ (bytes[last]! | 0x20), 0x01000193);
  hash = Math.imul(hash ^ (bytes[start + (len >> 1)]! | 0x20), 0x01000193);
  hash = Math.imul(hash ^ (bytes[start + (len >> 2)]! | 0x20), 0x01000193);
  return (hash >>> 16) & mask;
}

/**
 * sampledSlot over a latin1 string's char codes (len = s.length ≥ 1): a key has the same slot
 * whether it comes as bytes or as a string, so both find what the other cached.
 */
export function sampledSlotOfString(s: string, len: number, mask: number): number {
  let hash = Math.imul(len ^ 0x811c9dc5, 0x01000193);
  hash = Math.imul(hash ^ (s.charCodeAt(0) | 0x20), 0x01000193);
  hash = Math.imul(hash ^ (s.charCodeAt(len - 1) | 0x20), 0x01000193);
  hash = Math.imul(hash ^ (s.charCodeAt(len >> 1) | 0x20), 0x01000193);
  hash = Math.imul(hash ^ (s.charCodeAt(len >> 2) | 0x20), 0x01000193);
  return (hash >>> 16) & mask;
}

/** Whether `key` (a cache's copy) holds exactly bytes[start, start+len): the check of a slot hit. */
export function sameBytes(key: Uint8Array, bytes: Uint8Array, start: number, len: number): boolean {
  if (key.length !== len) return false;
  for (let i = 0; i < len; i++) if (key[i] !== bytes[start + i]) return false;
  return true;
}

/** The words of an empty cache slot (wordsOf's result for nothing cached). */
export const NO_WORDS: Int32Array = new Int32Array(0);

/**
 * A cached key's bytes (latin1 char codes of `key`, or the bytes themselves) as little-endian
 * 32-bit words, the last one zero-padded: sameAsWords then compares a key in guest memory four
 * bytes per DataView load, ~3x fewer instructions than byte by byte.
 */
export function wordsOf(key: string | Uint8Array): Int32Array {
  const words = new Int32Array((key.length + 3) >> 2);
  if (typeof key === 'string') for (let i = 0; i < key.length; i++) words[i >> 2]! |= key.charCodeAt(i) << ((i & 3) << 3);
  else for (let i = 0; i < key.length; i++) words[i >> 2]! |= key[i]! << ((i & 3) << 3);
  return words;
}

/**
 * Whether view[start, start+len) holds exactly the bytes of `words` (no case folding); the
 * caller has checked that the cached key is `len` bytes long.
 */
export function sameAsWords(words: Int32Array, view: DataView, start: number, len: number): boolean {
  const full = len >> 2;
  for (let i = 0; i < full; i++) if (view.getInt32(start + (i << 2), true) !== words[i]) return false;
  const rest = len & 3;
  if (rest === 0) return true;
  const p = start + (full << 2);
  let tail = view.getUint8(p);
  if (rest > 1) tail |= view.getUint8(p + 1) << 8;
  if (rest > 2) tail |= view.getUint8(p + 2) << 16;
  return tail === words[full];
}
