// The admin port over real sockets: what each path answers, that a query string does not
// change the path, that HEAD gets the GET's headers without a body, and that a method other
// than GET or HEAD is refused on the read-only paths rather than answered as if it had acted.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startProxy, type TestProxy } from '../helpers/proxy.ts';

const CONFIG = `
admin: { address: 127.0.0.1:0 }
listeners:
  - name: main
    address: 127.0.0.1:0
    routes:
      - name: hello
        match: { prefix: / }
        direct_response: { status: 200, body: "hello\\n" }
`;

let proxy: TestProxy;

beforeAll(async () => {
  proxy = await startProxy(CONFIG);
});

afterAll(async () => {
  await proxy.close();
});

describe('admin port', () => {
  it('answers liveness and readiness', async () => {
    const health = await send(`${proxy.adminUrl()}/healthz`);
    expect([health.status, health.body]).toEqual([200, 'ok\n']);
    const ready = await send(`${proxy.adminUrl()}/ready?verbose=1`);
    expect([ready.status, ready.body]).toEqual([200, 'ready\n']);
    expect(ready.header('content-length')).toBe('6');
  });

  it('dumps the effective configuration as JSON', async () => {
    const res = await send(`${proxy.adminUrl()}/config_dump`);
    expect(res.status).toBe(200);
    expect(res.header('content-type')).toBe('application/json');
    const dump = JSON.parse(res.body) as { listeners: { name: string }[] };
    expect(dump.listeners.map((l) => l.name)).toEqual(['main']);
  });

  it('answers HEAD with the headers a GET gets and no body', async () => {
    const get = await send(`${proxy.adminUrl()}/metrics`);
    const head = await send(`${proxy.adminUrl()}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.header('content-type')).toBe(get.header('content-type'));
    expect(Number(head.header('content-length'))).toBeGreaterThan(0);
    expect(head.bytes.length).toBe(0);
  });

  it('refuses other methods on its read-only paths with 405 and Allow', async () => {
    for (const [method, path] of [['DELETE', '/metrics'], ['POST', '/ready'], ['PUT', '/config_dump'], ['POST', '/healthz']] as const) {
      const res = await send(`${proxy.adminUrl()}${path}`, { method, body: method === 'DELETE' ? undefined : 'x' });
      expect([method, path, res.status]).toEqual([method, path, 405]);
      expect(res.header('allow')).toBe('GET, HEAD');
    }
    // The metrics are still there afterwards.
    expect((await send(`${proxy.adminUrl()}/metrics`)).status).toBe(200);
  });

  it('answers an unknown path 404 with the paths it has', async () => {
    const res = await send(`${proxy.adminUrl()}/stats`, { method: 'POST', body: 'x' });
    expect(res.status).toBe(404);
    expect(res.body).toContain('/healthz /ready /metrics /config_dump');
  });
});
