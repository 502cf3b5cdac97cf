import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { HeaderMap } from '../../src/abi/header-map.ts';
import { isHopByHop, readRequestHead, statusHasNoBody, responseHeaderMap, toRawList, toTrailerObject, upstreamRequestHeaders } from '../../src/proxy/headers.ts';

const requestHeaderMap = (req: IncomingMessage, scheme: string) => readRequestHead(req, scheme).headers;

/** Mimics what Node's HTTP parser gives us: rawHeaders as sent, `headers` with joined values. */
function fakeRequest(rawHeaders: string[], url = '/', method = 'GET'): IncomingMessage {
  const headers: Record<string, string> = {};
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    headers[name] = headers[name] === undefined ? rawHeaders[i + 1]! : `${headers[name]}, ${rawHeaders[i + 1]!}`;
  }
  return { rawHeaders, url, method, headers } as unknown as IncomingMessage;
}

describe('readRequestHead', () => {
  it('reads the body framing in the same pass, without req.headers', () => {
    const req = (raw: string[]) => ({ rawHeaders: raw, url: '/', method: 'POST' }) as unknown as IncomingMessage;
    expect(readRequestHead(req(['Host', 'h', 'Content-Length', '12']), 'http')).toMatchObject({ contentLength: 12, hasBody: true });
    expect(readRequestHead(req(['Host', 'h', 'Content-Length', '0']), 'http')).toMatchObject({ contentLength: 0, hasBody: false });
    expect(readRequestHead(req(['Host', 'h', 'Transfer-Encoding', 'chunked']), 'http')).toMatchObject({ contentLength: -1, hasBody: true });
    expect(readRequestHead(req(['Host', 'h']), 'http')).toMatchObject({ contentLength: -1, hasBody: false });
  });

  it('drops names listed in Connection, from every Connection header', () => {
    const head = readRequestHead({ rawHeaders: ['Connection', 'x-a', 'X-A', '1', 'Connection', 'X-B', 'x-b', '2', 'x-c', '3'], url: '/' } as unknown as IncomingMessage, 'http');
    expect(head.headers.pairs().slice(4)).toEqual([['x-c', '3']]);
    expect(head.headers.version).toBe(0);
  });
});

describe('requestHeaderMap', () => {
  it('puts the pseudo-headers first, maps Host to :authority and drops host', () => {
    const map = requestHeaderMap(fakeRequest(['User-Agent', 'curl/8', 'Host', 'example.com:8080', 'Accept', '*/*'], '/a?b=1', 'POST'), 'http');
    expect(map.pairs()).toEqual([
      [':authority', 'example.com:8080'],
      [':path', '/a?b=1'],
      [':method', 'POST'],
      [':scheme', 'http'],
      ['user-agent', 'curl/8'],
      ['accept', '*/*'],
    ]);
    expect(map.has('host')).toBe(false);
  });

  it('keeps the scheme it is given', () => {
    expect(requestHeaderMap(fakeRequest(['Host', 'a']), 'https').get(':scheme')).toBe('https');
  });

  it('uses the first Host when there are several', () => {
    const map = requestHeaderMap(fakeRequest(['Host', 'first', 'Host', 'second']), 'http');
    expect(map.get(':authority')).toBe('first');
    expect(map.names.filter((n) => n === ':authority' || n === 'host')).toEqual([':authority']);
  });

  it('leaves :authority empty without a Host header', () => {
    const map = requestHeaderMap(fakeRequest(['Accept', '*/*']), 'http');
    expect(map.names.slice(0, 4)).toEqual([':authority', ':path', ':method', ':scheme']);
    expect(map.get(':authority')).toBe('');
  });

  it('defaults url to "/" and method to GET when missing', () => {
    const req = { rawHeaders: [], headers: {} } as unknown as IncomingMessage;
    const map = requestHeaderMap(req, 'http');
    expect(map.get(':path')).toBe('/');
    expect(map.get(':method')).toBe('GET');
  });

  it('lower-cases names and keeps duplicates in order', () => {
    const map = requestHeaderMap(
      fakeRequest(['Host', 'h', 'Cookie', 'a=1', 'X-Forwarded-For', '1.1.1.1', 'COOKIE', 'b=2', 'x-forwarded-for', '2.2.2.2']),
      'http',
    );
    expect(map.pairs().slice(4)).toEqual([
      ['cookie', 'a=1'],
      ['x-forwarded-for', '1.1.1.1'],
      ['cookie', 'b=2'],
      ['x-forwarded-for', '2.2.2.2'],
    ]);
  });

  it('removes the fixed hop-by-hop headers', () => {
    const map = requestHeaderMap(
      fakeRequest([
        'Host', 'h',
        'Connection', 'keep-alive',
        'Keep-Alive', 'timeout=5',
        'Proxy-Connection', 'keep-alive',
        'TE', 'trailers',
        'Trailer', 'x-checksum',
        'Transfer-Encoding', 'chunked',
        'Upgrade', 'websocket',
        'Proxy-Authenticate', 'Basic',
        'Proxy-Authorization', 'Basic Zm9v',
        'X-Kept', 'yes',
      ]),
      'http',
    );
    expect(map.pairs().slice(4)).toEqual([['x-kept', 'yes']]);
  });

  it('removes headers named in Connection (case-insensitive, with spaces and empty tokens)', () => {
    const map = requestHeaderMap(
      fakeRequest(['Host', 'h', 'Connection', 'X-Private , , x-other', 'X-Private', 'secret', 'X-Other', 'o', 'X-Public', 'p']),
      'http',
    );
    expect(map.pairs().slice(4)).toEqual([['x-public', 'p']]);
  });

  it('removes headers named by every Connection header', () => {
    const map = requestHeaderMap(
      fakeRequest(['Host', 'h', 'Connection', 'x-a', 'Connection', 'x-b', 'X-A', '1', 'X-B', '2', 'X-C', '3']),
      'http',
    );
    expect(map.pairs().slice(4)).toEqual([['x-c', '3']]);
  });

  it('keeps header values byte for byte', () => {
    const map = requestHeaderMap(fakeRequest(['Host', 'h', 'X-Bin', '\u00ff\u0080 spaced  value']), 'http');
    expect(map.get('x-bin')).toBe('\u00ff\u0080 spaced  value');
  });
});

describe('responseHeaderMap', () => {
  it('starts with :status and keeps order and duplicates', () => {
    const map = responseHeaderMap(200, ['Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
    expect(map.pairs()).toEqual([
      [':status', '200'],
      ['content-type', 'text/plain'],
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
    ]);
  });

  it('accepts Buffer raw headers and decodes them as latin1', () => {
    const map = responseHeaderMap(404, [Buffer.from('X-Bin'), Buffer.from([0xff, 0x80])]);
    expect(map.pairs()).toEqual([
      [':status', '404'],
      ['x-bin', '\u00ff\u0080'],
    ]);
  });

  it('reads Connection from Buffers: keep-alive and close list no names, anything else does', () => {
    const raw = (pairs: string[]) => pairs.map((p) => Buffer.from(p, 'latin1'));
    const kept = responseHeaderMap(200, raw(['Connection', 'Keep-Alive', 'Connection', 'CLOSE', 'X-A', '1']));
    expect(kept.pairs()).toEqual([[':status', '200'], ['x-a', '1']]);
    const listed = responseHeaderMap(200, raw(['Connection', 'keep-alive', 'Connection', 'x-a', 'X-A', '1', 'X-B', '2']));
    expect(listed.pairs()).toEqual([[':status', '200'], ['x-b', '2']]);
    const close = responseHeaderMap(200, raw(['Connection', 'close, x-b', 'X-A', '1', 'X-B', '2']));
    expect(close.pairs()).toEqual([[':status', '200'], ['x-a', '1']]);
  });

  it('null raw headers give only :status', () => {
    expect(responseHeaderMap(204, null).pairs()).toEqual([[':status', '204']]);
  });

  it('removes hop-by-hop headers and names listed in Connection', () => {
    const map = responseHeaderMap(200, [
      'Connection', 'close, X-Secret',
      'Transfer-Encoding', 'chunked',
      'Keep-Alive', 'timeout=5',
      'X-Secret', 's',
      'Server', 'up',
    ]);
    expect(map.pairs()).toEqual([
      [':status', '200'],
      ['server', 'up'],
    ]);
  });

  it('removes headers named by every Connection header, not just the last', () => {
    const map = responseHeaderMap(200, ['Connection', 'x-a', 'Connection', 'x-b', 'X-A', '1', 'X-B', '2', 'X-C', '3']);
    expect(map.pairs()).toEqual([
      [':status', '200'],
      ['x-c', '3'],
    ]);
  });

  it('does the same with Buffer raw headers', () => {
    const raw = ['Connection', 'x-a', 'X-A', '1', 'Upgrade', 'h2c', 'X-C', '3'].map((s) => Buffer.from(s));
    expect(responseHeaderMap(101, raw).pairs()).toEqual([
      [':status', '101'],
      ['x-c', '3'],
    ]);
  });
});

describe('toRawList', () => {
  it('flattens without pseudo-headers, keeping order and duplicates', () => {
    const map = HeaderMap.fromPairs([
      [':status', '200'],
      ['set-cookie', 'a'],
      [':weird', 'x'],
      ['content-type', 'text/plain'],
      ['set-cookie', 'b'],
    ]);
    expect(toRawList(map)).toEqual(['set-cookie', 'a', 'content-type', 'text/plain', 'set-cookie', 'b']);
  });

  it('skips names in omit', () => {
    const map = HeaderMap.fromPairs([
      [':authority', 'h'],
      ['content-length', '5'],
      ['x', '1'],
    ]);
    expect(toRawList(map, (name) => name === 'content-length')).toEqual(['x', '1']);
  });

  it('an empty map or pseudo-only map gives an empty list', () => {
    expect(toRawList(new HeaderMap())).toEqual([]);
    expect(toRawList(HeaderMap.fromPairs([[':status', '200']]))).toEqual([]);
  });

  it('keeps a header with an empty name out of the pseudo check', () => {
    // charCodeAt(0) of "" is NaN, so it is not mistaken for a pseudo-header
    const map = new HeaderMap([''], ['v']);
    expect(toRawList(map)).toEqual(['', 'v']);
  });
});

describe('toTrailerObject', () => {
  it('joins duplicates with ", "', () => {
    const map = HeaderMap.fromPairs([
      ['grpc-status', '0'],
      ['x-t', 'a'],
      ['x-t', 'b'],
    ]);
    expect(toTrailerObject(map)).toEqual({ 'grpc-status': '0', 'x-t': 'a, b' });
  });

  it('keeps a trailer named __proto__ (a valid token) as a key, not a prototype', () => {
    const out = toTrailerObject(HeaderMap.fromPairs([['__proto__', 'x'], ['constructor', 'y']]));
    expect(Object.keys(out)).toEqual(['__proto__', 'constructor']);
    expect(out['__proto__']).toBe('x');
  });
});

describe('upstreamRequestHeaders', () => {
  it('sends :authority as the Host, last, and no pseudo-headers', () => {
    const map = HeaderMap.fromPairs([[':authority', 'a.example'], [':path', '/'], ['accept', '*/*']]);
    expect(upstreamRequestHeaders(map)).toEqual(['accept', '*/*', 'host', 'a.example']);
  });

  it('drops hop-by-hop names and expect, and sends a host entry instead of :authority', () => {
    const names = ['te', 'host', 'expect', 'upgrade', 'trailer', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'proxy-authenticate', 'proxy-authorization'];
    const map = HeaderMap.fromPairs([[':authority', 'a.example'], ...names.map((n): [string, string] => [n, 'v']), ['x-kept', '1'], ['host', 'second']]);
    map.set('host', 'b.example');
    // Same-length names that are not refused pass: te/tk, expect/accept, upgrade/referer, ...
    for (const n of ['tk', 'hose', 'accept', 'referer', 'user-agent', 'x-proxy-connection']) map.add(n, 'ok');
    expect(upstreamRequestHeaders(map)).toEqual(['x-kept', '1', 'tk', 'ok', 'hose', 'ok', 'accept', 'ok', 'referer', 'ok', 'user-agent', 'ok', 'x-proxy-connection', 'ok', 'host', 'b.example']);
  });
});

describe('isHopByHop', () => {
  it('knows the fixed set (lower-case names)', () => {
    for (const name of ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authenticate', 'proxy-authorization']) {
      expect(isHopByHop(name), name).toBe(true);
    }
    expect(isHopByHop('content-length')).toBe(false);
    expect(isHopByHop('host')).toBe(false);
  });

  it('tells apart names of the same lengths', () => {
    for (const name of ['tk', 'referer', 'x-trace', 'user-agent', 'x-keep-alive', 'content-encoding', 'x-forwarded-host', 'x-transfer-encode', 'proxy-authenticatX', 'x-proxy-authorizatn', '']) {
      expect(isHopByHop(name), name).toBe(false);
    }
  });
});

describe('statusHasNoBody', () => {
  it('is true for 1xx, 204 and 304 only', () => {
    for (const status of [100, 101, 103, 199, 204, 304]) expect(statusHasNoBody(status), String(status)).toBe(true);
    for (const status of [200, 201, 205, 206, 299, 301, 302, 303, 305, 400, 404, 500, 502, 999]) expect(statusHasNoBody(status), String(status)).toBe(false);
  });
});
