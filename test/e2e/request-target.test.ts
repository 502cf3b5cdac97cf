// What a route sees of the request target: dot-segments removed and an absolute-form target's
// authority in place of Host, so no spelling of /private reaches another route (and skips its
// filters); targets and Host headers HTTP/1.1 does not allow are answered 400 before routing;
// CONNECT gets 405, and requests Node cannot parse get Node's status, all over raw sockets.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledFilter, onOneConnection, startProxy, startUpstream, type TestProxy, type TestUpstream } from '../helpers/proxy.ts';

let app: TestUpstream;
let proxy: TestProxy;

beforeAll(async () => {
  app = await startUpstream();
  proxy = await startProxy(`
listeners:
  - name: main
    address: 127.0.0.1:0
    routes:
      - name: private
        match: { prefix: /private }
        cluster: app
        filters: [guard]
      - name: public
        match: { prefix: / }
        cluster: app
clusters:
  - name: app
    endpoints: [${app.address}]
filters:
  - name: guard
    module: ${bundledFilter('auth')}
    configuration: { allow: { header: authorization, values: ["Bearer ok"] } }
`);
});

afterAll(async () => {
  await proxy.close();
  await app.close();
});

/** Sends `head` as written and returns what came back until the proxy closed the connection. */
const exchange = (head: string): Promise<string> => onOneConnection(proxy.url(), [head]);

const statusOf = (response: string) => Number(response.split(' ')[1]);

/** A GET of `target` with `connection: close`, so the proxy closes after answering. */
const get = (target: string, headers = 'host: app.test\r\n') => exchange(`GET ${target} HTTP/1.1\r\n${headers}connection: close\r\n\r\n`);

describe('request targets', () => {
  it('routes every spelling of /private to the private route and its filter', async () => {
    for (const target of ['/private/data', '/x/../private/data', '/x/%2e%2e/private/data', '/./private/data', 'http://other.test/private/data', 'HTTP://other.test/x/../private/data']) {
      expect(statusOf(await get(target)), target).toBe(401);
    }
    const allowed = await get('/x/../private/data', 'host: app.test\r\nauthorization: Bearer ok\r\n');
    expect(statusOf(allowed)).toBe(200);
    expect(app.requests.at(-1)!.url).toBe('/private/data');
  });

  it('forwards the normalized path, with its query as sent', async () => {
    const response = await get('/a/./b/../c?next=/../d');
    expect(statusOf(response)).toBe(200);
    expect(app.requests.at(-1)!.url).toBe('/a/c?next=/../d');
  });

  it('takes the authority of an absolute-form target instead of Host', async () => {
    const response = await get('http://target.test:8080/x?y=1');
    expect(statusOf(response)).toBe(200);
    const seen = app.requests.at(-1)!;
    expect(seen.url).toBe('/x?y=1');
    expect(seen.headers.host).toBe('target.test:8080');
  });

  it('answers 400 to targets that are neither a path nor an http(s) URL', async () => {
    const before = app.requests.length;
    expect(statusOf(await exchange('OPTIONS * HTTP/1.1\r\nhost: app.test\r\nconnection: close\r\n\r\n'))).toBe(400);
    expect(statusOf(await get('ftp://files.test/'))).toBe(400);
    expect(statusOf(await get('http://user:secret@app.test/'))).toBe(400);
    expect(app.requests.length).toBe(before);
  });

  it('answers 400 to two Host headers, and to HTTP/1.1 without one; HTTP/1.0 needs none', async () => {
    expect(statusOf(await get('/', 'host: a.test\r\nhost: b.test\r\n'))).toBe(400);
    // closed after the answer, also when the client asked to keep the connection
    const started = performance.now();
    const kept = await exchange('GET / HTTP/1.1\r\nhost: a.test\r\nhost: b.test\r\n\r\n');
    expect(kept).toMatch(/^HTTP\/1\.1 400 [^]*\r\nConnection: close\r\n/);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(statusOf(await get('/', ''))).toBe(400);
    expect(statusOf(await exchange('GET / HTTP/1.0\r\n\r\n'))).toBe(200);
    // With no authority at all the upstream is sent its own address, not an empty Host.
    expect(app.requests.at(-1)!.headers.host).toBe(app.address);
    // the access log tells these apart from a missing route
    const invalid = proxy.logs.filter((r) => r.access?.details === 'invalid_request');
    expect(invalid.length).toBeGreaterThanOrEqual(2);
    expect(invalid.every((r) => r.access.status === 400)).toBe(true);
  });

  it('answers CONNECT with 405 instead of closing without a word', async () => {
    expect(statusOf(await exchange('CONNECT app.test:443 HTTP/1.1\r\nhost: app.test:443\r\n\r\n'))).toBe(405);
  });

  it("gives what Node cannot parse Node's status: 431 for headers over its limit, else 400", async () => {
    const big = `GET / HTTP/1.1\r\nhost: app.test\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`;
    expect(statusOf(await exchange(big))).toBe(431);
    expect(statusOf(await exchange('GET / HTTP/1.1\r\nhost app.test\r\n\r\n'))).toBe(400);
    // and the proxy serves on
    expect(statusOf(await get('/'))).toBe(200);
  });
});
