// What a failing filter or upstream costs: one request, never the process. A trap answers 503
// (fail_closed) or skips the filter (fail_open), and the next request runs on a fresh VM.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureWasm, watToWasm } from '../helpers/wat.ts';
import { send, startProxy, startUpstream, type TestProxy, type TestUpstream } from '../helpers/proxy.ts';

let app: TestUpstream;
let silent: TestUpstream;
let proxy: TestProxy;

beforeAll(async () => {
  app = await startUpstream();
  silent = await startUpstream(() => {}); // never answers
  const probe = await fixtureWasm('e2e-probe');
  proxy = await startProxy(
    `
admin: { address: 127.0.0.1:0 }
listeners:
  - name: main
    address: 127.0.0.1:0
    routes:
      - match: { prefix: /closed }
        cluster: app
        filters: [strict]
      - match: { prefix: /open }
        cluster: app
        filters: [lenient]
      - match: { prefix: /down }
        cluster: down
      - match: { prefix: /slow }
        cluster: slow
clusters:
  - name: app
    endpoints: [${app.address}]
  - name: down
    endpoints: [127.0.0.1:1]
    connect_timeout: 500ms
  - name: slow
    endpoints: [${silent.address}]
    timeout: 200ms
filters:
  - name: strict
    module: probe.wasm
    failure_policy: fail_closed
  - name: lenient
    module: probe.wasm
    vm_id: lenient
    failure_policy: fail_open
`,
    { 'probe.wasm': probe },
  );
});

afterAll(async () => {
  await proxy.close();
  await app.close();
  await silent.close();
});

describe('filter failures', () => {
  it('fail_closed: a trap answers 503, then the next request is served by a fresh VM', async () => {
    const before = proxy.sluice.plugins.get('strict')!.vm.serial;
    const trapped = await send(`${proxy.url()}/closed`, { headers: [['x-trap', '1']] });
    expect(trapped.status).toBe(503);
    expect(proxy.sluice.plugins.get('strict')!.vm.serial).not.toBe(before);
    const next = await send(`${proxy.url()}/closed`);
    expect(next.status).toBe(200);
    expect(next.header('x-probe')).toBe('seen');
    const log = proxy.logs.find((r) => r.msg === 'filter VM failed; it will be replaced');
    expect(log?.err.message).toContain('unreachable');
  });

  it('fail_open: a trapping filter is skipped for that request', async () => {
    const res = await send(`${proxy.url()}/open`, { headers: [['x-trap', '1']] });
    expect(res.status).toBe(200);
    expect(res.header('x-probe')).toBeUndefined(); // the filter did not run on the response
    expect(app.requests.at(-1)!.url).toBe('/open');
    const again = await send(`${proxy.url()}/open`);
    expect(again.header('x-probe')).toBe('seen');
  });

  it('counts traps per filter on /metrics and names them in the access log', async () => {
    const trapped = await send(`${proxy.url()}/closed`, { headers: [['x-trap', '1']] });
    expect(trapped.status).toBe(503);
    const metrics = await send(`${proxy.adminUrl()}/metrics`);
    const line = metrics.body.split('\n').find((l) => l.startsWith('sluice_filter_traps_total{filter="strict"}'));
    expect(Number(line?.split(' ')[1])).toBeGreaterThanOrEqual(2);
    const access = proxy.logs.filter((r) => r.access?.traps?.includes('strict'));
    expect(access.length).toBeGreaterThanOrEqual(2);
    expect(access.at(-1)!.access.status).toBe(503);
  });
});

describe('a filter failing after its answer is on its way', () => {
  // Traps in on_request_headers right after asking for a 418, or in on_response_body (the
  // response head is then on the wire).
  const FAILING = `(module
    (import "env" "proxy_send_local_response" (func $reply (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 64) "teapot")
    (func (export "malloc") (param i32) (result i32) (i32.const 1024))
    (func (export "proxy_abi_version_0_2_1"))
    (func (export "proxy_on_context_create") (param i32 i32))
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (drop (call $reply (i32.const 418) (i32.const 0) (i32.const 0) (i32.const 64) (i32.const 6) (i32.const 0) (i32.const 0) (i32.const -1)))
      unreachable)
    (global $bodies (mut i32) (i32.const 0))
    (func (export "proxy_on_response_body") (param i32 i32 i32) (result i32)
      ;; The second chunk: the first, and the head, have gone to the client.
      (global.set $bodies (i32.add (global.get $bodies) (i32.const 1)))
      (if (i32.eq (global.get $bodies) (i32.const 2)) (then unreachable))
      (i32.const 0)))`;
  /** A proxy sending everything to `upstream` through one filter, `wasm`, under fail_closed. */
  const proxyThrough = (wasm: Uint8Array, upstream: TestUpstream): Promise<TestProxy> =>
    startProxy(
      `
listeners:
  - name: main
    address: 127.0.0.1:0
    routes: [{ match: {}, cluster: app, filters: [failing] }]
clusters: [{ name: app, endpoints: [${upstream.address}] }]
filters: [{ name: failing, module: failing.wasm }]
`,
      { 'failing.wasm': wasm },
    );
  const BODY_ONLY = FAILING.replace(/\(func \(export "proxy_on_request_headers"\)[^]*?unreachable\)/, '');

  it('a local reply asked for before a trap stands, and the log says so', async () => {
    const own = await proxyThrough(await watToWasm(FAILING, 'reply-then-trap.wat'), app);
    try {
      const res = await send(`${own.url()}/`);
      expect(res.status).toBe(418);
      expect(res.body).toBe('teapot');
      expect(own.logs.some((r) => r.msg === 'filter failed after asking for a local reply; that reply stands')).toBe(true);
      expect(own.logs.some((r) => typeof r.msg === 'string' && r.msg.includes('answering 503'))).toBe(false);
    } finally {
      await own.close();
    }
  });

  it('a response filter failing on a local reply another filter sent answers 503, without hanging', async () => {
    const replier = FAILING.replace(/unreachable\)\n/, '(i32.const 1))\n');
    const trapper = `(module
      (memory (export "memory") 1)
      (func (export "malloc") (param i32) (result i32) (i32.const 1024))
      (func (export "proxy_abi_version_0_2_1"))
      (func (export "proxy_on_context_create") (param i32 i32))
      (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) unreachable))`;
    const own = await startProxy(
      `
listeners:
  - name: main
    address: 127.0.0.1:0
    routes: [{ match: {}, cluster: app, filters: [trapper, replier] }]
clusters: [{ name: app, endpoints: [${app.address}] }]
filters:
  - { name: replier, module: replier.wasm }
  - { name: trapper, module: trapper.wasm }
`,
      { 'replier.wasm': await watToWasm(replier, 'reply.wat'), 'trapper.wasm': await watToWasm(trapper, 'trap-on-response.wat') },
    );
    try {
      const res = await send(`${own.url()}/`);
      expect(`${res.status} ${res.body}`).toBe('503 filter failed\n');
    } finally {
      await own.close();
    }
  });

  it('a trap once the response head is on the wire resets the stream, and the log says so', async () => {
    const streaming = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first ');
      setTimeout(() => res.end('second'), 100);
    });
    const own = await proxyThrough(await watToWasm(BODY_ONLY, 'trap-in-response-body.wat'), streaming);
    try {
      const outcome = await send(`${own.url()}/`).then(
        (res) => `status ${res.status}`,
        (err: NodeJS.ErrnoException) => err.code ?? 'error',
      );
      expect(outcome).not.toMatch(/^status/); // the client sees the connection end mid-body
      await own.waitFor((r) => typeof r.msg === 'string' && r.msg.startsWith('filter failed'));
      const lines = own.logs.filter((r) => typeof r.msg === 'string' && r.msg.startsWith('filter failed'));
      expect(lines.map((r) => r.msg)).toEqual(['filter failed after the response started; fail_closed: resetting the stream']);
    } finally {
      await own.close();
      await streaming.close();
    }
  });
});

describe('upstream failures', () => {
  it('answers 503 when the upstream refuses connections', async () => {
    const res = await send(`${proxy.url()}/down`);
    expect(res.status).toBe(503);
    expect(res.body).toBe('upstream connect error\n');
  });

  it('answers 504 when the upstream does not answer within the cluster timeout', async () => {
    const started = Date.now();
    const res = await send(`${proxy.url()}/slow`);
    expect(res.status).toBe(504);
    expect(Date.now() - started).toBeGreaterThanOrEqual(180);
  });
});
