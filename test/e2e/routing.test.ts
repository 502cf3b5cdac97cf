// Route matching and route actions: first match wins; direct_response, echo and clusters; a
// per-route filter chain replaces the listener's; no match is a 404.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledFilter, send, startProxy, startUpstream, type TestProxy, type TestUpstream } from '../helpers/proxy.ts';

let app: TestUpstream;
let proxy: TestProxy;

beforeAll(async () => {
  app = await startUpstream();
  proxy = await startProxy(`
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [tag]
    routes:
      - name: by-header
        match: { prefix: /api, headers: [{ name: x-canary, exact: "yes" }] }
        direct_response: { status: 202, body: "canary\\n" }
      - name: api
        match: { prefix: /api, methods: [GET, POST] }
        cluster: app
        filters: []
      - name: echo
        match: { path: /echo }
        echo: true
      - name: host
        match: { host: "*.example.com" }
        direct_response: { status: 200, body: "wildcard host\\n", headers: { x-route: host } }
      - name: root
        match: { path: / }
        direct_response: { status: 200, body: "hello\\n" }
clusters:
  - name: app
    endpoints: [${app.address}]
filters:
  - name: tag
    module: ${bundledFilter('headers')}
    configuration: { response: { add: { x-tagged: "1" } } }
`);
});

afterAll(async () => {
  await proxy.close();
  await app.close();
});

describe('routing', () => {
  it('answers a direct response through the listener filters', async () => {
    const res = await send(`${proxy.url()}/`);
    expect(res.status).toBe(200);
    expect(res.body).toBe('hello\n');
    expect(res.header('content-type')).toBe('text/plain');
    expect(res.header('x-tagged')).toBe('1');
  });

  it('takes the first matching route (header condition before the plain prefix)', async () => {
    const canary = await send(`${proxy.url()}/api/x`, { headers: [['x-canary', 'yes']] });
    expect(canary.status).toBe(202);
    expect(canary.body).toBe('canary\n');
    const normal = await send(`${proxy.url()}/api/x?y=1`);
    expect(normal.status).toBe(200);
    expect(app.requests.at(-1)!.url).toBe('/api/x?y=1');
  });

  it('uses the route filter list instead of the listener one (an empty list means no filters)', async () => {
    const res = await send(`${proxy.url()}/api/x`);
    expect(res.header('x-tagged')).toBeUndefined();
  });

  it('matches methods', async () => {
    const res = await send(`${proxy.url()}/api/x`, { method: 'DELETE' });
    expect(res.status).toBe(404);
  });

  it('echoes the request as the upstream would have received it', async () => {
    const res = await send(`${proxy.url()}/echo?z=9`, { body: 'ping', headers: [['x-one', '1']] });
    // exact path match ignores the query string
    expect(res.status).toBe(200);
    const echoed = JSON.parse(res.body);
    expect(echoed.method).toBe('POST');
    expect(echoed.path).toBe('/echo?z=9');
    expect(echoed.body).toBe('ping');
    expect(echoed.headers).toContainEqual(['x-one', '1']);
  });

  it('matches wildcard hosts, ignoring the port', async () => {
    const res = await send(`${proxy.url()}/anything`, { headers: [['host', 'api.example.com:8080']] });
    expect(res.body).toBe('wildcard host\n');
    expect(res.header('x-route')).toBe('host');
  });

  it('answers 404 when no route matches', async () => {
    const res = await send(`${proxy.url()}/nowhere`);
    expect(res.status).toBe(404);
    expect(res.body).toBe('no route\n');
  });
});
