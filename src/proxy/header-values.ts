// Response header values from undici's raw Buffers, without decoding the ones that repeat.
// Decoding a value (Buffer's latin1Slice, a C++ call) costs ~800 instructions whatever its
// length, measured with callgrind on Node 24 (up to 16 bytes, abi/latin1.ts decodes inline for
// less, still several times a cache hit), and an upstream sends the same content type,
// cache policy and (within a second) date on every response. A small direct-mapped cache hands
// back the string decoded last time for the same bytes; a byte compare costs a fraction of that.
//
// Only the values of the names below are cached: descriptions of the response, never
// credentials or per-client state (set-cookie, location, www-authenticate, any x-... header are
// decoded every time), so the cache holds nothing a response was meant to keep to one client.

import { sameBytes, sampledSlot } from '../abi/byte-slots.ts';
import { latin1Of } from '../abi/latin1.ts';

const SLOTS = 256; // a power of two
const CACHEABLE_LENGTH = 64;
const cache: string[] = new Array<string>(SLOTS).fill('');
// Each cached value's bytes, for the compare: against the string's characters (charCodeAt
// dispatches on the string's representation every time) the cache saved sluice-0 ~0.7k
// instructions per request, against these bytes ~1.5k (callgrind, serving thread).
const NO_BYTES = new Uint8Array(0);
const cacheBytes: Uint8Array[] = new Array<Uint8Array>(SLOTS).fill(NO_BYTES);

/** Whether values of `name` (lower-case) describe the response and may be cached. */
export function valueIsShareable(name: string): boolean {
  switch (name.length) {
    case 3:
      return name === 'age';
    case 4:
      return name === 'date' || name === 'vary' || name === 'etag';
    case 6:
      return name === 'server' || name === 'pragma';
    case 7:
      return name === 'expires';
    case 12:
      return name === 'content-type';
    case 13:
      return name === 'cache-control' || name === 'accept-ranges' || name === 'last-modified';
    case 14:
      return name === 'content-length';
    case 16:
      return name === 'content-encoding' || name === 'content-language';
    default:
      return false;
  }
}

/** The value of header `name` (lower-case) as a latin1 string, from the cache when it may be. */
export function headerValueFromBytes(name: string, bytes: Buffer): string {
  const len = bytes.length;
  if (len === 0 || len > CACHEABLE_LENGTH || !valueIsShareable(name)) return latin1Of(bytes, 0, len);
  const slot = sampledSlot(bytes, 0, len, SLOTS - 1);
  if (sameBytes(cacheBytes[slot]!, bytes, 0, len)) return cache[slot]!;
  const value = latin1Of(bytes, 0, len);
  cache[slot] = value;
  cacheBytes[slot] = new Uint8Array(bytes); // a copy: undici reuses its buffers
  return value;
}
