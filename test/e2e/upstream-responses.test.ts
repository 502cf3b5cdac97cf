// Upstream responses that are legal but unusual: informational (1xx) responses before the final
// one, bodiless responses (204, 304) that state a Content-Length or wrongly carry body bytes,
// and large downloads to a client that reads slowly. Each must reach the client as the final
// response, keep the client's connection usable, and not trip the cluster timeout.

import { request, type ServerResponse } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureWasm } from '../helpers/wat.ts';
import { onOneConnection, startProxy, startUpstream, type LogRecord, type TestProxy, type TestUpstream } from '../helpers/proxy.ts';

/** The cluster timeout of the `app` cluster: for the response headers, then between body chunks. */
const TIMEOUT_MS = 500;
/** Large enough that a client that stops reading fills every buffer between it and the upstream. */
const LARGE_BYTES = 32 * 1024 * 1024;
/**
 * The `slow-app` cluster's timeout: long enough for the shared deadline check (timeouts under a
 * second get a timer of their own until the headers).
 */
const LONG_TIMEOUT_MS = 1000;
/** How long the slow client stops reading: well past the cluster timeout. */
const READ_PAUSE_MS = 3 * TIMEOUT_MS;

let app: TestUpstream;
let raw: Server;
let proxy: TestProxy;
/** The longest time the upstream's /large handler waited for 'drain' (how long it was held back). */
let longestDrainWaitMs = 0;

/** Writes `total` bytes in 64 KiB chunks, waiting for 'drain' whenever the socket is full. */
function writeLarge(res: ServerResponse, total: number, end: boolean): void {
  const chunk = Buffer.alloc(64 * 1024, 'z');
  let sent = 0;
  const pump = (): void => {
    while (sent < total) {
      sent += chunk.length;
      if (!res.write(chunk)) {
        const since = Date.now();
        res.once('drain', () => {
          longestDrainWaitMs = Math.max(longestDrainWaitMs, Date.now() - since);
          pump();
        });
        return;
      }
    }
    if (end) res.end();
  };
  pump();
}

/** Raw upstream answers, by request path: what node:http would not send. */
const RAW_ANSWERS: Record<string, string> = {
  '/raw/processing':
    'HTTP/1.1 102 Processing\r\n\r\n' +
    'HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\n' +
    'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 3\r\n\r\nok\n',
  // A 204 must not have a body; this one sends five bytes anyway.
  '/raw/no-content-with-body': 'HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\nhello',
  '/raw/not-modified-with-body': 'HTTP/1.1 304 Not Modified\r\netag: "v1"\r\ncontent-length: 5\r\n\r\nhello',
  // Status codes run 100-599 (RFC 9110 §15): this is no HTTP response.
  '/raw/status-600': 'HTTP/1.1 600 Beyond\r\ncontent-length: 2\r\n\r\nok',
};

async function startRawUpstream(): Promise<Server> {
  const server = createServer((socket) => {
    socket.on('error', () => {});
    let head = '';
    socket.on('data', (data: Buffer) => {
      head += data.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const path = head.slice(head.indexOf(' ') + 1, head.indexOf(' ', head.indexOf(' ') + 1));
      socket.end(RAW_ANSWERS[path] ?? 'HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

beforeAll(async () => {
  app = await startUpstream((req, res) => {
    if (req.url === '/early-hints') {
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('hello with early hints\n');
      return;
    }
    if (req.url === '/not-modified' || req.url === '/held/not-modified') {
      // RFC 9110 §8.6: a 304 may state the length of the representation it stands for.
      res.writeHead(304, { etag: '"v1"', 'content-length': '6' });
      res.end();
      return;
    }
    if (req.url === '/slow') {
      setTimeout(() => res.end('slow\n'), 300);
      return;
    }
    if (req.url === '/large') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(LARGE_BYTES) });
      writeLarge(res, LARGE_BYTES, true);
      return;
    }
    if (req.url === '/large-then-stall') {
      // Announces twice what it sends, then goes quiet.
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(2 * LARGE_BYTES) });
      writeLarge(res, LARGE_BYTES, false);
      return;
    }
    if (req.url === '/late-body') {
      // Headers at 0.6 × the long timeout, the body 0.7 × it after them: each wait is within it.
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5' });
        res.flushHeaders();
        setTimeout(() => res.end('late\n'), 0.7 * LONG_TIMEOUT_MS);
      }, 0.6 * LONG_TIMEOUT_MS);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok\n');
  });
  raw = await startRawUpstream();
  proxy = await startProxy(
    `
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [probe]
    routes:
      - match: { prefix: /raw/ }
        cluster: raw
      - match: { prefix: /late-body }
        cluster: slow-app
      - match: { prefix: /held/ }
        cluster: app
        filters: [dispatches]
      - match: { prefix: / }
        cluster: app
clusters:
  - name: app
    endpoints: [${app.address}]
    timeout: ${TIMEOUT_MS}ms
  - name: slow-app
    endpoints: [${app.address}]
    timeout: ${LONG_TIMEOUT_MS}ms
  - name: httpbin
    endpoints: [${app.address}]
  - name: raw
    endpoints: [127.0.0.1:${(raw.address() as AddressInfo).port}]
    timeout: ${TIMEOUT_MS}ms
filters:
  - name: probe
    module: probe.wasm
  - name: dispatches
    module: ${join(import.meta.dirname, '..', 'fixtures', 'build', 'go-sdk-examples.wasm')}
    root_id: multiple_dispatches
`,
    { 'probe.wasm': await fixtureWasm('e2e-probe') },
  );
});

afterAll(async () => {
  await proxy.close();
  await app.close();
  await new Promise((resolve) => raw.close(resolve));
});

const get = (path: string, close = false): string => `GET ${path} HTTP/1.1\r\nhost: test\r\n${close ? 'connection: close\r\n' : ''}\r\n`;

/** Status lines in order, e.g. ['HTTP/1.1 304 Not Modified', 'HTTP/1.1 200 OK']. */
function statusLines(text: string): string[] {
  return [...text.matchAll(/^HTTP\/1\.1 \d{3}[^\r]*/gm)].map((m) => m[0]);
}

/** The proxy's own complaints (warnings and errors) logged since index `from`. */
function complaints(from: number): LogRecord[] {
  return proxy.logs.slice(from).filter((r) => r.level >= 40 && r.wasm === undefined);
}

const settle = () => new Promise((r) => setTimeout(r, 150)); // past the log batching

interface Download {
  status: number;
  received: number;
  complete: boolean;
  /** ms from the client's resuming reading to the end (or failure) of the response. */
  afterResumeMs: number;
}

/** A GET whose client reads nothing for `pauseMs` after the response headers, then everything. */
function slowDownload(path: string, pauseMs: number): Promise<Download> {
  return new Promise((resolve, reject) => {
    const req = request(`${proxy.url()}${path}`, { agent: false }, (res) => {
      let received = 0;
      let resumedAt = 0;
      const done = (): void =>
        resolve({ status: res.statusCode!, received, complete: res.complete, afterResumeMs: Date.now() - resumedAt });
      res.pause();
      setTimeout(() => {
        resumedAt = Date.now();
        res.resume();
      }, pauseMs);
      res.on('data', (c: Buffer) => (received += c.length));
      res.on('end', done);
      res.on('error', done);
      res.on('aborted', done);
    });
    req.on('error', reject);
    // A cut that never comes fails the test in good time, not at vitest's limit.
    setTimeout(() => req.destroy(), pauseMs + 5000).unref();
    req.end();
  });
}

describe('informational responses from the upstream', () => {
  it('103 Early Hints (res.writeEarlyHints) is not forwarded; the final response is', async () => {
    const from = proxy.logs.length;
    const text = await onOneConnection(proxy.url(), [get('/early-hints'), get('/ok', true)]);
    expect(statusLines(text)).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    expect(text).toContain('hello with early hints\n');
    expect(text).toContain('x-probe: seen'); // the final response went through the filter
    expect(text).not.toContain('style.css');
    await settle();
    expect(complaints(from)).toEqual([]);
  });

  it('102 and 103 before the final response: only the final one reaches the client', async () => {
    const from = proxy.logs.length;
    const text = await onOneConnection(proxy.url(), [get('/raw/processing'), get('/ok', true)]);
    expect(statusLines(text)).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    expect(text).toMatch(/content-length: 3\r\n(?:[^\r]*\r\n)*\r\nok\n/);
    expect(text).not.toContain('a.css');
    await settle();
    expect(complaints(from)).toEqual([]);
  });
});

describe('invalid status codes from the upstream', () => {
  it('a status above 599 is an upstream failure (503), not a response to forward', async () => {
    const text = await onOneConnection(proxy.url(), [get('/raw/status-600'), get('/ok', true)]);
    expect(statusLines(text)).toEqual(['HTTP/1.1 503 Service Unavailable', 'HTTP/1.1 200 OK']);
    const access = proxy.logs.find((r) => r.access?.path === '/raw/status-600');
    expect(access?.access.details).toBe('upstream_reset_before_response_started{SLUICE_INVALID_STATUS}');
  });
});

describe('bodiless responses (204, 304)', () => {
  it('a 304 keeps the Content-Length it states, sends no body, and keeps the connection', async () => {
    const from = proxy.logs.length;
    const text = await onOneConnection(proxy.url(), [get('/not-modified'), get('/ok', true)]);
    expect(statusLines(text)).toEqual(['HTTP/1.1 304 Not Modified', 'HTTP/1.1 200 OK']);
    const [first] = text.split('HTTP/1.1 200 OK');
    expect(first).toMatch(/\r\ncontent-length: 6\r\n/);
    expect(first).toMatch(/\r\netag: "v1"\r\n/);
    expect(first!.endsWith('\r\n\r\n')).toBe(true); // the head, and nothing after it
    await settle();
    expect(complaints(from)).toEqual([]);
    const access = proxy.logs.slice(from).find((r) => r.access?.path === '/not-modified');
    expect(access?.access).toMatchObject({ status: 304, details: 'via_upstream' });
  });

  it('a 304 whose headers a response filter holds (ten http_calls) reaches the client once it continues', async () => {
    const from = proxy.logs.length;
    const text = await onOneConnection(proxy.url(), [get('/held/not-modified'), get('/ok', true)], 400);
    expect(statusLines(text)).toEqual(['HTTP/1.1 304 Not Modified', 'HTTP/1.1 200 OK']);
    const [first] = text.split('HTTP/1.1 200 OK');
    expect(first).toMatch(/\r\ntotal-dispatched: 10\r\n/);
    expect(first).toMatch(/\r\ncontent-length: 6\r\n/);
    expect(first!.endsWith('\r\n\r\n')).toBe(true);
    await settle();
    expect(complaints(from)).toEqual([]);
  });

  it('the upstream connection failing after a complete 304 is not a reset of the client\'s response', async () => {
    // undici fails the upstream connection after a 304 that states a Content-Length (it counts
    // the body it did not read). Pipelined behind a slower response, the 304 waits in Node's
    // queue, unsent, when that failure arrives.
    const from = proxy.logs.length;
    const text = await onOneConnection(proxy.url(), [get('/slow'), get('/not-modified'), get('/ok', true)], 20);
    expect(statusLines(text)).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 304 Not Modified', 'HTTP/1.1 200 OK']);
    await settle();
    expect(complaints(from)).toEqual([]);
    const access = proxy.logs.slice(from).find((r) => r.access?.path === '/not-modified');
    expect(access?.access).toMatchObject({ status: 304, details: 'via_upstream' });
  });

  it('a 204 whose upstream sends body bytes anyway reaches the client without them, and without a length', async () => {
    const from = proxy.logs.length;
    const text = await onOneConnection(proxy.url(), [get('/raw/no-content-with-body'), get('/ok', true)]);
    expect(statusLines(text)).toEqual(['HTTP/1.1 204 No Content', 'HTTP/1.1 200 OK']);
    const [first] = text.split('HTTP/1.1 200 OK');
    // RFC 9110 §8.6: a 204 states no Content-Length
    expect(first!.toLowerCase()).not.toContain('content-length');
    expect(first!.endsWith('\r\n\r\n')).toBe(true);
    expect(text).not.toContain('hello');
    await settle();
    expect(complaints(from)).toEqual([]);
  });

  it('a 304 whose upstream sends body bytes anyway reaches the client without them', async () => {
    const from = proxy.logs.length;
    const text = await onOneConnection(proxy.url(), [get('/raw/not-modified-with-body'), get('/ok', true)]);
    expect(statusLines(text)).toEqual(['HTTP/1.1 304 Not Modified', 'HTTP/1.1 200 OK']);
    expect(text).not.toContain('hello');
    await settle();
    expect(complaints(from)).toEqual([]);
  });
});

describe('the cluster timeout during the response body', () => {
  it('does not run while a slow client holds the upstream paused', async () => {
    longestDrainWaitMs = 0;
    const download = await slowDownload('/large', READ_PAUSE_MS);
    expect(download).toMatchObject({ status: 200, received: LARGE_BYTES, complete: true });
    // The client's pause reached the upstream: it was held back for longer than the timeout.
    expect(longestDrainWaitMs).toBeGreaterThan(TIMEOUT_MS);
  });

  it('runs again once the client reads: an upstream that then stalls is cut a timeout later', async () => {
    const download = await slowDownload('/large-then-stall', READ_PAUSE_MS);
    expect(download.status).toBe(200);
    expect(download.complete).toBe(false);
    // Everything the upstream sent arrived (nothing was cut during the pause) ...
    expect(download.received).toBe(LARGE_BYTES);
    // ... and the cut came about one timeout after the last data, not at the stream idle timeout.
    expect(download.afterResumeMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 100);
    expect(download.afterResumeMs).toBeLessThan(TIMEOUT_MS + 2000);
    const warning = await proxy.waitFor((r) => r.msg === 'upstream failed mid-response; resetting' && /no response body data/.test(r.err));
    expect(warning.err).toBe(`no response body data within ${TIMEOUT_MS} ms`);
  });

  it('starts when the response headers arrive, not when the request was sent', async () => {
    const download = await slowDownload('/late-body', 0);
    expect(download).toMatchObject({ status: 200, received: 5, complete: true });
  });
});
