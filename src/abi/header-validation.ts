// What an HTTP/1.1 field can carry, checked where a guest hands the host a header. Node and undici
// refuse anything else, but only when the message is written: a CR, LF or NUL a filter put in a
// value would fail the request far from that filter (reported as an upstream failure, or a
// reset client connection). Refusing at the host call tells the guest with a status instead.
//
// The rules are Node's and undici's own: a name is a token (RFC 9110 §5.6.2), or a
// pseudo-header (':' then a token); a value is any bytes except controls other than HTAB, so
// obs-text (0x80-0xFF) passes, as it does in received headers.

const TOKEN = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TOKEN[c.charCodeAt(0)] = 1;

const COLON = 58;

/** Whether bytes[start, start+len) is a valid header name (any case). */
export function isHeaderNameBytes(bytes: Uint8Array, start: number, len: number): boolean {
  let i = start;
  const end = start + len;
  if (len > 1 && bytes[i] === COLON) i++;
  if (i === end) return false;
  for (; i < end; i++) if (TOKEN[bytes[i]!] === 0) return false;
  return true;
}

/**
 * Whether view[start, start+len) may be a header value (in bounds). Four bytes per load: a word
 * with no byte below 0x20 and none equal to 0x7f passes at once (the two bit tests are exact for
 * the word as a whole); only a word that holds one is looked at byte by byte, as HTAB is allowed.
 * A byte loop alone costs ~15-37 instructions per byte.
 */
export function isHeaderValueBytes(view: DataView, start: number, len: number): boolean {
  const end = start + len;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const word = view.getInt32(i, true);
    const del = word ^ 0x7f7f7f7f; // a 0x7f byte becomes a zero byte
    if (((word - 0x20202020) & ~word & 0x80808080) !== 0 || ((del - 0x01010101) & ~del & 0x80808080) !== 0) {
      if (!valueBytesPass(view, i, i + 4)) return false;
    }
  }
  return valueBytesPass(view, i, end);
}

function valueBytesPass(view: DataView, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const b = view.getUint8(i);
    if (b < 0x20 ? b !== 0x09 : b === 0x7f) return false;
  }
  return true;
}

/** Whether `name` (latin1) is a valid header name. */
export function isHeaderName(name: string): boolean {
  let i = 0;
  if (name.length > 1 && name.charCodeAt(0) === COLON) i++;
  if (i === name.length) return false;
  for (; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c > 0xff || TOKEN[c] === 0) return false;
  }
  return true;
}

const INVALID_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

/** Whether `value` (latin1) may be a header value. */
export function isHeaderValue(value: string): boolean {
  return !INVALID_VALUE_CHAR.test(value);
}

/** The first pair HTTP cannot carry, or undefined when all can. */
export function firstInvalidPair<P extends readonly [string, string]>(pairs: readonly P[]): P | undefined {
  for (const pair of pairs) if (!isHeaderName(pair[0]) || !isHeaderValue(pair[1])) return pair;
  return undefined;
}
