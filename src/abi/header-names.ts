// Header names on the hot path, without V8's generic string builtins. `toLowerCase` goes through
// the ICU-aware builtin even for ASCII that is already lower-case (~500 instructions a call,
// measured with callgrind), and decoding a name from bytes goes through Buffer's C++ bindings.
// Header names are short ASCII tokens, so a plain loop is cheaper for both.

/** `name` lower-cased (ASCII A-Z only, as header names are); the same string when already so. */
export function lowerAscii(name: string): string {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 65 && c <= 90) return name.toLowerCase();
  }
  return name;
}

/**
 * Whether `name` (lower-case) equals bytes[start, start+len) compared case-insensitively, the
 * way a guest's key is matched against stored names without decoding it first.
 */
export function nameEqualsBytes(name: string, bytes: Uint8Array, start: number, len: number): boolean {
  if (name.length !== len) return false;
  for (let i = 0; i < len; i++) {
    let b = bytes[start + i]!;
    if (b >= 65 && b <= 90) b |= 0x20;
    if (name.charCodeAt(i) !== b) return false;
  }
  return true;
}

// Names decoded from bytes (upstream response headers, names a guest adds) repeat on every
// request: a small direct-mapped cache returns the string made last time for the same bytes.
// Only names are cached: they are a small set of tokens, and never secrets as values can be.
const CACHE_SLOTS = 1024; // a power of two
const CACHEABLE_LENGTH = 64;
const cache: string[] = new Array<string>(CACHE_SLOTS).fill('');

/** bytes[start, start+len) as a lower-case latin1 string, from the cache when it was seen. */
export function lowerNameFromBytes(bytes: Buffer, start: number, len: number): string {
  if (len === 0) return '';
  if (len > CACHEABLE_LENGTH) return lowerAscii(bytes.latin1Slice(start, start + len));
  let hash = 0x811c9dc5; // FNV-1a over the lower-cased bytes
  for (let i = 0; i < len; i++) {
    let b = bytes[start + i]!;
    if (b >= 65 && b <= 90) b |= 0x20;
    hash = Math.imul(hash ^ b, 0x01000193);
  }
  const slot = (hash >>> 16) & (CACHE_SLOTS - 1);
  const cached = cache[slot]!;
  if (nameEqualsBytes(cached, bytes, start, len)) return cached;
  const name = lowerAscii(bytes.latin1Slice(start, start + len));
  cache[slot] = name;
  return name;
}
