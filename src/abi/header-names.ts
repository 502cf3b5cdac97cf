// Header names without decoding them each time: a guest's key (in its memory), a name undici
// parsed (a Buffer) or a request name from Node (a string) becomes the one string cached for
// that name. Decoding (Buffer's latin1Slice, then toLowerCase) costs several times the
// instructions of the compares below, measured with callgrind on Node 24.

import { NO_WORDS, sameAsWords, sampledSlot, sampledSlotOfString, wordsOf } from './byte-slots.ts';
import { isHeaderName, isHeaderNameBytes } from './header-validation.ts';
import { internalize } from './internalize.ts';

/**
 * Whether `name` (lower-case) equals bytes[start, start+len) compared case-insensitively (ASCII
 * A-Z fold, as header names are tokens).
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

// Response header names from undici arrive as Buffers, names a guest adds come from its memory,
// request names from Node as fresh strings; all repeat on every request: a small cache hands
// back the string made last time for the same name. It is two-way: a name lives in its sampled
// slot or in that slot's neighbour (slot ^ 1), so two names of one slot that a request uses
// both stay cached instead of evicting each other on every lookup (any ~40 names have even odds
// of such a pair among them). Measured on the proxy (callgrind, serving thread), this beats
// decoding each name afresh, although hashing in JS costs more than the decode itself: the
// same string objects come back, with their hash already computed, and internalized (see
// `store`), so later name compares are by address.
// Only names are cached: a small set of tokens, never secrets as values can be.
const CACHE_SLOTS = 1024; // a power of two
const CACHEABLE_LENGTH = 64;
const cache: string[] = new Array<string>(CACHE_SLOTS).fill('');
// Each cached name's bytes as words (byte-slots.ts, wordsOf), for sameAsWords's compare.
const cacheWords: Int32Array[] = new Array<Int32Array>(CACHE_SLOTS).fill(NO_WORDS);

// Only valid header names (header-validation.ts) are ever cached, so a cache hit is a valid
// name: the guest's keys, checked on every add and replace, cost the check only on a miss.

/**
 * bytes[start, start+len) as a lower-case latin1 string, from the cache when seen before; null
 * when the bytes are not a header name (a guest's key is refused then).
 */
export function headerNameFromBytes(bytes: Buffer, start: number, len: number): string | null {
  if (len === 0) return null;
  if (len > CACHEABLE_LENGTH) return isHeaderNameBytes(bytes, start, len) ? bytes.latin1Slice(start, start + len).toLowerCase() : null;
  return fromSlot(bytes, start, len, sampledSlot(bytes, start, len, CACHE_SLOTS - 1));
}

/**
 * The name cached in `slot` or its neighbour if it matches bytes[start, start+len) in any case,
 * else decoded and cached (null: not a name). A new name takes `slot`; its occupant moves to the
 * neighbour, whose own is dropped: the two names cached last stay.
 */
function fromSlot(bytes: Buffer, start: number, len: number, slot: number): string | null {
  const cached = cache[slot]!;
  if (nameEqualsBytes(cached, bytes, start, len)) return cached;
  const neighbour = cache[slot ^ 1]!;
  if (nameEqualsBytes(neighbour, bytes, start, len)) return neighbour;
  if (!isHeaderNameBytes(bytes, start, len)) return null;
  if (cached !== '') {
    cache[slot ^ 1] = cached;
    cacheWords[slot ^ 1] = cacheWords[slot]!;
  }
  return store(slot, bytes.latin1Slice(start, start + len).toLowerCase());
}

/**
 * Puts a (valid, lower-case) name in `slot`, internalized (internalize.ts): the header maps'
 * names, the guests' keys and the proxy's literals then meet as the same object, and
 * `proxy_get_header_map_value` costs ~130 instructions less (callgrind). Only a miss pays for it.
 */
function store(slot: number, name: string): string {
  const interned = internalize(name);
  cache[slot] = interned;
  cacheWords[slot] = wordsOf(interned);
  return interned;
}

/** Whether `name` (lower-case) equals `s` compared case-insensitively (ASCII A-Z fold). */
function nameEqualsString(name: string, s: string, len: number): boolean {
  if (name.length !== len) return false;
  for (let i = 0; i < len; i++) {
    let c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) c |= 0x20;
    if (name.charCodeAt(i) !== c) return false;
  }
  return true;
}

/**
 * A header name given as a string (Node's rawHeaders, a name the host or a config sets),
 * lower-cased: the cached string when the name was seen before, as bytes or as a string.
 * A name not cached takes its slot, or the neighbour, only when one is free. Request names are
 * the client's choice: were they to evict, a client sending a new name each time would make
 * every one of them a miss (~300 ns against ~20 for `toLowerCase`, measured in isolation). The
 * names a filter asks for and the upstream's still evict (the bytes paths above). What is not
 * a valid header name is lower-cased and never cached.
 */
export function headerNameFromString(s: string): string {
  const len = s.length;
  if (len === 0 || len > CACHEABLE_LENGTH) return s.toLowerCase();
  const slot = sampledSlotOfString(s, len, CACHE_SLOTS - 1);
  const cached = cache[slot]!;
  if (nameEqualsString(cached, s, len)) return cached;
  return fromNeighbourOrFree(s, len, slot);
}

/** headerNameFromString's miss in `slot`, out of line as for the bytes (see guestHeaderName). */
function fromNeighbourOrFree(s: string, len: number, slot: number): string {
  const neighbour = cache[slot ^ 1]!;
  if (nameEqualsString(neighbour, s, len)) return neighbour;
  const free = cache[slot] === '' ? slot : neighbour === '' ? slot ^ 1 : -1;
  return free !== -1 && isHeaderName(s) ? store(free, s.toLowerCase()) : s.toLowerCase();
}

/** The names cached where a name of `slot` may live (slot, then its neighbour; '' when free): for tests. */
export function cachedNamesAt(slot: number): [string, string] {
  const s = slot & (CACHE_SLOTS - 1);
  return [cache[s]!, cache[s ^ 1]!];
}

/**
 * `headerNameFromBytes` for a key in guest memory, where `view` is a DataView over the same
 * memory as `bytes`. Guests nearly always send names in lower case, as cached: those match word
 * by word; any other spelling takes the byte-wise path.
 */
export function guestHeaderName(bytes: Buffer, view: DataView, start: number, len: number): string | null {
  if (len === 0 || len > CACHEABLE_LENGTH) return headerNameFromBytes(bytes, start, len);
  const slot = sampledSlot(bytes, start, len, CACHE_SLOTS - 1);
  const cached = cache[slot]!;
  if (cached.length === len && sameAsWords(cacheWords[slot]!, view, start, len)) return cached;
  // The neighbour is looked at in fromSlot: kept out of here, this path stays small enough for
  // TurboFan to inline into the host calls (with it here, a replace cost ~180 instructions more).
  return fromSlot(bytes, start, len, slot);
}

/** `headerNameFromBytes` for names taken as they come (undici's): anything else decoded, uncached. */
export function lowerNameFromBytes(bytes: Buffer, start: number, len: number): string {
  return headerNameFromBytes(bytes, start, len) ?? bytes.latin1Slice(start, start + len).toLowerCase();
}
