// Every stream context ends with on_log, on_done and on_delete, exactly once each and in that
// order, however the request ends: normally, by a local reply, by an upstream failure, by a
// client that goes away, or on a filter that never saw the request.

import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureWasm } from '../helpers/wat.ts';
import { send, startProxy, startUpstream, type TestProxy, type TestUpstream } from '../helpers/proxy.ts';

let app: TestUpstream;
let silent: TestUpstream;
let proxy: TestProxy;

beforeAll(async () => {
  app = await startUpstream();
  silent = await startUpstream(() => {});
  const probe = await fixtureWasm('e2e-probe');
  proxy = await startProxy(
    `
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [first, second]
    routes:
      - match: { prefix: /down }
        cluster: down
      - match: { prefix: /hang }
        cluster: hang
      - match: { prefix: / }
        cluster: app
clusters:
  - name: app
    endpoints: [${app.address}]
  - name: down
    endpoints: [127.0.0.1:1]
  - name: hang
    endpoints: [${silent.address}]
filters:
  - name: first
    module: probe.wasm
  - name: second
    module: probe.wasm
`,
    { 'probe.wasm': probe },
  );
});

afterAll(async () => {
  await proxy.close();
  await app.close();
  await silent.close();
});

/** The end-of-stream callbacks logged since `from`, grouped per (filter, context id). */
function endings(from: number): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of proxy.logs.slice(from)) {
    if (r.wasm === undefined) continue;
    const key = `${r.plugin}#${r.wasm.context_id}`;
    out.set(key, [...(out.get(key) ?? []), r.msg!]);
  }
  return out;
}

async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 30));
}

describe('stream context lifecycle', () => {
  it('normal request: each filter context gets on_log, on_done, on_delete once', async () => {
    const from = proxy.logs.length;
    expect((await send(`${proxy.url()}/ok`)).status).toBe(200);
    await settle();
    const seen = endings(from);
    expect(seen.size).toBe(2);
    for (const calls of seen.values()) expect(calls).toEqual(['on_log', 'on_done', 'on_delete']);
  });

  it('local reply: also for the filter after the one that replied (which never saw the request)', async () => {
    const from = proxy.logs.length;
    const res = await send(`${proxy.url()}/ok`, { headers: [['x-local-reply', '1']] });
    expect(res.status).toBe(418);
    expect(res.body).toBe('teapot\n');
    // The reply ran through the response phase of the filter that sent it, not of the one after.
    expect(res.all('x-probe')).toEqual(['seen']);
    await settle();
    const seen = endings(from);
    expect([...seen.keys()].map((k) => k.split('#')[0]).sort()).toEqual(['first', 'second']);
    for (const calls of seen.values()) expect(calls).toEqual(['on_log', 'on_done', 'on_delete']);
  });

  it('upstream failure: once each', async () => {
    const from = proxy.logs.length;
    expect((await send(`${proxy.url()}/down`)).status).toBe(503);
    await settle();
    const seen = endings(from);
    expect(seen.size).toBe(2);
    for (const calls of seen.values()) expect(calls).toEqual(['on_log', 'on_done', 'on_delete']);
  });

  it('client abort while the upstream hangs: once each', async () => {
    const from = proxy.logs.length;
    await new Promise<void>((resolve) => {
      const req = request(`${proxy.url()}/hang`, () => {});
      req.on('error', () => resolve());
      req.end();
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 50);
    });
    await proxy.waitFor((r) => r.access?.path === '/hang');
    await settle();
    const seen = endings(from);
    expect(seen.size).toBe(2);
    for (const calls of seen.values()) expect(calls).toEqual(['on_log', 'on_done', 'on_delete']);
    const access = proxy.logs.find((r) => r.access?.path === '/hang')!;
    expect(access.access.status).toBe(0);
  });

  it('client abort while a filter holds the request paused: once each', async () => {
    const from = proxy.logs.length;
    await new Promise<void>((resolve) => {
      const req = request(`${proxy.url()}/paused`, { headers: { 'x-pause': '1' } }, () => {});
      req.on('error', () => resolve());
      req.end();
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 50);
    });
    await proxy.waitFor((r) => r.access?.path === '/paused');
    await settle();
    const seen = endings(from);
    expect(seen.size).toBe(2);
    for (const calls of seen.values()) expect(calls).toEqual(['on_log', 'on_done', 'on_delete']);
    expect(app.requests.some((r) => r.url === '/paused')).toBe(false);
  });

  it('client gone mid-upload, or sending a malformed chunk: once each, and the proxy serves on', async () => {
    const from = proxy.logs.length;
    const { port } = new URL(proxy.url());
    const cutShort = 'POST /cut HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nabc';
    const badChunk = 'POST /chunk HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nZZZ\r\n';
    await Promise.all(
      [cutShort, badChunk].map(
        (bytes) =>
          new Promise<void>((resolve) => {
            const socket = connect(Number(port), '127.0.0.1', () => {
              socket.write(bytes);
              setTimeout(() => socket.destroy(), 50);
            });
            socket.on('error', () => {});
            socket.on('close', () => resolve());
          }),
      ),
    );
    await proxy.waitFor((r) => r.access?.path === '/cut');
    await settle();
    const seen = endings(from);
    expect(seen.size).toBeGreaterThanOrEqual(2); // both filters for /cut; /chunk may not get past the parser
    for (const calls of seen.values()) expect(calls).toEqual(['on_log', 'on_done', 'on_delete']);
    expect((await send(`${proxy.url()}/ok`)).status).toBe(200);
  });

  it('context ids are never reused', async () => {
    const from = proxy.logs.length;
    for (let i = 0; i < 3; i++) await send(`${proxy.url()}/ok`);
    await settle();
    const ids = [...endings(from).keys()];
    expect(new Set(ids).size).toBe(6);
  });
});
