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
