// http_call targets as other hosts write them: a URL (MOSN) or host:port (Kong) works only when
// the filter lists it in `http_call_hosts`; anything else is BAD_ARGUMENT with a log line.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { literalTarget } from '../../src/proxy/http-call.ts';
import { bundledFilter, send, startProxy, startUpstream, type TestProxy, type TestUpstream } from '../helpers/proxy.ts';

let app: TestUpstream;
let authz: TestUpstream;
let proxy: TestProxy;
/** A cluster name no log line should carry whole. */
const LONG_NAME = `n${'o'.repeat(4999)}`;

beforeAll(async () => {
  app = await startUpstream();
  authz = await startUpstream((_req, res) => {
    res.writeHead(200, { 'x-auth-user': 'literal' });
    res.end();
  });
  const auth = (target: string) => JSON.stringify({ cluster: target, path: '/check', authority: 'authz' });
  proxy = await startProxy(`
listeners:
  - name: main
    address: 127.0.0.1:0
    routes:
      - { match: { prefix: /url }, cluster: app, filters: [by-url] }
      - { match: { prefix: /hostport }, cluster: app, filters: [by-hostport] }
      - { match: { prefix: /denied }, cluster: app, filters: [not-allowed] }
      - { match: { prefix: /long }, cluster: app, filters: [long-name] }
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
`);
});

afterAll(async () => {
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

describe('literalTarget', () => {
  it('normalises URLs and host:port', () => {
    expect(literalTarget('http://Example.com/x')).toEqual({ origin: 'http://example.com', hostPort: 'example.com:80' });
    expect(literalTarget('https://a.b:8443')).toEqual({ origin: 'https://a.b:8443', hostPort: 'a.b:8443' });
    expect(literalTarget('127.0.0.1:2046')).toEqual({ origin: 'http://127.0.0.1:2046', hostPort: '127.0.0.1:2046' });
    expect(literalTarget('[::1]:80')).toEqual({ origin: 'http://[::1]:80', hostPort: '[::1]:80' });
    expect(literalTarget('my-cluster')).toBeUndefined();
    expect(literalTarget('host:99999')).toBeUndefined();
  });
});
