// HTTP grammar checks shared by route matching and direct responses.

import { ValueError } from '../errors.ts';

/** RFC 9110 token: the grammar of header names and method names. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function isToken(text: string): boolean {
  return TOKEN.test(text);
}

/** Validates a header name and lower-cases it, the form Proxy-Wasm header maps use. */
export function parseHeaderName(name: string): string {
  if (!isToken(name)) throw new ValueError(`invalid header name ${JSON.stringify(name)}`);
  return name.toLowerCase();
}
