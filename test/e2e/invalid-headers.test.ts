// A filter that writes a header HTTP cannot carry costs that header, never the request or the
// connection: the host call answers BAD_ARGUMENT (the guest can see it), and pseudo-headers
// edited into something unsendable get a clear local reply instead of a reset or an
// "upstream failed".

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureWasm, watToWasm } from '../helpers/wat.ts';
import { send, startProxy, startUpstream, type TestProxy, type TestUpstream } from '../helpers/proxy.ts';

const BAD_ARGUMENT = '2';

let app: TestUpstream;
let proxy: TestProxy;

beforeAll(async () => {
  app = await startUpstream((req, res) => {
    if (req.url === '/sized') {
      res.end('sized body\n'); // no writeHead first: Node sends a content-length
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ method: req.method, url: req.url, body: req.body }));
  });
  proxy = await startProxy(
    `
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [editor]
    routes:
      - match: { prefix: / }
        cluster: app
clusters:
  - name: app
    endpoints: [${app.address}]
filters:
  - name: editor
    module: editor.wasm
`,
    { 'editor.wasm': await fixtureWasm('e2e-header-editor') },
  );
});

afterAll(async () => {
  await proxy.close();
  await app.close();
});

describe('headers HTTP cannot carry', () => {
  it('refuses a request header value with CR LF: the request goes on without it', async () => {
    const before = app.requests.length;
    const res = await send(`${proxy.url()}/a`, { headers: [['x-bad-request-header', '1']] });
    expect(res.status).toBe(200);
    expect(app.requests.length).toBe(before + 1);
    const seen = app.requests.at(-1)!.headers;
    expect(seen['x-add-status']).toBe(BAD_ARGUMENT);
    expect(seen['x-injected']).toBeUndefined();
    expect(seen['x-evil']).toBeUndefined();
    const warning = proxy.logs.find((r) => r.msg?.startsWith('header refused'));
    expect(warning).toMatchObject({ call: 'proxy_add_header_map_value', name: 'x-injected', plugin: 'editor' });
  });

  it('answers 500 at once when the host refused the local reply a filter asked for and the filter stopped', async () => {
    const before = app.requests.length;
    const res = await send(`${proxy.url()}/refused-reply`, { headers: [['x-bad-reply', '1']] });
    expect(res.status).toBe(500);
    expect(res.body).toBe('invalid local reply\n');
    expect(app.requests.length).toBe(before);
    expect(proxy.logs.some((r) => r.plugin === 'editor' && r.msg === 'send_local_response refused: HTTP cannot carry this header name or value')).toBe(true);
  });

  it('lets the request go on when the filter continues after its local reply was refused', async () => {
    const res = await send(`${proxy.url()}/refused-reply-go`, { headers: [['x-bad-reply-go', '1']] });
    expect(res.status).toBe(200);
    expect(app.requests.at(-1)!.url).toBe('/refused-reply-go');
  });

  it('refuses a header name that is not a token', async () => {
    const res = await send(`${proxy.url()}/b`, { headers: [['x-bad-name', '1']] });
    expect(res.status).toBe(200);
    const seen = app.requests.at(-1)!.headers;
    expect(seen['x-add-status']).toBe(BAD_ARGUMENT);
    expect(Object.keys(seen).some((name) => name.includes(' '))).toBe(false);
  });

  it('refuses a response header value with LF: the client gets the response without it', async () => {
    const res = await send(`${proxy.url()}/c`, { headers: [['x-bad-response-header', '1']] });
    expect(res.status).toBe(200);
    expect(res.body).toContain('/c');
    expect(res.header('x-add-status')).toBe(BAD_ARGUMENT);
    expect(res.header('x-injected')).toBeUndefined();
  });

  it('answers 500 when the filters leave a :path undici cannot send, without contacting the upstream', async () => {
    const before = app.requests.length;
    const res = await send(`${proxy.url()}/d`, { headers: [['x-set-path', '/has space']] });
    expect(res.status).toBe(500);
    expect(res.body).toBe('invalid upstream request\n');
    expect(app.requests.length).toBe(before);
    expect(proxy.logs.some((r) => r.msg === 'request not sent upstream: not valid HTTP as the filters left it')).toBe(true);
  });

  it('corrects a request content-length a filter set wrong, or drops it when the body streams', async () => {
    for (const length of ['9', '1', 'abc']) {
      const whole = await send(`${proxy.url()}/g`, { method: 'POST', body: 'abc', headers: [['x-set-length', length]] });
      expect(whole.status, length).toBe(200);
      expect(app.requests.at(-1)!.headers['content-length'], length).toBe('3');
      expect(app.requests.at(-1)!.body, length).toBe('abc');
      const streamed = await send(`${proxy.url()}/g`, { chunks: ['ab', 'cd', 'ef'], headers: [['x-set-length', length]] });
      expect(streamed.status, length).toBe(200);
      expect(app.requests.at(-1)!.headers['content-length'], length).toBeUndefined();
      expect(app.requests.at(-1)!.headers['transfer-encoding'], length).toBe('chunked');
      expect(app.requests.at(-1)!.body, length).toBe('abcdef');
    }
  });

  it('corrects a response content-length a filter set wrong, or drops it when the body streams', async () => {
    // /sized answers with a content-length (the whole body arrives at once); the default
    // upstream answer is chunked, so its body streams past the filters.
    for (const path of ['/sized', '/h']) {
      for (const length of ['3', '100000', 'abc']) {
        const res = await send(`${proxy.url()}${path}`, { headers: [['x-set-response-length', length]] });
        expect(res.status, `${path} ${length}`).toBe(200);
        expect(res.header('content-length'), `${path} ${length}`).toBe(path === '/sized' ? String(res.bytes.length) : undefined);
        expect(res.body, `${path} ${length}`).toContain(path === '/sized' ? 'sized body' : '"url":"/h"');
      }
    }
  });

  it('answers 502 when the filters leave a :status that is not a final status code', async () => {
    for (const status of ['42', '100', 'teapot', '1000']) {
      const res = await send(`${proxy.url()}/e`, { headers: [['x-set-status', status]] });
      expect(res.status, status).toBe(502);
    }
    const valid = await send(`${proxy.url()}/e`, { headers: [['x-set-status', '418']] });
    expect(valid.status).toBe(418);
    // One line for the four (a filter may do this to every response), naming the first.
    expect(proxy.logs.filter((r) => r.msg === 'response :status is not a final status code; sending 502').map((r) => r.status)).toEqual(['42']);
  });

  it('keeps the connection usable after every refusal', async () => {
    const res = await send(`${proxy.url()}/f`);
    expect(res.status).toBe(200);
    expect(proxy.logs.some((r) => r.msg?.startsWith('internal error'))).toBe(false);
  });
});

describe('a request the filters left without :method or :path', () => {
  // Steered by request headers: `x-drop: method` or `x-drop: path` removes that pseudo-header,
  // `x-drop: all` replaces the whole map with an empty one.
  const DROPPER = `(module
    (import "env" "proxy_get_header_map_value" (func $get (param i32 i32 i32 i32 i32) (result i32)))
    (import "env" "proxy_remove_header_map_value" (func $remove (param i32 i32 i32) (result i32)))
    (import "env" "proxy_set_header_map_pairs" (func $set_pairs (param i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 4096))
    (data (i32.const 100) "x-drop")
    (data (i32.const 110) ":method")
    (data (i32.const 120) ":path")
    (data (i32.const 130) "\\00\\00\\00\\00")
    (func (export "malloc") (param $n i32) (result i32)
      (local $p i32) (local.set $p (global.get $heap))
      (global.set $heap (i32.add (global.get $heap) (local.get $n))) (local.get $p))
    (func (export "proxy_abi_version_0_2_1"))
    (func (export "proxy_on_context_create") (param i32 i32))
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (local $first i32)
      (if (call $get (i32.const 0) (i32.const 100) (i32.const 6) (i32.const 0) (i32.const 4)) (then (return (i32.const 0))))
      (local.set $first (i32.load8_u (i32.load (i32.const 0))))
      (if (i32.eq (local.get $first) (i32.const 109)) (then (drop (call $remove (i32.const 0) (i32.const 110) (i32.const 7)))))
      (if (i32.eq (local.get $first) (i32.const 112)) (then (drop (call $remove (i32.const 0) (i32.const 120) (i32.const 5)))))
      (if (i32.eq (local.get $first) (i32.const 97)) (then (drop (call $set_pairs (i32.const 0) (i32.const 130) (i32.const 4)))))
      (i32.const 0)))`;

  it('answers 503 naming the missing header, as Envoy does, and sends nothing upstream', async () => {
    const upstream = await startUpstream();
    const own = await startProxy(
      `
listeners:
  - name: main
    address: 127.0.0.1:0
    routes: [{ match: { prefix: / }, cluster: app, filters: [dropper] }]
clusters: [{ name: app, endpoints: [${upstream.address}] }]
filters: [{ name: dropper, module: dropper.wasm }]
`,
      { 'dropper.wasm': await watToWasm(DROPPER, 'drop-pseudo-headers.wat') },
    );
    try {
      const answers: Record<string, string> = {};
      for (const drop of ['method', 'path', 'all']) {
        const res = await send(`${own.url()}/x`, { headers: [['x-drop', drop]] });
        answers[drop] = `${res.status} ${res.body}`;
      }
      expect(answers).toEqual({
        method: '503 missing required header: :method\n',
        path: '503 missing required header: :path\n',
        all: '503 missing required header: :method\n',
      });
      expect(upstream.requests).toHaveLength(0);
      const access = own.logs.filter((r) => r.access !== undefined).map((r) => r.access.details);
      expect(access).toEqual([
        'filter_removed_required_request_headers{missing_required_header:_:method}',
        'filter_removed_required_request_headers{missing_required_header:_:path}',
        'filter_removed_required_request_headers{missing_required_header:_:method}',
      ]);
      // An untouched request still goes through.
      expect((await send(`${own.url()}/x`)).status).toBe(200);
      expect(upstream.requests).toHaveLength(1);
    } finally {
      await own.close();
      await upstream.close();
    }
  });
});
