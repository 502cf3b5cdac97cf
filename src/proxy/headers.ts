// Converting between Node's HTTP/1 headers and the header maps filters see. The request map has
// Envoy's pseudo-headers (:authority from Host, :path, :method, :scheme) and no `host` entry;
// the response map starts with :status. Hop-by-hop headers never reach filters or the far side.

import type { IncomingMessage } from 'node:http';
import { HeaderMap } from '../abi/header-map.ts';

/** Connection-scoped headers (RFC 9110 §7.6.1) that a proxy must not forward. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
]);

/** Hop-by-hop names for this message: the fixed set plus any named in `Connection`. */
function hopByHopFor(connection: string | undefined): ReadonlySet<string> {
  if (connection === undefined || connection === '') return HOP_BY_HOP;
  const extra = connection.split(',').map((t) => t.trim().toLowerCase()).filter((t) => t !== '');
  return extra.length === 0 ? HOP_BY_HOP : new Set([...HOP_BY_HOP, ...extra]);
}

/** Builds the request map from rawHeaders (order and duplicates kept, names lower-cased). */
export function requestHeaderMap(req: IncomingMessage, scheme: string): HeaderMap {
  const raw = req.rawHeaders;
  const names: string[] = [':authority', ':path', ':method', ':scheme'];
  const values: string[] = ['', req.url ?? '/', req.method ?? 'GET', scheme];
  const skip = hopByHopFor(req.headers.connection);
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name === 'host') {
      if (values[0] === '') values[0] = raw[i + 1]!;
      continue;
    }
    if (skip.has(name)) continue;
    // Node's server already answered `100 Continue`; like Envoy, the expectation ends here.
    if (name === 'expect' && raw[i + 1]!.toLowerCase() === '100-continue') continue;
    names.push(name);
    values.push(raw[i + 1]!);
  }
  return new HeaderMap(names, values);
}

/** Builds a response map from undici's raw header buffers. */
export function responseHeaderMap(status: number, rawHeaders: Buffer[] | string[] | null): HeaderMap {
  const names: string[] = [':status'];
  const values: string[] = [String(status)];
  if (rawHeaders !== null) {
    let connection: string | undefined;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      if (rawHeaders[i]!.toString().toLowerCase() !== 'connection') continue;
      // Every Connection header counts (as Node joins them for requests), not just the last.
      const value = rawHeaders[i + 1]!.toString();
      connection = connection === undefined ? value : `${connection}, ${value}`;
    }
    const skip = hopByHopFor(connection);
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i]!.toString('latin1').toLowerCase();
      if (skip.has(name)) continue;
      names.push(name);
      values.push(rawHeaders[i + 1]!.toString('latin1'));
    }
  }
  return new HeaderMap(names, values);
}

/** Flat [name, value, ...] list without pseudo-headers, for undici and res.writeHead. */
export function toRawList(map: HeaderMap, omit?: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const { names, values } = map;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (name.charCodeAt(0) === 58 /* ':' */ || omit?.has(name)) continue;
    out.push(name, values[i]!);
  }
  return out;
}

/** Trailers as a plain object for res.addTrailers (duplicates joined). */
export function toTrailerObject(map: HeaderMap): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < map.names.length; i++) {
    const name = map.names[i]!;
    out[name] = out[name] === undefined ? map.values[i]! : `${out[name]}, ${map.values[i]!}`;
  }
  return out;
}

export function isHopByHop(name: string): boolean {
  return HOP_BY_HOP.has(name);
}
