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

/** Whether bytes[start, start+len) may be a header value. */
export function isHeaderValueBytes(bytes: Uint8Array, start: number, len: number): boolean {
  for (let i = start, end = start + len; i < end; i++) {
    const b = bytes[i]!;
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
