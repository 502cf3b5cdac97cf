// The listeners' request class: Node's server behaves as before (Host required, Expect
// handled), `req.headers` reads as Node's own object whatever is asked of it, and a request
// whose headers nobody lists never has Node's object built.

import { once } from 'node:events';
import { createServer, IncomingMessage, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect } from 'node:net';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { RawHeadersMessage, singleHeader } from '../../src/proxy/raw-headers-message.ts';

let server: Server | undefined;
afterEach(() => server?.close());

/** A server with the class; `onRequest` sees each request. Resolves to its port. */
async function serve(onRequest: (req: IncomingMessage) => void): Promise<number> {
  server = createServer({ IncomingMessage: RawHeadersMessage }, (req, res) => {
    onRequest(req);
    res.end('ok');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as { port: number }).port;
}

/** Sends raw bytes and returns everything the server answered until it closed or `until` shows. */
async function exchange(port: number, bytes: string, until: RegExp): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  socket.write(bytes);
  let answer = '';
  for await (const chunk of socket) {
    answer += chunk.toString();
    if (until.test(answer)) break;
  }
  socket.destroy();
  return answer;
}

/** Node's own headers object for these raw headers. */
function nodeObject(rawHeaders: string[]): IncomingHttpHeaders {
  const plain = new IncomingMessage(null as never);
  plain.rawHeaders = rawHeaders;
  (plain as unknown as { _addHeaderLines(h: string[], n: number): void })._addHeaderLines(rawHeaders, rawHeaders.length);
  return { ...plain.headers };
}

/** Whether Node built its headers object for `req` (its private symbol-keyed slot). */
function nodeObjectBuilt(req: IncomingMessage): boolean {
  const slot = Object.getOwnPropertySymbols(req).find((s) => s.description === 'kHeaders');
  if (slot === undefined) throw new Error("Node's kHeaders slot not found");
  return Boolean((req as unknown as Record<symbol, unknown>)[slot]);
}

describe('RawHeadersMessage', () => {
  it("answers Node's own reads of host and expect without building the headers object", async () => {
    const seen: boolean[] = [];
    const port = await serve((req) => seen.push(nodeObjectBuilt(req)));
    const answer = await exchange(port, 'GET / HTTP/1.1\r\nHost: a\r\nX-Other: 1\r\nConnection: close\r\n\r\n', /ok$/);
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(seen).toEqual([false]);
  });

  it('still gets 400 from Node for an HTTP/1.1 request without Host', async () => {
    const port = await serve(() => {});
    expect(await exchange(port, 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n', /\r\n\r\n/)).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('still gets 100 Continue for Expect: 100-continue, and 417 for another expectation', async () => {
    const port = await serve(() => {});
    const continued = await exchange(port, 'POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n', /^HTTP\/1\.1 100 /);
    expect(continued).toMatch(/^HTTP\/1\.1 100 Continue/);
    const refused = await exchange(port, 'GET / HTTP/1.1\r\nHost: a\r\nExpect: teapot\r\nConnection: close\r\n\r\n', /\r\n\r\n/);
    expect(refused).toMatch(/^HTTP\/1\.1 417 /);
  });

  it("reads as Node's object for repeats, set-cookie, other cases, inherited names, listing and writing", async () => {
    const raw = ['Host', 'a', 'Accept', 'x', 'ACCEPT', 'y', 'Set-Cookie', 'c=1', 'Cookie', 'k=1', 'cookie', 'k=2', 'X-One', 'v'];
    let view: IncomingHttpHeaders | undefined;
    let built: boolean[] = [];
    const port = await serve((req) => {
      view = req.headers;
      built = [nodeObjectBuilt(req)];
      expect(view['x-one']).toBe('v');
      expect(view['X-One' as 'x-one']).toBeUndefined();
      built.push(nodeObjectBuilt(req));
      expect(view.accept).toBe('x, y');
      built.push(nodeObjectBuilt(req));
    });
    const request = `GET / HTTP/1.1\r\n${raw.reduce((s, v, i) => s + (i % 2 === 0 ? `${v}: ` : `${v}\r\n`), '')}Connection: close\r\n\r\n`;
    await exchange(port, request, /ok$/);
    expect(built).toEqual([false, false, true]); // one header read alone, then a repeat needs Node's rules
    const expected = nodeObject([...raw, 'Connection', 'close']);
    expect({ ...view }).toEqual(expected);
    expect(Object.keys(view!)).toEqual(Object.keys(expected));
    expect(view!['set-cookie']).toEqual(['c=1']);
    expect(view!.cookie).toBe('k=1; k=2');
    expect('host' in view!).toBe(true);
    expect(typeof view!.hasOwnProperty).toBe('function');
    expect(inspect(view)).toBe(inspect(expected));
    view!['x-added'] = 'z';
    expect(view!['x-added']).toBe('z');
  });

  it('keeps a value assigned to req.headers', async () => {
    const port = await serve((req) => {
      req.headers = { replaced: 'yes' };
      expect(req.headers).toEqual({ replaced: 'yes' });
    });
    expect(await exchange(port, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', /ok$/)).toMatch(/^HTTP\/1\.1 200 /);
  });
});

describe('singleHeader', () => {
  const raw = ['Host', 'a', 'X-Twice', '1', 'x-twice', '2'];
  it('answers a header that occurs once or not at all, whatever its case on the wire', () => {
    expect(singleHeader(raw, 'host')).toBe('a');
    expect(singleHeader(raw, 'expect')).toBeUndefined();
  });
  it('leaves repeats, set-cookie and inherited names to Node', () => {
    expect(typeof singleHeader(raw, 'x-twice')).toBe('symbol');
    expect(typeof singleHeader(['Set-Cookie', 'a=1'], 'set-cookie')).toBe('symbol');
    expect(typeof singleHeader(raw, 'constructor')).toBe('symbol');
  });
});
