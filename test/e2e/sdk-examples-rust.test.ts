// Conformance with the proxy-wasm-rust-sdk examples (examples/*/src/lib.rs, their envoy.yaml
// and the curl output in their READMEs): the same requests, answers and log lines, against
// behaviour-alike filters in test/fixtures/as/rust-sdk-examples (one module; `root_id` picks
// the example). Where the example is random, the test decides the outcome. Reference §9.3.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startProxy, startUpstream, type LogRecord, type TestProxy, type TestUpstream } from '../helpers/proxy.ts';

const MODULE = join(import.meta.dirname, '..', 'fixtures', 'build', 'rust-sdk-examples.wasm');

/** A filter running one example of the module. */
function filter(rootId: string, extra = ''): string {
  return `
  - name: ${rootId}
    module: ${MODULE}
    root_id: ${rootId}${extra}`;
}

const isGuestLog = (msg: string) => (r: LogRecord) => r.wasm !== undefined && r.msg === msg;

describe('hello_world', () => {
  // Deviation: the example ticks every 5 s; the fixture takes the period from its VM
  // configuration so that the test runs in a fraction of a second.
  let proxy: TestProxy;

  beforeAll(async () => {
    proxy = await startProxy(`
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [hello_world]
    routes:
      - match: { prefix: / }
        direct_response: { status: 200 }
filters:${filter('hello_world', `
    vm_configuration: "100"`)}
`);
  });

  afterAll(() => proxy?.close());

  it('says hello at VM start, then the time (WASI clock) and a lucky number (WASI random) on every tick', async () => {
    expect(proxy.wasmLogs()).toEqual(['Hello, World!']);
    const tick = /^It's (\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{6}) UTC, your lucky number is (\d{1,3})\.$/;
    await proxy.waitFor((r) => r.wasm !== undefined && proxy.wasmLogs().length >= 3, 3000);
    const [hello, ...ticks] = proxy.wasmLogs();
    expect(hello).toBe('Hello, World!');
    for (const line of ticks.slice(0, 2)) {
      const m = tick.exec(line);
      expect(m, line).not.toBeNull();
      const [, y, mo, d, h, mi, s, us, lucky] = m!;
      const when = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(us) / 1000);
      expect(Math.abs(when - Date.now())).toBeLessThan(5000);
      expect(Number(lucky)).toBeLessThanOrEqual(255);
    }
  });
});

describe('http_headers', () => {
  let proxy: TestProxy;

  beforeAll(async () => {
    proxy = await startProxy(`
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [http_headers]
    routes:
      - match: { prefix: / }
        direct_response: { status: 200, body: "Request /hello and be welcomed!\\n", headers: { content-type: text/plain } }
filters:${filter('http_headers')}
`);
  });

  afterAll(() => proxy?.close());

  /** Guest lines of one stream context, without the `#<id> ` prefix. */
  function linesOf(contextId: number): string[] {
    const prefix = `#${contextId} `;
    return proxy.wasmLogs().filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length));
  }

  it('answers /hello itself, and logs both header maps and the end of the stream', async () => {
    const curl: [string, string][] = [['user-agent', 'curl/7.81.0'], ['accept', '*/*']];
    const res = await send(`${proxy.url()}/hello`, { headers: curl });
    expect(res.status).toBe(200);
    expect(res.body).toBe('Hello, World!\n');
    expect(res.header('hello')).toBe('World');
    expect(res.header('powered-by')).toBe('proxy-wasm');
    await proxy.waitFor(isGuestLog('#2 completed.'));
    const lines = linesOf(2);
    const sent = lines.filter((l) => l.startsWith('-> ')).map((l) => l.slice(3));
    // Envoy's README order: pseudo-headers, the client's headers, then what the proxy adds.
    expect(sent.slice(0, 6)).toEqual([
      `:authority: ${new URL(proxy.url()).host}`,
      ':path: /hello',
      ':method: GET',
      ':scheme: http',
      'user-agent: curl/7.81.0',
      'accept: */*',
    ]);
    expect(sent.map((l) => l.split(': ')[0]).slice(6).sort()).toEqual(['x-forwarded-for', 'x-forwarded-proto', 'x-request-id']);
    expect(sent).toContain('x-forwarded-proto: http');
    // The local reply runs through the filter's own response callback.
    const received = lines.filter((l) => l.startsWith('<- ')).map((l) => l.slice(3));
    expect(received[0]).toBe(':status: 200');
    expect(received.slice(1).sort()).toEqual(['content-length: 14', 'content-type: text/plain', 'hello: World', 'powered-by: proxy-wasm']);
    expect(lines.at(-1)).toBe('completed.');
  });

  it('lets other paths through to the route', async () => {
    const res = await send(`${proxy.url()}/other`);
    expect(res.status).toBe(200);
    expect(res.body).toBe('Request /hello and be welcomed!\n');
    await proxy.waitFor(isGuestLog('#3 completed.'));
    const lines = linesOf(3);
    expect(lines).toContain('-> :path: /other');
    expect(lines.filter((l) => l.startsWith('<- ')).map((l) => l.slice(3))).toEqual([
      ':status: 200',
      'content-type: text/plain',
      'content-length: 32',
    ]);
    expect(lines.at(-1)).toBe('completed.');
  });
});

describe('http_auth_random', () => {
  // Deterministic stand-in for httpbin's /bytes/1: the test queues the byte it answers with
  // (even: granted, odd or none: forbidden); `delayMs` lets the 1 s call timeout expire.
  let nextBytes: Buffer[] = [];
  let delayMs = 0;
  let httpbin: TestUpstream;
  let proxy: TestProxy;

  beforeAll(async () => {
    httpbin = await startUpstream((req, res) => {
      if (req.url === '/bytes/1') {
        const body = nextBytes.shift() ?? Buffer.alloc(0);
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          res.end(body);
        }, delayMs);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ headers: { Host: req.headers.host } }));
    });
    proxy = await startProxy(`
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [http_auth_random]
    routes:
      - match: { prefix: / }
        cluster: httpbin
clusters:
  - name: httpbin
    endpoints: [${httpbin.address}]
filters:${filter('http_auth_random')}
`);
  });

  afterAll(async () => {
    await proxy?.close();
    await httpbin?.close();
  });

  it('asks httpbin for one byte; an even byte lets the request through', async () => {
    nextBytes = [Buffer.from([0x02])];
    const res = await send(`${proxy.url()}/headers`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ headers: { Host: new URL(proxy.url()).host } });
    expect(res.header('powered-by')).toBe('proxy-wasm');
    const [call, forwarded] = httpbin.requests;
    expect([call!.method, call!.url, call!.headers.host]).toEqual(['GET', '/bytes/1', 'httpbin.org']);
    expect(forwarded!.url).toBe('/headers');
    expect(proxy.wasmLogs()).toEqual(['Access granted.']);
  });

  it('answers 403 "Access forbidden.\\n" to an odd byte', async () => {
    nextBytes = [Buffer.from([0x01])];
    const before = httpbin.requests.length;
    const res = await send(`${proxy.url()}/headers`);
    expect(res.status).toBe(403);
    expect(res.body).toBe('Access forbidden.\n');
    expect(res.header('powered-by')).toBe('proxy-wasm');
    expect(httpbin.requests.length).toBe(before + 1); // the call only
    expect(proxy.wasmLogs().at(-1)).toBe('Access forbidden.');
  });

  it('forbids when the call times out after 1 s (no body)', async () => {
    delayMs = 1500;
    nextBytes = [Buffer.from([0x02])];
    const started = Date.now();
    const res = await send(`${proxy.url()}/headers`);
    delayMs = 0;
    expect(res.status).toBe(403);
    expect(res.body).toBe('Access forbidden.\n');
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
    expect(proxy.wasmLogs().at(-1)).toBe('Access forbidden.');
  });
});

describe('http_body', () => {
  let chunked: TestUpstream;
  let proxy: TestProxy;

  beforeAll(async () => {
    // A streamed response with "secret" split over two chunks: only the whole body shows it.
    chunked = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('This sec');
      setTimeout(() => res.end('ret travels in pieces.\n'), 20);
    });
    proxy = await startProxy(`
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [http_body]
    routes:
      - match: { prefix: /secret }
        direct_response: { status: 200, body: "This secret message should not be read by anyone.\\n" }
      - match: { prefix: /streamed }
        cluster: streamed
      - match: { prefix: / }
        direct_response: { status: 200, body: "Everyone may read this message.\\n" }
clusters:
  - name: streamed
    endpoints: [${chunked.address}]
filters:${filter('http_body')}
`);
  });

  afterAll(async () => {
    await proxy?.close();
    await chunked?.close();
  });

  it('leaves a body without secrets alone', async () => {
    const res = await send(`${proxy.url()}/hello`);
    expect(res.status).toBe(200);
    expect(res.body).toBe('Everyone may read this message.\n');
  });

  it('redacts a body that mentions a secret', async () => {
    const res = await send(`${proxy.url()}/secret`);
    expect(res.status).toBe(200);
    expect(res.body).toBe('Original message body (50 bytes) redacted.\n');
    const length = res.header('content-length');
    if (length !== undefined) expect(Number(length)).toBe(res.bytes.length);
  });

  it('buffers a streamed body to its end before looking', async () => {
    const res = await send(`${proxy.url()}/streamed`);
    expect(res.status).toBe(200);
    expect(res.body).toBe('Original message body (31 bytes) redacted.\n');
  });
});

describe('http_config', () => {
  const CONFIG = 'The secret to life is meaningless unless you discover it yourself';
  let proxy: TestProxy;

  beforeAll(async () => {
    proxy = await startProxy(`
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [http_config]
    routes:
      - match: { prefix: / }
        direct_response: { status: 200, body: "Inspect the HTTP header: custom-header.\\n" }
filters:${filter('http_config', `
    configuration: ${CONFIG}`)}
`);
  });

  afterAll(() => proxy?.close());

  it('adds its configuration as the custom-header response header', async () => {
    const res = await send(`${proxy.url()}/hello`);
    expect(res.status).toBe(200);
    expect(res.body).toBe('Inspect the HTTP header: custom-header.\n');
    expect(res.all('custom-header')).toEqual([CONFIG]);
  });
});
