// gRPC callouts end to end: a filter (test/fixtures/wat/e2e-grpc.wat) turns a request into a
// unary call or a stream to a real node:http2 gRPC server started here, and answers with what
// its gRPC callbacks saw. Also the gRPC form of proxy_send_local_response.

import http2, { type Http2Server, type Http2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureWasm } from '../helpers/wat.ts';
import { send, startProxy, type ClientResponse, type TestProxy } from '../helpers/proxy.ts';

/** Length-prefixed gRPC messages (written here, independent of src/proxy/grpc-framing.ts). */
function frame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const head = Buffer.alloc(5);
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

/** Splits `buf` into complete messages; returns them and the bytes left over. */
function unframe(buf: Buffer): [string[], Buffer] {
  const out: string[] = [];
  while (buf.length >= 5 && buf.length >= 5 + buf.readUInt32BE(1)) {
    const len = buf.readUInt32BE(1);
    out.push(buf.subarray(5, 5 + len).toString('utf8'));
    buf = buf.subarray(5 + len);
  }
  return [out, buf];
}

interface SeenCall {
  path: string;
  headers: http2.IncomingHttpHeaders;
  messages: string[];
}

interface GrpcServer {
  server: Http2Server;
  port: number;
  calls: SeenCall[];
  sessions: Http2Session[];
  close(): Promise<void>;
}

/** A small gRPC server: test.Echo with Unary, Stream (bidi echo), Fail, Slow and Http503. */
async function startGrpcServer(): Promise<GrpcServer> {
  const calls: SeenCall[] = [];
  const sessions: Http2Session[] = [];
  const server = http2.createServer();
  server.on('session', (s) => sessions.push(s));
  server.on('stream', (stream: ServerHttp2Stream, headers) => {
    const call: SeenCall = { path: String(headers[':path']), headers, messages: [] };
    calls.push(call);
    const okHeaders = { ':status': 200, 'content-type': 'application/grpc', 'x-echo-meta': String(headers['x-meta'] ?? 'none') };
    const trailers = { 'grpc-status': '0', 'x-trailer': 'done' };
    let pending: Buffer = Buffer.alloc(0);
    stream.on('error', () => {});
    switch (call.path) {
      case '/test.Echo/Unary':
        stream.on('data', (chunk: Buffer) => {
          const [messages, rest] = unframe(Buffer.concat([pending, chunk]));
          pending = rest;
          call.messages.push(...messages);
        });
        stream.on('end', () => {
          stream.respond(okHeaders, { waitForTrailers: true });
          stream.on('wantTrailers', () => stream.sendTrailers(trailers));
          stream.end(frame(`echo:${call.messages.join(',')}`));
        });
        return;
      case '/test.Echo/Stream':
        stream.respond(okHeaders, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers(trailers));
        stream.on('data', (chunk: Buffer) => {
          const [messages, rest] = unframe(Buffer.concat([pending, chunk]));
          pending = rest;
          call.messages.push(...messages);
          for (const m of messages) stream.write(frame(`echo:${m}`));
        });
        stream.on('end', () => stream.end());
        return;
      case '/test.Echo/Fail':
        stream.resume();
        // Trailers-only: status and message in the response headers, no body.
        stream.respond(
          { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '5', 'grpc-message': encodeURIComponent('no such thing: café') },
          { endStream: true },
        );
        return;
      case '/test.Echo/Slow':
        stream.resume();
        setTimeout(() => {
          if (stream.closed) return;
          stream.respond(okHeaders, { waitForTrailers: true });
          stream.on('wantTrailers', () => stream.sendTrailers(trailers));
          stream.end(frame('late'));
        }, 1000);
        return;
      default:
        stream.resume();
        stream.respond({ ':status': 503 }, { endStream: true });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    calls,
    sessions,
    close: () =>
      new Promise((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = http2.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function config(grpcPort: number, deadPort: number): string {
  return `
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [grpc]
    routes:
      - match: { prefix: / }
        direct_response: { status: 200, body: "no call\\n" }
clusters:
  - name: backend
    protocol: http2
    endpoints: [127.0.0.1:${grpcPort}]
  - name: backend-http1
    endpoints: [127.0.0.1:${grpcPort}]
  - name: dead
    protocol: http2
    connect_timeout: 500ms
    endpoints: [127.0.0.1:${deadPort}]
filters:
  - name: grpc
    module: grpc.wasm
`;
}

let grpc: GrpcServer;
let proxy: TestProxy;
let wasm: Uint8Array;
let deadPort: number;

beforeAll(async () => {
  grpc = await startGrpcServer();
  deadPort = await closedPort();
  wasm = await fixtureWasm('e2e-grpc');
  proxy = await startProxy(config(grpc.port, deadPort), { 'grpc.wasm': wasm });
});

afterAll(async () => {
  await proxy.close();
  await grpc.close();
});

function callThroughProxy(p: TestProxy, headers: Record<string, string>): Promise<ClientResponse> {
  return send(`${p.url()}/call`, { headers: Object.entries(headers) });
}

const UNARY = { 'x-grpc-cluster': 'backend', 'x-grpc-service': 'test.Echo', 'x-grpc-method': 'Unary' };

describe('unary proxy_grpc_call', () => {
  it('echoes: the response message reaches on_grpc_receive', async () => {
    const res = await callThroughProxy(proxy, { ...UNARY, 'x-grpc-message': 'hello', 'x-grpc-meta': 'm-1', 'x-grpc-timeout': '5000' });
    expect(res.status).toBe(200);
    expect(res.body).toBe('echo:hello');
    const seen = grpc.calls.at(-1)!;
    expect(seen.path).toBe('/test.Echo/Unary');
    expect(seen.messages).toEqual(['hello']);
    expect(seen.headers[':method']).toBe('POST');
    expect(seen.headers[':authority']).toBe('backend');
    expect(seen.headers['content-type']).toBe('application/grpc');
    expect(seen.headers['te']).toBe('trailers');
    expect(seen.headers['grpc-timeout']).toBe('5000m');
    expect(seen.headers['x-meta']).toBe('m-1');
  });

  it('sends no grpc-timeout without a deadline', async () => {
    const res = await callThroughProxy(proxy, { ...UNARY, 'x-grpc-message': 'x' });
    expect(res.body).toBe('echo:x');
    expect(grpc.calls.at(-1)!.headers['grpc-timeout']).toBeUndefined();
  });

  it('reports a server error status and its percent-decoded message through on_grpc_close', async () => {
    const res = await callThroughProxy(proxy, { ...UNARY, 'x-grpc-method': 'Fail' });
    expect(res.status).toBe(500 + 5); // NOT_FOUND
    expect(res.body).toBe('Sno such thing: café');
  });

  it('maps an HTTP error without grpc-status to a gRPC status (503 → UNAVAILABLE)', async () => {
    const res = await callThroughProxy(proxy, { ...UNARY, 'x-grpc-method': 'Http503' });
    expect(res.status).toBe(500 + 14);
    expect(res.body).toBe('Supstream answered HTTP 503 without grpc-status');
  });

  it('reports DEADLINE_EXCEEDED when the timeout passes first', async () => {
    const started = Date.now();
    const res = await callThroughProxy(proxy, { ...UNARY, 'x-grpc-method': 'Slow', 'x-grpc-timeout': '150' });
    expect(res.status).toBe(500 + 4);
    expect(res.body).toBe('Sdeadline exceeded');
    expect(Date.now() - started).toBeLessThan(900);
    expect(grpc.calls.at(-1)!.headers['grpc-timeout']).toBe('150m');
  });

  it('waits for the answer under a deadline longer than a Node timer holds (2^31 - 1 ms)', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const res = await callThroughProxy(proxy, { ...UNARY, 'x-grpc-method': 'Slow', 'x-grpc-timeout': '4294967000' });
      expect(res.status).toBe(200);
      expect(res.body).toBe('late');
    } finally {
      process.off('warning', onWarning);
    }
    expect(grpc.calls.at(-1)!.headers['grpc-timeout']).toBe('4294967S');
    expect(warnings.map((w) => w.name)).not.toContain('TimeoutOverflowWarning');
  });

  it('reports UNAVAILABLE when the server cannot be reached', async () => {
    const res = await callThroughProxy(proxy, { ...UNARY, 'x-grpc-cluster': 'dead' });
    expect(res.status).toBe(500 + 14);
    expect(res.body).toBe(`Supstream connect error or disconnect/reset: connect ECONNREFUSED 127.0.0.1:${deadPort}`);
  });

  it('refuses unknown and HTTP/1 clusters with PARSE_FAILURE, naming the reason in the log', async () => {
    expect((await callThroughProxy(proxy, { ...UNARY, 'x-grpc-cluster': 'nope' })).status).toBe(600 + 4);
    expect((await callThroughProxy(proxy, { ...UNARY, 'x-grpc-cluster': 'backend-http1' })).status).toBe(600 + 4);
    const refusals = proxy.logs.filter((r) => typeof r.msg === 'string' && r.msg.startsWith('grpc_call refused')).map((r) => r.msg);
    expect(refusals).toEqual([
      "grpc_call refused: unknown cluster 'nope'",
      "grpc_call refused: cluster 'backend-http1' has protocol http1; gRPC callouts need `protocol: http2`",
    ]);
  });

  it('quotes a long cluster name in 100 characters, and logs a refusal repeated on every request once per interval', async () => {
    const long = `c${'x'.repeat(4999)}`;
    for (let i = 0; i < 3; i++) expect((await callThroughProxy(proxy, { ...UNARY, 'x-grpc-cluster': long })).status).toBe(600 + 4);
    const refusals = proxy.logs.filter((r) => typeof r.msg === 'string' && r.msg.startsWith("grpc_call refused: unknown cluster 'cx"));
    expect(refusals.map((r) => r.msg)).toEqual([`grpc_call refused: unknown cluster '${long.slice(0, 100)}… (5000 characters)'`]);
    expect(refusals[0]!['cluster']).toBe(`${long.slice(0, 100)}… (5000 characters)`);
  });
});

describe('proxy_grpc_stream', () => {
  it('delivers initial metadata, every message, trailing metadata and the close', async () => {
    const res = await callThroughProxy(proxy, {
      'x-grpc-cluster': 'backend',
      'x-grpc-service': 'test.Echo',
      'x-grpc-method': 'Stream',
      'x-grpc-mode': 'stream',
      'x-grpc-message': 'hi',
      'x-grpc-meta': 'm-2',
    });
    expect(res.status).toBe(200);
    expect(res.body).toBe('Hm-2;Mecho:hi;Mecho:hi;Tdone;S');
    const seen = grpc.calls.at(-1)!;
    expect(seen.messages).toEqual(['hi', 'hi']);
    expect(seen.headers['grpc-timeout']).toBeUndefined();
  });

  it('a trailers-only answer gives empty initial metadata, then trailers and the status', async () => {
    const res = await callThroughProxy(proxy, { 'x-grpc-cluster': 'backend', 'x-grpc-service': 'test.Echo', 'x-grpc-method': 'Fail', 'x-grpc-mode': 'stream' });
    expect(res.status).toBe(505);
    expect(res.body).toBe('H;T;Sno such thing: café');
  });

  it('reports UNAVAILABLE for an unreachable server', async () => {
    const res = await callThroughProxy(proxy, { 'x-grpc-cluster': 'dead', 'x-grpc-service': 'test.Echo', 'x-grpc-method': 'Stream', 'x-grpc-mode': 'stream' });
    expect(res.status).toBe(514);
    expect(res.body).toBe(`Supstream connect error or disconnect/reset: connect ECONNREFUSED 127.0.0.1:${deadPort}`);
  });
});

describe('HTTP/2 sessions', () => {
  it('are reused across calls, re-opened after the server closes them, and closed with the proxy', async () => {
    const other = await startProxy(config(grpc.port, deadPort), { 'grpc.wasm': wasm });
    const before = grpc.sessions.length;
    for (let i = 0; i < 3; i++) expect((await callThroughProxy(other, { ...UNARY, 'x-grpc-message': `r${i}` })).body).toBe(`echo:r${i}`);
    expect(grpc.sessions.length).toBe(before + 1);
    const first = grpc.sessions.at(-1)!;
    await new Promise<void>((resolve) => first.close(resolve));
    await new Promise((r) => setTimeout(r, 20));
    expect((await callThroughProxy(other, { ...UNARY, 'x-grpc-message': 'again' })).body).toBe('echo:again');
    expect(grpc.sessions.length).toBe(before + 2);
    const second = grpc.sessions.at(-1)!;
    const closed = new Promise<void>((resolve) => second.once('close', () => resolve()));
    await other.close();
    await closed;
    expect(second.destroyed).toBe(true);
  });
});

describe('gRPC local replies', () => {
  it('proxy_send_local_response with a grpc_status answers a gRPC request trailers-only: HTTP 200, grpc-status, grpc-message', async () => {
    const res = await send(`${proxy.url()}/local`, { method: 'POST', body: '', headers: [['x-local-grpc', '1'], ['content-type', 'application/grpc']] });
    expect(res.status).toBe(200);
    expect(res.header('content-type')).toBe('application/grpc');
    expect(res.header('grpc-status')).toBe('7');
    expect(res.header('grpc-message')).toBe('denied%20by%20filter');
    expect(res.bytes.length).toBe(0);
  });

  it('requests without x-grpc-method pass through', async () => {
    const res = await send(`${proxy.url()}/plain`);
    expect(res.status).toBe(200);
    expect(res.body).toBe('no call\n');
  });
});
