// http_call targets as other hosts write them: a URL (MOSN) or host:port (Kong) works only when
// the filter lists it in `http_call_hosts`; anything else is BAD_ARGUMENT with a log line. A
// literal target is a cluster of its own, counted on /metrics under its origin.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerResponse } from 'node:http';
import { literalTarget } from '../../src/proxy/http-call.ts';
import { parsePrometheus } from '../helpers/prometheus.ts';
import { bundledFilter, send, startProxy, startUpstream, type TestProxy, type TestUpstream } from '../helpers/proxy.ts';

let app: TestUpstream;
let authz: TestUpstream;
let proxy: TestProxy;
/** authz's answers to /hold checks, held until a test ends them. */
const held: ServerResponse[] = [];
/** A cluster name no log line should carry whole. */
const LONG_NAME = `n${'o'.repeat(4999)}`;

beforeAll(async () => {
  app = await startUpstream();
  authz = await startUpstream((req, res) => {
    if (req.url === '/hold') return void held.push(res);
    res.writeHead(200, { 'x-auth-user': 'literal' });
    res.end();
  });
  const auth = (target: string, path = '/check') => JSON.stringify({ cluster: target, path, authority: 'authz' });
  proxy = await startProxy(`
admin: { address: 127.0.0.1:0 }
listeners:
  - name: main
    address: 127.0.0.1:0
    routes:
      - { match: { prefix: /url }, cluster: app, filters: [by-url] }
      - { match: { prefix: /hostport }, cluster: app, filters: [by-hostport] }
      - { match: { prefix: /denied }, cluster: app, filters: [not-allowed] }
      - { match: { prefix: /long }, cluster: app, filters: [long-name] }
      - { match: { prefix: /held }, cluster: app, filters: [held-check] }
clusters:
  - name: app
    endpoints: [${app.address}]
filters:
  - name: by-url
    module: ${bundledFilter('auth')}
    configuration: '${auth(`http://${authz.address}/`)}'
    http_call_hosts: [${authz.address}]
  - name: by-hostport
    module: ${bundledFilter('auth')}
    configuration: '${auth(authz.address)}'
    http_call_hosts: [${authz.address}]
  - name: not-allowed
    module: ${bundledFilter('auth')}
    configuration: '${auth(authz.address)}'
  - name: long-name
    module: ${bundledFilter('auth')}
    configuration: '${auth(LONG_NAME)}'
  - name: held-check
    module: ${bundledFilter('auth')}
    configuration: '${auth(authz.address, '/hold')}'
    http_call_hosts: [${authz.address}]
`);
});

afterAll(async () => {
  for (const res of held.splice(0)) res.end();
  await proxy.close();
  await app.close();
  await authz.close();
});

describe('literal http_call targets', () => {
  it('accepts an allow-listed URL', async () => {
    const res = await send(`${proxy.url()}/url`);
    expect(res.status).toBe(200);
    expect(app.requests.at(-1)!.headers['x-auth-user']).toBe('literal');
    expect(authz.requests.at(-1)!.headers.host).toBe('authz');
  });

  it('accepts an allow-listed host:port', async () => {
    const res = await send(`${proxy.url()}/hostport`);
    expect(res.status).toBe(200);
  });

  it('refuses a target that is not allow-listed, saying why', async () => {
    const before = authz.requests.length;
    const res = await send(`${proxy.url()}/denied`);
    expect(res.status).toBe(403);
    expect(authz.requests.length).toBe(before);
    const log = await proxy.waitFor((r) => r.plugin === 'not-allowed' && String(r.msg).startsWith('http_call refused'));
    expect(log.msg).toBe(`http_call refused: '${authz.address}' is not a cluster and ${authz.address} is not in this filter's http_call_hosts`);
  });

  it('quotes a long target in 100 characters, in the reason and in the line\'s upstream', async () => {
    const res = await send(`${proxy.url()}/long`);
    expect(res.status).toBe(403);
    const log = await proxy.waitFor((r) => r.plugin === 'long-name' && String(r.msg).startsWith('http_call refused'));
    const shown = `${LONG_NAME.slice(0, 100)}… (5000 characters)`;
    expect(log.msg).toBe(`http_call refused: unknown cluster '${shown}'`);
    expect(log['upstream']).toBe(shown);
  });
});

describe('a literal target as a cluster', () => {
  /** The target's sample of sluice_upstream_requests_active (NaN when absent). */
  const active = async () => {
    const families = parsePrometheus((await send(`${proxy.adminUrl()}/metrics`)).body);
    return families.get('sluice_upstream_requests_active')?.samples.find((s) => s.labels.cluster === `http://${authz.address}`)?.value ?? NaN;
  };

  it('counts a call in flight under its origin on /metrics, and out when it is answered', async () => {
    const response = send(`${proxy.url()}/held`);
    for (let i = 0; i < 200 && held.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(held).toHaveLength(1);
    expect(await active()).toBe(1);
    held.shift()!.writeHead(200, { 'x-auth-user': 'held' }).end();
    expect((await response).status).toBe(200);
    expect(app.requests.at(-1)!.headers['x-auth-user']).toBe('held');
    expect(await active()).toBe(0);
  });
});

describe('literalTarget', () => {
  it('normalises URLs and host:port', () => {
    expect(literalTarget('http://Example.com/x')).toEqual({ scheme: 'http', endpoint: { host: 'example.com', port: 80 }, origin: 'http://example.com:80', hostPort: 'example.com:80' });
    expect(literalTarget('https://a.b:8443')).toEqual({ scheme: 'https', endpoint: { host: 'a.b', port: 8443 }, origin: 'https://a.b:8443', hostPort: 'a.b:8443' });
    expect(literalTarget('HTTPS://a.b')).toEqual({ scheme: 'https', endpoint: { host: 'a.b', port: 443 }, origin: 'https://a.b:443', hostPort: 'a.b:443' });
    expect(literalTarget('127.0.0.1:2046')).toEqual({ scheme: 'http', endpoint: { host: '127.0.0.1', port: 2046 }, origin: 'http://127.0.0.1:2046', hostPort: '127.0.0.1:2046' });
    expect(literalTarget('[::1]:80')).toEqual({ scheme: 'http', endpoint: { host: '::1', port: 80 }, origin: 'http://[::1]:80', hostPort: '[::1]:80' });
    expect(literalTarget('my-cluster')).toBeUndefined();
    expect(literalTarget('host:99999')).toBeUndefined();
  });
});
