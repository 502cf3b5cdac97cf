// Client connections: how many the process holds at once (max_connections: a client hoarding
// idle connections cannot take every file descriptor, and the admin port keeps answering), how
// long an idle one stays open (idle_timeout, before the first request too), the request
// timeouts, and a client's parse error while its response is on the wire.

import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServerResponse } from 'node:http';
import { parsePrometheus } from '../helpers/prometheus.ts';
import { bundledFilter, send, startProxy, startUpstream, type TestProxy, type TestUpstream } from '../helpers/proxy.ts';

let proxy: TestProxy | undefined;
let app: TestUpstream | undefined;
/** A second upstream some tests need (an auth service). */
let authz: TestUpstream | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await proxy?.close();
  await app?.close();
  await authz?.close();
  proxy = app = authz = undefined;
});

interface Connection {
  socket: Socket;
  /** Everything received so far, as latin1. */
  received(): string;
  /** Milliseconds from connecting to the close. */
  closed: Promise<number>;
}

/** A raw connection to the proxy, once connected. */
function open(url: string): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(url).port), '127.0.0.1');
    sockets.push(socket);
    let text = '';
    let openedAt = 0;
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    socket.on('error', () => {}); // a refused or timed-out connection may end in a reset
    const closed = new Promise<number>((done) => socket.on('close', () => done(performance.now() - openedAt)));
    socket.once('connect', () => {
      openedAt = performance.now();
      resolve({ socket, received: () => text, closed });
    });
    socket.once('error', reject);
  });
}

/** Waits until `received()` has a whole response (the test routes answer with Content-Length). */
async function response(c: Connection, timeoutMs = 3000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = c.received();
    const head = text.indexOf('\r\n\r\n');
    const length = /\r\ncontent-length: (\d+)/i.exec(text);
    if (head !== -1 && length !== null && text.length >= head + 4 + Number(length[1])) return text;
    if (Date.now() > deadline) throw new Error(`no whole response within ${timeoutMs} ms: ${JSON.stringify(text)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function get(c: Connection, path = '/'): void {
  c.socket.write(`GET ${path} HTTP/1.1\r\nhost: test\r\n\r\n`);
}

/** A /metrics sample of the first listener, summed over its series. */
async function metric(p: TestProxy, name: string): Promise<number> {
  const body = (await send(`${p.adminUrl()}/metrics`)).body;
  const line = body.split('\n').find((l) => l.startsWith(`${name}{listener="main"}`));
  return Number(line?.split(' ')[1] ?? NaN);
}

async function until(check: () => Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One listener; `/slow` goes to the cluster `app` (by default an address nothing listens on). */
const LISTENER = (extra: string, app = '127.0.0.1:9') => `
admin: { address: 127.0.0.1:0 }
listeners:
  - name: main
    address: 127.0.0.1:0
${extra}
    routes:
      - match: { prefix: /slow }
        cluster: app
      - match: { prefix: /echo }
        echo: true
      - match: { prefix: / }
        direct_response: { status: 200, body: "ok\\n" }
clusters:
  - name: app
    endpoints: [${app}]
`;

describe('max_connections', () => {
  it('closes connections over the limit at once, keeps serving the ones it holds, and counts both', async () => {
    proxy = await startProxy(`max_connections: 2\n${LISTENER('')}`);
    const url = proxy.url();
    const a = await open(url);
    const b = await open(url);
    await until(async () => (await metric(proxy!, 'sluice_downstream_connections')) === 2);
    const refused = await open(url);
    // Closed without a byte, well before any timeout could have closed it.
    expect(await refused.closed).toBeLessThan(1000);
    expect(refused.received()).toBe('');
    // The two it holds still work, and so does the admin port (it is not counted).
    get(a);
    expect(await response(a)).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nok\n$/);
    expect(await metric(proxy, 'sluice_downstream_connections_rejected_total')).toBe(1);
    expect(proxy.logs.find((r) => r.msg?.startsWith('client connection refused'))).toMatchObject({ max_connections: 2, listener: 'main' });
    // A closed one makes room.
    b.socket.destroy();
    await until(async () => (await metric(proxy!, 'sluice_downstream_connections')) === 1);
    const c = await open(url);
    get(c);
    expect(await response(c)).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  });
});

describe('idle_timeout', () => {
  it('closes a connection that sends nothing, and one left idle after its response', async () => {
    app = await startUpstream((_req, res) => setTimeout(() => res.end('slow\n'), 900));
    proxy = await startProxy(LISTENER('    idle_timeout: 300ms', app.address));
    const silent = await open(proxy.url());
    const silentFor = await silent.closed;
    expect(silentFor).toBeGreaterThanOrEqual(250);
    expect(silentFor).toBeLessThan(2000);

    // A request waiting longer than the idle timeout for its upstream is not idle: it is answered.
    const busy = await open(proxy.url());
    get(busy, '/slow');
    const answered = await response(busy);
    expect(answered).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nslow\n$/);
    const answeredAt = performance.now();
    await busy.closed;
    // Node waits a second past the idle timeout between requests (see listener-server.ts).
    const idleAfter = performance.now() - answeredAt;
    expect(idleAfter).toBeGreaterThanOrEqual(250);
    expect(idleAfter).toBeLessThan(3000);
  });
});

describe('request timeouts', () => {
  it('answers 408 to headers that do not finish within request_headers_timeout', async () => {
    proxy = await startProxy(LISTENER('    request_headers_timeout: 400ms'));
    const c = await open(proxy.url());
    c.socket.write('GET / HTTP/1.1\r\nhost: test\r\n');
    const closedAfter = await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    // Node looks once a second (listener-server.ts).
    expect(closedAfter).toBeGreaterThanOrEqual(350);
    expect(closedAfter).toBeLessThan(3000);
    const record = await proxy.waitFor((r) => r.access !== undefined);
    expect(record.access).toMatchObject({ path: null, status: 408, details: 'request_header_timeout' });
  });

  it('answers 408 to a body that does not finish within request_timeout', async () => {
    proxy = await startProxy(LISTENER('    request_timeout: 800ms'));
    const c = await open(proxy.url());
    c.socket.write('POST /echo HTTP/1.1\r\nhost: test\r\ncontent-length: 10\r\n\r\nhalf ');
    const closedAfter = await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(closedAfter).toBeGreaterThanOrEqual(750);
    expect(closedAfter).toBeLessThan(3500);
    const record = await proxy.waitFor((r) => r.access?.path === '/echo');
    expect(record.access).toMatchObject({ status: 408, details: 'request_overall_timeout', incomplete: true });
  });
});

describe('a client error', () => {
  it('closes the answered connection soon, also when the client keeps its side open', async () => {
    proxy = await startProxy(LISTENER(''));
    // A client that does not close its side when the proxy closes its own.
    const socket = connect({ port: Number(new URL(proxy.url()).port), host: '127.0.0.1', allowHalfOpen: true });
    sockets.push(socket);
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('GET / HTTP/1.1\r\nhost test\r\n\r\n'); // no colon: Node cannot parse it
    await new Promise((resolve) => socket.once('end', resolve));
    expect(received).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    // Half-closed by the proxy at once, then let go of: not held for idle_timeout's 5 minutes.
    expect(await metric(proxy, 'sluice_downstream_connections')).toBe(1);
    await until(async () => (await metric(proxy!, 'sluice_downstream_connections')) === 0, 4000);
  });

  it('logs and counts a request Node could not make, with what is known of it', async () => {
    proxy = await startProxy(LISTENER(''));
    const c = await open(proxy.url());
    c.socket.write('GET / HTTP/1.1\r\nhost: test\r\nbad header: x\r\n\r\n');
    await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    const record = await proxy.waitFor((r) => r.access !== undefined && r.access.path === null);
    expect(record.access).toEqual({
      method: null,
      path: null,
      status: 400,
      duration_ms: null,
      route: null,
      cluster: null,
      filters: [],
      details: 'http1.codec_error{HPE_INVALID_HEADER_TOKEN}',
      bytes_in: 0,
      bytes_out: 0,
    });
    const body = (await send(`${proxy.adminUrl()}/metrics`)).body;
    expect(body).toContain('sluice_requests_total{listener="main",route="",status="400"} 1');
  });
});

describe('a client error during a response', () => {
  it('closes the connection without writing a second response into the first', async () => {
    // Answers at once and keeps its response open, whatever the request body does.
    app = await startUpstream();
    const { createServer } = await import('node:http');
    const early = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first\n');
    });
    await new Promise<void>((resolve) => early.listen(0, '127.0.0.1', resolve));
    try {
      const port = (early.address() as { port: number }).port;
      proxy = await startProxy(`
listeners:
  - name: main
    address: 127.0.0.1:0
    routes: [{ match: {}, cluster: early }]
clusters:
  - name: early
    endpoints: [127.0.0.1:${port}]
`);
      const c = await open(proxy.url());
      c.socket.write('POST /upload HTTP/1.1\r\nhost: test\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n');
      const deadline = Date.now() + 3000;
      while (!c.received().includes('first\n')) {
        if (Date.now() > deadline) throw new Error(`no response start: ${JSON.stringify(c.received())}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      // Not a chunk size: Node's parser fails the request while its response is streaming.
      c.socket.write('zz\r\n');
      await c.closed;
      expect(c.received().match(/HTTP\/1\.1 /g)).toHaveLength(1);
      expect(c.received()).not.toContain('400 Bad Request');
    } finally {
      early.closeAllConnections();
      await new Promise((resolve) => early.close(resolve));
    }
  });
});

/** An upstream that answers each request after `delayMs`, recording how many it held at once. */
async function countingUpstream(delayMs: number): Promise<{ upstream: TestUpstream; peak: () => number }> {
  let open = 0;
  let peak = 0;
  const upstream = await startUpstream((req, res) => {
    peak = Math.max(peak, ++open);
    setTimeout(() => {
      open--;
      res.end(`${req.method} ${req.url} ${req.body}\n`);
    }, delayMs);
  });
  return { upstream, peak: () => peak };
}

describe('pipelining', () => {
  /** Splits what a connection received into response bodies (each response has Content-Length). */
  function bodies(text: string): string[] {
    const out: string[] = [];
    let at = 0;
    while (at < text.length) {
      const head = text.indexOf('\r\n\r\n', at);
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(text.slice(at, head))?.[1]);
      out.push(text.slice(head + 4, head + 4 + length));
      at = head + 4 + length;
    }
    return out;
  }

  it('serves one connection\'s pipelined requests one at a time, in order', async () => {
    const counting = await countingUpstream(3);
    app = counting.upstream;
    proxy = await startProxy(LISTENER('', app.address));
    const c = await open(proxy.url());
    const n = 40;
    let batch = '';
    for (let i = 0; i < n; i++) batch += `GET /slow/${i} HTTP/1.1\r\nhost: test\r\n\r\n`;
    c.socket.write(batch);
    const deadline = Date.now() + 5000;
    while (bodies(c.received()).length < n || !bodies(c.received())[n - 1]!.endsWith('\n')) {
      if (Date.now() > deadline) throw new Error(`only ${bodies(c.received()).length} of ${n} answered`);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(bodies(c.received())).toEqual(Array.from({ length: n }, (_, i) => `GET /slow/${i} \n`));
    expect(counting.peak()).toBe(1);
    // The connection is read again once nothing waits.
    get(c, '/slow/after');
    await until(async () => bodies(c.received()).length === n + 1 && bodies(c.received())[n]!.endsWith('\n'));
    expect(bodies(c.received())[n]).toBe('GET /slow/after \n');
  });

  it('reads the body of a request that waited its turn, sent before and after the turn came', async () => {
    app = await startUpstream((req, res) => setTimeout(() => res.end(`${req.method} ${req.url} ${req.body}\n`), req.method === 'GET' ? 200 : 0));
    proxy = await startProxy(LISTENER('', app.address));
    const c = await open(proxy.url());
    c.socket.write('GET /slow/first HTTP/1.1\r\nhost: test\r\n\r\nPOST /slow/second HTTP/1.1\r\nhost: test\r\ncontent-length: 11\r\n\r\nhello');
    // The rest of the body arrives while the first request is still upstream.
    await new Promise((r) => setTimeout(r, 50));
    c.socket.write(' world');
    await until(async () => bodies(c.received()).length === 2 && bodies(c.received())[1]!.endsWith('\n'));
    expect(bodies(c.received())).toEqual(['GET /slow/first \n', 'POST /slow/second hello world\n']);
  });

  it('sees a client leave while its requests wait, and lets go of the request in flight', async () => {
    app = await startUpstream((req, res) => {
      if (!req.url.includes('hang')) res.end('ok\n'); // /slow/hang is never answered
    });
    proxy = await startProxy(LISTENER('', app.address));
    const c = await open(proxy.url());
    c.socket.write('GET /slow/hang HTTP/1.1\r\nhost: test\r\n\r\nGET /slow/next HTTP/1.1\r\nhost: test\r\n\r\n');
    await until(async () => app!.requests.length === 1);
    c.socket.resetAndDestroy();
    const record = await proxy.waitFor((r) => r.access?.path === '/slow/hang', 2000);
    expect(record.access).toMatchObject({ status: 0, details: 'downstream_remote_disconnect', incomplete: true });
    await until(async () => (await metric(proxy!, 'sluice_downstream_connections')) === 0, 2000);
    expect(app.requests.map((r) => r.url)).toEqual(['/slow/hang']);
  });

  it('answers a malformed request behind others after their responses, and logs it against none of them', async () => {
    app = await startUpstream((req, res) => setTimeout(() => res.end(`${req.url}\n`), 200));
    proxy = await startProxy(LISTENER('', app.address));
    const c = await open(proxy.url());
    c.socket.write('GET /slow/first HTTP/1.1\r\nhost: test\r\n\r\nGET /slow/second HTTP/1.1\r\nhost: test\r\n\r\nGET /bad HTTP/1.1\r\nhost: test\r\ncontent-length: abc\r\n\r\n');
    await c.closed;
    const text = c.received();
    expect(text.match(/^HTTP\/1\.1 \d+/gm)).toEqual(['HTTP/1.1 200', 'HTTP/1.1 200', 'HTTP/1.1 400']);
    expect(text).toContain('/slow/first\n');
    expect(text.indexOf('/slow/second\n')).toBeLessThan(text.indexOf('HTTP/1.1 400'));
    for (const path of ['/slow/first', '/slow/second']) {
      const record = await proxy.waitFor((r) => r.access?.path === path);
      expect(record.access.status).toBe(200);
      expect(record.access).not.toHaveProperty('incomplete');
    }
    const own = await proxy.waitFor((r) => r.access !== undefined && r.access.path === null);
    expect(own.access).toMatchObject({ status: 400, details: expect.stringMatching(/^http1\.codec_error\{HPE_/) });
  });

  it('answers a malformed body of a request that waits its turn, in its place', async () => {
    app = await startUpstream((req, res) => setTimeout(() => res.end(`${req.url}\n`), 100));
    proxy = await startProxy(LISTENER('', app.address));
    const c = await open(proxy.url());
    c.socket.write('GET /slow/first HTTP/1.1\r\nhost: test\r\n\r\nPOST /slow/upload HTTP/1.1\r\nhost: test\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n');
    await c.closed;
    expect(c.received().match(/^HTTP\/1\.1 \d+/gm)).toEqual(['HTTP/1.1 200', 'HTTP/1.1 400']);
    const record = await proxy.waitFor((r) => r.access?.path === '/slow/upload');
    expect(record.access).toMatchObject({ status: 400, details: 'http1.codec_error{HPE_INVALID_CHUNK_SIZE}' });
  });

  it('keeps the connection after a reply that comes with the last byte of a body (echo)', async () => {
    proxy = await startProxy(LISTENER(''));
    const c = await open(proxy.url());
    c.socket.write('POST /echo/a HTTP/1.1\r\nhost: test\r\ncontent-length: 5\r\n\r\nhelloGET /echo/b HTTP/1.1\r\nhost: test\r\n\r\n');
    await until(async () => (c.received().match(/^HTTP\/1\.1 200/gm) ?? []).length === 2);
    expect(c.received()).not.toMatch(/connection: close/i);
  });

  it('does not fan a flood of pipelined requests out upstream, and drops the waiting ones when the client leaves', async () => {
    const counting = await countingUpstream(20);
    app = counting.upstream;
    proxy = await startProxy(LISTENER('', app.address));
    const c = await open(proxy.url());
    const request = 'GET /slow HTTP/1.1\r\nhost: test\r\n\r\n';
    c.socket.write(request.repeat(20_000));
    await new Promise((r) => setTimeout(r, 300));
    c.socket.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const served = app.requests.length;
    expect(counting.peak()).toBe(1);
    // About 300 ms at 20 ms each, not the thousands Node had already parsed.
    expect(served).toBeLessThan(40);
    await new Promise((r) => setTimeout(r, 200));
    expect(app.requests.length).toBeLessThanOrEqual(served + 1);
  });
});

describe('the access log of a request the client did not see through', () => {
  it('logs the status sent when the client leaves during the body, marked incomplete', async () => {
    app = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('part\n'); // and never ends
    });
    proxy = await startProxy(LISTENER('', app.address));
    const c = await open(proxy.url());
    get(c, '/slow/partial');
    await until(async () => c.received().includes('part\n'));
    c.socket.destroy();
    const record = await proxy.waitFor((r) => r.access?.path === '/slow/partial');
    expect(record.access).toMatchObject({ status: 200, details: 'via_upstream', incomplete: true });
  });

  it("logs Node's answer to a body it could not parse, not a disconnect", async () => {
    app = await startUpstream();
    proxy = await startProxy(LISTENER('', app.address));
    const c = await open(proxy.url());
    c.socket.write('POST /slow/upload HTTP/1.1\r\nhost: test\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n');
    await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    const record = await proxy.waitFor((r) => r.access?.path === '/slow/upload');
    expect(record.access).toMatchObject({ status: 400, details: 'http1.codec_error{HPE_INVALID_CHUNK_SIZE}', incomplete: true });
  });

  it('logs a client that ends its side in the middle of its body as gone, not as a 400', async () => {
    app = await startUpstream();
    proxy = await startProxy(LISTENER('', app.address));
    const c = await open(proxy.url());
    c.socket.write('POST /slow/cut HTTP/1.1\r\nhost: test\r\ncontent-length: 10\r\n\r\nhalf ');
    await new Promise((r) => setTimeout(r, 50));
    c.socket.end();
    const record = await proxy.waitFor((r) => r.access?.path === '/slow/cut');
    expect(record.access).toMatchObject({ status: 0, details: 'downstream_remote_disconnect' });
    await c.closed;
    expect(c.received()).toBe('');
  });

  it('logs a whole exchange without the mark', async () => {
    proxy = await startProxy(LISTENER(''));
    const c = await open(proxy.url());
    get(c, '/whole');
    await response(c);
    const record = await proxy.waitFor((r) => r.access?.path === '/whole');
    expect(record.access.status).toBe(200);
    expect(record.access).not.toHaveProperty('incomplete');
  });
});

describe("a cluster's max_connections", () => {
  it('bounds the upstream connections: requests past them wait their turn and are answered', async () => {
    const counting = await countingUpstream(100);
    app = counting.upstream;
    proxy = await startProxy(`
listeners:
  - name: main
    address: 127.0.0.1:0
    routes: [{ match: {}, cluster: app }]
clusters:
  - name: app
    endpoints: [${app.address}]
    max_connections: 2
`);
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => send(`${proxy!.url()}/r${i}`)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(counting.peak()).toBe(2);
  });

  it('sends a request to the next endpoint with a connection free, passing over a busy one', async () => {
    const gate = await gatedUpstream();
    app = gate.upstream;
    authz = await startUpstream();
    proxy = await startProxy(`
listeners:
  - name: main
    address: 127.0.0.1:0
    routes: [{ match: {}, cluster: app }]
clusters:
  - name: app
    endpoints: [${app.address}, ${authz.address}]
    max_connections: 2
`);
    const held = send(`${proxy.url()}/held`);
    await until(async () => gate.held() === 1);
    // Round robin alone would send the third request to the busy endpoint, behind the held one.
    for (const path of ['/2', '/3', '/4']) expect((await send(`${proxy.url()}${path}`)).status).toBe(200);
    expect(authz.requests.map((r) => r.url)).toEqual(['/2', '/3', '/4']);
    gate.release();
    expect((await held).status).toBe(200);
  });
});

/** An upstream that holds every request until release() answers them all. */
async function gatedUpstream(answer: (res: ServerResponse) => void = (res) => res.end('ok\n')) {
  const held: ServerResponse[] = [];
  const upstream = await startUpstream((_req, res) => void held.push(res));
  return { upstream, held: () => held.length, release: () => held.splice(0).forEach(answer) };
}

/** A cluster-labelled sample of the proxy's /metrics (NaN when absent). */
async function clusterMetric(p: TestProxy, name: string, cluster: string): Promise<number> {
  const families = parsePrometheus((await send(`${p.adminUrl()}/metrics`)).body);
  return families.get(name)?.samples.find((s) => s.labels.cluster === cluster)?.value ?? NaN;
}

/** A proxy with an admin port and one listener `main` whose routes and clusters (YAML lines) are given. */
function clusterProxy(routes: string, clusters: string, rest = ''): Promise<TestProxy> {
  return startProxy(`
admin: { address: 127.0.0.1:0 }
listeners:
  - name: main
    address: 127.0.0.1:0
    routes:
${routes}
clusters:
${clusters}
${rest}`);
}

/** A proxy that sends everything to `app` over one connection, with one request waiting at most. */
function oneConnectionProxy(): Promise<TestProxy> {
  return clusterProxy('      - { match: {}, cluster: app }', `
  - name: app
    endpoints: [${app!.address}]
    max_connections: 1
    max_pending_requests: 1`);
}

/** Starts `app`, and as `authz` an auth service that holds every check until released, then allows it. */
async function authzGate() {
  app = await startUpstream();
  const gate = await gatedUpstream((res) => {
    res.writeHead(200, { 'x-auth-user': 'alice' });
    res.end();
  });
  authz = gate.upstream;
  return gate;
}

/**
 * A proxy whose `auth` filter checks each request with an http_call to the cluster `authz` (one
 * connection; `authzKeys` are its further YAML keys), after authzGate(). `directRoute` also
 * routes /direct to authz itself.
 */
function authzProxy(authzKeys: string, options: { callTimeoutMs?: number; directRoute?: boolean } = {}): Promise<TestProxy> {
  const check = JSON.stringify({ cluster: 'authz', path: '/check', authority: 'authz', timeout_ms: options.callTimeoutMs });
  const direct = options.directRoute === true ? '      - { match: { prefix: /direct }, cluster: authz }\n' : '';
  return clusterProxy(`${direct}      - { match: {}, cluster: app, filters: [auth] }`, `
  - name: app
    endpoints: [${app!.address}]
  - name: authz
    endpoints: [${authz!.address}]
    max_connections: 1
${authzKeys}`, `filters:
  - name: auth
    module: ${bundledFilter('auth')}
    configuration: '${check}'`);
}

describe("a cluster's max_pending_requests", () => {
  it('answers 503 at once past max_connections busy and max_pending_requests waiting, and admits again as requests finish', async () => {
    const gate = await gatedUpstream();
    app = gate.upstream;
    proxy = await oneConnectionProxy();
    const url = proxy.url();
    const first = send(`${url}/first`);
    const second = send(`${url}/second`);
    await until(async () => gate.held() === 1 && (await clusterMetric(proxy!, 'sluice_upstream_requests_active', 'app')) === 2);
    const started = performance.now();
    const refused = await send(`${url}/third`);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(refused.status).toBe(503);
    expect(refused.body).toBe('upstream overflow\n');
    const record = await proxy.waitFor((r) => r.access?.path === '/third');
    expect(record.access).toMatchObject({ status: 503, cluster: 'app', details: 'upstream_reset_before_response_started{overflow}' });
    expect(proxy.logs.find((r) => String(r.msg).startsWith('cluster overflow'))).toMatchObject({ level: 40, cluster: 'app' });
    expect(await clusterMetric(proxy, 'sluice_upstream_overflow_total', 'app')).toBe(1);
    // The upstream never saw it; the two it admitted are answered once the upstream answers.
    expect(app.requests.map((r) => r.url)).toEqual(['/first']);
    gate.release();
    await until(async () => gate.held() === 1);
    gate.release();
    expect([(await first).status, (await second).status]).toEqual([200, 200]);
    expect(app.requests.map((r) => r.url)).toEqual(['/first', '/second']);
    // Finished requests give their places back.
    expect(await clusterMetric(proxy, 'sluice_upstream_requests_active', 'app')).toBe(0);
    const later = send(`${url}/fourth`);
    await until(async () => gate.held() === 1);
    gate.release();
    expect((await later).status).toBe(200);
  });

  it('counts a failed or timed-out request out as well, and 0 admits only what the connections take; failures warn once per interval', async () => {
    const gate = await gatedUpstream();
    app = gate.upstream;
    proxy = await clusterProxy('      - { match: { prefix: /down }, cluster: down }\n      - { match: {}, cluster: app }', `
  - name: app
    endpoints: [${app.address}]
    max_connections: 1
    max_pending_requests: 0
    timeout: 300ms
  - name: down
    endpoints: [127.0.0.1:1]
    max_connections: 1
    max_pending_requests: 0`);
    const url = proxy.url();
    const slow = send(`${url}/slow`);
    await until(async () => gate.held() === 1);
    expect((await send(`${url}/refused`)).status).toBe(503);
    // The held request times out (504) and gives its place back: the next one is admitted.
    expect((await slow).status).toBe(504);
    await until(async () => (await clusterMetric(proxy!, 'sluice_upstream_requests_active', 'app')) === 0);
    const next = send(`${url}/next`);
    await until(async () => gate.held() === 2);
    gate.release();
    expect((await next).status).toBe(200);
    // Refused connections fail one after another without using up the cluster.
    for (let i = 0; i < 3; i++) expect((await send(`${url}/down/${i}`)).body).toBe('upstream connect error\n');
    // Each has its access log line; the warning is one line per 10 s, not one per request.
    expect(proxy.logs.filter((r) => r.access?.details === 'upstream_connection_refused')).toHaveLength(3);
    expect(proxy.logs.filter((r) => r.msg === 'upstream request failed' && r.cluster === 'down')).toHaveLength(1);
    expect(await clusterMetric(proxy, 'sluice_upstream_overflow_total', 'down')).toBe(0);
    expect(await clusterMetric(proxy, 'sluice_upstream_overflow_total', 'app')).toBe(1);
  });

  it("bounds a filter's http_calls to the cluster too: one past it fails as a call with no answer", async () => {
    const gate = await authzGate();
    proxy = await authzProxy('    max_pending_requests: 0');
    const allowed = send(`${proxy.url()}/a`);
    await until(async () => gate.held() === 1);
    const denied = await send(`${proxy.url()}/b`);
    // The auth filter denies a request whose check got no answer.
    expect(denied.status).toBe(403);
    expect(gate.upstream.requests.length).toBe(1);
    expect(proxy.logs.find((r) => String(r.msg).startsWith('cluster overflow'))).toMatchObject({ cluster: 'authz', filter: 'auth' });
    expect(await clusterMetric(proxy, 'sluice_upstream_overflow_total', 'authz')).toBe(1);
    gate.release();
    expect((await allowed).status).toBe(200);
    await until(async () => (await clusterMetric(proxy!, 'sluice_upstream_requests_active', 'authz')) === 0);
  });

  it('takes a waiting request out of the queue as soon as its client leaves: its place goes to the next one', async () => {
    const gate = await gatedUpstream();
    app = gate.upstream;
    proxy = await oneConnectionProxy();
    const url = proxy.url();
    const pending = () => clusterMetric(proxy!, 'sluice_upstream_requests_pending', 'app');
    const first = send(`${url}/first`);
    await until(async () => gate.held() === 1);
    const leaving = await open(url);
    get(leaving, '/leaves');
    await until(async () => (await pending()) === 1);
    leaving.socket.destroy();
    await until(async () => (await pending()) === 0 && (await clusterMetric(proxy!, 'sluice_upstream_requests_active', 'app')) === 1);
    // Its place is free: the next request waits instead of being refused.
    const third = send(`${url}/third`);
    await until(async () => (await pending()) === 1);
    gate.release();
    await until(async () => gate.held() === 1);
    gate.release();
    expect([(await first).status, (await third).status]).toEqual([200, 200]);
    // The request whose client left never reached the upstream.
    expect(app.requests.map((r) => r.url)).toEqual(['/first', '/third']);
    expect(await clusterMetric(proxy, 'sluice_upstream_overflow_total', 'app')).toBe(0);
    expect(await pending()).toBe(0);
  });

  it('answers a request whose timeout runs out in the queue 504 and takes it out, while the connection stays busy', async () => {
    // The filter's call holds authz's one connection for up to 10 s; requests proxied to authz
    // itself wait behind it with the cluster's 300 ms timeout.
    const gate = await authzGate();
    proxy = await authzProxy('    max_pending_requests: 1\n    timeout: 300ms', { callTimeoutMs: 10000, directRoute: true });
    const url = proxy.url();
    const allowed = send(`${url}/a`);
    await until(async () => gate.held() === 1);
    const started = performance.now();
    const timedOut = await send(`${url}/direct/1`);
    expect(timedOut.status).toBe(504);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(await clusterMetric(proxy, 'sluice_upstream_requests_pending', 'authz')).toBe(0);
    // The next one is queued, not refused, and sent when the call's answer frees the connection.
    const next = send(`${url}/direct/2`);
    await until(async () => (await clusterMetric(proxy!, 'sluice_upstream_requests_pending', 'authz')) === 1);
    gate.release();
    expect((await allowed).status).toBe(200);
    await until(async () => gate.held() === 1);
    gate.release();
    expect((await next).status).toBe(200);
    expect(gate.upstream.requests.map((r) => r.url)).toEqual(['/check', '/direct/2']);
    expect(await clusterMetric(proxy, 'sluice_upstream_overflow_total', 'authz')).toBe(0);
  });

  it("queues a filter's http_call like a request, and sends it when a connection frees", async () => {
    const gate = await authzGate();
    proxy = await authzProxy('    max_pending_requests: 1');
    const first = send(`${proxy.url()}/a`);
    await until(async () => gate.held() === 1);
    const second = send(`${proxy.url()}/b`);
    await until(async () => (await clusterMetric(proxy!, 'sluice_upstream_requests_pending', 'authz')) === 1);
    expect(gate.upstream.requests.length).toBe(1);
    gate.release();
    await until(async () => gate.held() === 1);
    gate.release();
    expect([(await first).status, (await second).status]).toEqual([200, 200]);
    expect(app!.requests.map((r) => r.url)).toEqual(['/a', '/b']);
    expect(await clusterMetric(proxy, 'sluice_upstream_requests_active', 'authz')).toBe(0);
  });
});
