// Converting between Node's HTTP/1 headers and the header maps filters see. The request map has
// Envoy's pseudo-headers (:authority from Host, :path, :method, :scheme) and no `host` entry;
// the response map starts with :status. Hop-by-hop headers never reach filters or the far side.

import type { IncomingMessage } from 'node:http';
import { HeaderMap } from '../abi/header-map.ts';
import { headerNameFromString, lowerNameFromBytes, nameEqualsBytes } from '../abi/header-names.ts';
import { decimalNumber } from './decimal.ts';
import { headerValueFromBytes } from './header-values.ts';
import { absoluteTarget, originPath } from './request-target.ts';

/**
 * Connection-scoped headers (RFC 9110 §7.6.1) that a proxy must not forward: connection,
 * keep-alive, proxy-connection, te, trailer, transfer-encoding, upgrade, proxy-authenticate,
 * proxy-authorization. A switch on the length, not a Set: every header of every request and
 * response is checked, and most are answered by the length alone, where a Set first hashes.
 */
export function isHopByHop(name: string): boolean {
  switch (name.length) {
    case 2:
      return name === 'te';
    case 7:
      return name === 'trailer' || name === 'upgrade';
    case 10:
      return name === 'connection' || name === 'keep-alive';
    case 16:
      return name === 'proxy-connection';
    case 17:
      return name === 'transfer-encoding';
    case 18:
      return name === 'proxy-authenticate';
    case 19:
      return name === 'proxy-authorization';
    default:
      return false;
  }
}

/**
 * Whether a response with this status has no body whatever its headers say (RFC 9110 §6.3:
 * 1xx, 204, 304). A response to HEAD has none either; the caller knows the method.
 */
export function statusHasNoBody(status: number): boolean {
  return status === 204 || status === 304 || (status >= 100 && status < 200);
}

const NO_TOKENS: readonly string[] = [];

/** Names listed in Connection values (beyond keep-alive/close), which are hop-by-hop too. */
function connectionTokens(connection: string): readonly string[] {
  // Nearly every peer sends just one of these: no split, no array.
  const short = connection.length <= 10 ? connection.toLowerCase() : '';
  if (short === 'keep-alive' || short === 'close') return NO_TOKENS;
  const out: string[] = [];
  for (const token of connection.split(',')) {
    const t = token.trim().toLowerCase();
    if (t !== '' && t !== 'keep-alive' && t !== 'close') out.push(t);
  }
  return out;
}

/** Removes every entry whose name is in `names` (rare: only when Connection lists extra names). */
function dropNamed(map: HeaderMap, names: readonly string[]): void {
  for (const name of names) if (map.has(name)) map.remove(name);
  map.version = 0;
}

/** What the request line and headers say about the body, read in the same pass. */
export interface RequestHead {
  headers: HeaderMap;
  /** Content-Length, or -1 when absent (chunked or no body). */
  contentLength: number;
  hasBody: boolean;
  /** Why the request must be answered 400 before routing (its target or Host), or null. */
  invalid: string | null;
}

/**
 * Builds the request map from rawHeaders in one pass (order and duplicates kept, names
 * lower-cased). Reads no `req.headers`: Node would build a second header object for it.
 */
export function readRequestHead(req: IncomingMessage, scheme: string): RequestHead {
  const raw = req.rawHeaders;
  const target = req.url ?? '/';
  const names: string[] = [':authority', ':path', ':method', ':scheme'];
  const values: string[] = ['', target, req.method ?? 'GET', scheme];
  let connection: string | undefined;
  let contentLength = -1;
  let chunked = false;
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = headerNameFromString(raw[i]!);
    const value = raw[i + 1]!;
    if (name === 'host') {
      if (hosts++ === 0) values[0] = value;
      continue;
    }
    if (name === 'content-length') contentLength = decimalNumber(value);
    else if (name === 'transfer-encoding') chunked = true;
    else if (name === 'connection') connection = connection === undefined ? value : `${connection}, ${value}`;
    if (isHopByHop(name)) continue;
    // Node's server already answered `100 Continue`; like Envoy, the expectation ends here.
    if (name === 'expect' && value.toLowerCase() === '100-continue') continue;
    names.push(name);
    values.push(value);
  }
  const invalid = settleTarget(values, target, hosts, req.httpVersionMinor !== 0);
  const headers = new HeaderMap(names, values);
  if (connection !== undefined) dropNamed(headers, connectionTokens(connection));
  return { headers, contentLength, hasBody: chunked || contentLength > 0, invalid };
}

/**
 * Sets :path (values[1]) and, for an absolute-form target, :authority (values[0]) from the
 * request target (request-target.ts). Returns null, or why the request must be answered 400
 * (RFC 9112 §3.2): a target of another form (`*`, authority-form), more than one Host, or none
 * in HTTP/1.1.
 */
function settleTarget(values: string[], target: string, hosts: number, http11: boolean): string | null {
  if (hosts > 1) return 'more than one Host header';
  if (hosts === 0 && http11) return 'no Host header';
  const path = originPath(target);
  if (path !== null) {
    values[1] = path;
    return null;
  }
  const absolute = absoluteTarget(target);
  if (absolute === null) return 'request target is neither a path nor an http(s) URL';
  // The target's authority replaces Host (RFC 9112 §3.2.2).
  values[0] = absolute[0];
  values[1] = absolute[1];
  return null;
}

/** Builds a response map from undici's raw header buffers, decoding each name once. */
export function responseHeaderMap(status: number, rawHeaders: Buffer[] | string[] | null): HeaderMap {
  return rawHeaderMap([':status'], [String(status)], rawHeaders);
}

/** Trailers (request or response) from raw pairs: no pseudo-headers, hop-by-hop removed. */
export function trailerHeaderMap(rawTrailers: Buffer[] | string[]): HeaderMap {
  return rawHeaderMap([], [], rawTrailers);
}

/** Appends raw pairs to the given leading entries, lower-cased, hop-by-hop headers removed. */
function rawHeaderMap(names: string[], values: string[], rawHeaders: Buffer[] | string[] | null): HeaderMap {
  let connection: string | undefined;
  if (rawHeaders !== null) {
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const rawName = rawHeaders[i]!;
      const name = typeof rawName === 'string' ? headerNameFromString(rawName) : lowerNameFromBytes(rawName, 0, rawName.length);
      if (isHopByHop(name)) {
        // Every Connection header counts (as Node joins them for requests), not just the last.
        if (name === 'connection') {
          const raw = rawHeaders[i + 1]!;
          // The usual values name no header: skip decoding them (a latin1Slice call each).
          if (typeof raw !== 'string' && (nameEqualsBytes('keep-alive', raw, 0, raw.length) || nameEqualsBytes('close', raw, 0, raw.length))) continue;
          const value = raw.toString('latin1');
          connection = connection === undefined ? value : `${connection}, ${value}`;
        }
        continue;
      }
      const rawValue = rawHeaders[i + 1]!;
      names.push(name);
      values.push(typeof rawValue === 'string' ? rawValue : headerValueFromBytes(name, rawValue));
    }
  }
  const headers = new HeaderMap(names, values);
  if (connection !== undefined) dropNamed(headers, connectionTokens(connection));
  return headers;
}

/**
 * Names a request map may hold that must not go upstream as they are: hop-by-hop headers (the
 * client's never got in; these are ones a filter added, and undici refuses several of them),
 * `expect` (undici refuses it; Node already answered the client's), and `host` (the Host sent
 * is :authority's, or the value of a `host` entry a filter set). Like isHopByHop, a compare or
 * two per header: no hop-by-hop name has 4 or 6 characters.
 */
function notForwardedUpstream(name: string): boolean {
  switch (name.length) {
    case 4:
      return name === 'host';
    case 6:
      return name === 'expect';
    default:
      return isHopByHop(name);
  }
}

/**
 * The request headers for undici: no pseudo-headers, nothing `notForwardedUpstream`, and Host
 * last: a `host` entry's value when a filter set one (Envoy's map has none, so a filter that
 * sets `host` means the upstream Host), else :authority; none when both are empty.
 */
export function upstreamRequestHeaders(map: HeaderMap): string[] {
  const out: string[] = [];
  const { names, values } = map;
  let host: string | undefined;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (name.charCodeAt(0) === 58 /* ':' */) continue;
    if (notForwardedUpstream(name)) {
      if (name === 'host') host ??= values[i]!;
      continue;
    }
    out.push(name, values[i]!);
  }
  // No authority (HTTP/1.0 without Host): undici then sends the endpoint's host:port.
  const authority = host ?? map.get(':authority');
  if (authority) out.push('host', authority);
  return out;
}

/**
 * Makes a message's Content-Length right for its body as the filters left it, in either
 * direction: exact when the whole body is known (`wholeBody`, its length; -1 while it streams);
 * while it streams, dropped (chunked) when a filter edited the body or the header is not the
 * length the peer sent (`peerLength`, -1 for none): nothing here can vouch for a length a filter set.
 * Returns the length the headers then state, -1 for none.
 */
export function settleContentLength(headers: HeaderMap, wholeBody: number, edited: boolean, peerLength: number): number {
  const declared = headers.get('content-length');
  if (wholeBody >= 0) {
    if (edited || declared === undefined || decimalNumber(declared) !== wholeBody) headers.set('content-length', String(wholeBody));
    return wholeBody;
  }
  if (declared === undefined) return -1;
  if (edited || peerLength < 0 || decimalNumber(declared) !== peerLength) {
    headers.remove('content-length');
    return -1;
  }
  return peerLength;
}

/** Flat [name, value, ...] list without pseudo-headers and the names `omit` accepts, for res.writeHead. */
export function toRawList(map: HeaderMap, omit?: (name: string) => boolean): string[] {
  const out: string[] = [];
  const { names, values } = map;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (name.charCodeAt(0) === 58 /* ':' */ || omit?.(name) === true) continue;
    out.push(name, values[i]!);
  }
  return out;
}

/** Trailers as a plain object for res.addTrailers (duplicates joined). */
export function toTrailerObject(map: HeaderMap): Record<string, string> {
  // No prototype: a trailer a filter names `__proto__` is a key like any other.
  const out: Record<string, string> = Object.create(null);
  for (let i = 0; i < map.names.length; i++) {
    const name = map.names[i]!;
    out[name] = out[name] === undefined ? map.values[i]! : `${out[name]}, ${map.values[i]!}`;
  }
  return out;
}
