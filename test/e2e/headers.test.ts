// Header editing in both directions through the bundled `headers` filter, with duplicates and
// order preserved end to end.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledFilter, send, startProxy, startUpstream, tryFilterConfiguration, type TestProxy, type TestUpstream } from '../helpers/proxy.ts';

let upstream: TestUpstream;
let proxy: TestProxy;

/** A proxy with one listener whose `headers` filter has `configuration` (JSON), in front of the upstream. */
function headersProxy(configuration: string): Promise<TestProxy> {
  return startProxy(`
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [headers]
    routes:
      - match: { prefix: / }
        cluster: app
clusters:
  - name: app
    endpoints: [${upstream.address}]
filters:
  - name: headers
    module: ${bundledFilter('headers')}
    configuration: '${configuration}'
`);
}

beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    res.writeHead(200, [
      ['content-type', 'text/plain'],
      ['set-cookie', 'a=1'],
      ['x-secret', 'hidden'],
      ['set-cookie', 'b=2'],
      ['x-version', 'old'],
      ['set-cookie', 'c=3'],
    ].flat());
    res.end(`seen ${req.method} ${req.url}`);
  });
  const config = JSON.stringify({
    request: { add: { 'x-added': 'yes', 'x-multi': 'second' }, set: { 'x-replaced': 'new' }, remove: ['x-drop'] },
    response: { add: { 'x-powered-by': 'sluice' }, set: { 'x-version': 'new' }, remove: ['x-secret'] },
  });
  proxy = await headersProxy(config);
});

afterAll(async () => {
  await proxy.close();
  await upstream.close();
});

describe('header editing', () => {
  it('adds, replaces and removes request headers before they go upstream', async () => {
    const res = await send(`${proxy.url()}/path?q=1`, {
      headers: [
        ['x-drop', 'please'],
        ['x-replaced', 'old-1'],
        ['x-replaced', 'old-2'],
        ['x-multi', 'first'],
      ],
    });
    expect(res.status).toBe(200);
    const got = upstream.requests.at(-1)!;
    expect(got.url).toBe('/path?q=1');
    const names = got.rawHeaders.map(([n]) => n.toLowerCase());
    expect(names).not.toContain('x-drop');
    expect(got.rawHeaders.filter(([n]) => n === 'x-replaced')).toEqual([['x-replaced', 'new']]);
    expect(got.rawHeaders.filter(([n]) => n === 'x-multi').map(([, v]) => v)).toEqual(['first', 'second']);
    expect(got.headers['x-added']).toBe('yes');
  });

  it('edits response headers on the way back and keeps repeated Set-Cookie in order', async () => {
    const res = await send(proxy.url());
    expect(res.status).toBe(200);
    expect(res.header('x-powered-by')).toBe('sluice');
    expect(res.all('x-version')).toEqual(['new']);
    expect(res.header('x-secret')).toBeUndefined();
    expect(res.all('set-cookie')).toEqual(['a=1', 'b=2', 'c=3']);
    expect(res.body).toBe('seen GET /');
  });

  it('sends the client Host as the upstream Host (:authority) and keeps request duplicates in order', async () => {
    await send(proxy.url(), {
      headers: [
        ['host', 'app.example.com'],
        ['x-dup', '1'],
        ['x-other', 'z'],
        ['x-dup', '2'],
      ],
    });
    const got = upstream.requests.at(-1)!;
    expect(got.headers.host).toBe('app.example.com');
    const dupes = got.rawHeaders.filter(([n]) => n === 'x-dup' || n === 'x-other').map(([n, v]) => `${n}=${v}`);
    expect(dupes).toEqual(['x-dup=1', 'x-other=z', 'x-dup=2']);
  });

  it('sends no hop-by-hop header a filter added, and a host a filter set as the Host', async () => {
    const added = { 'transfer-encoding': 'chunked', upgrade: 'websocket', 'keep-alive': 'timeout=5', connection: 'x-a', expect: '100-continue', te: 'trailers', 'proxy-connection': 'keep-alive', host: 'rewritten.example', 'x-kept': 'yes' };
    const edited = await headersProxy(JSON.stringify({ request: { add: added } }));
    try {
      const res = await send(`${edited.url()}/hop`);
      expect(res.status).toBe(200);
      const got = upstream.requests.at(-1)!;
      expect(got.url).toBe('/hop');
      expect(got.headers['x-kept']).toBe('yes');
      expect(got.headers.host).toBe('rewritten.example');
      for (const name of ['transfer-encoding', 'upgrade', 'keep-alive', 'expect', 'te', 'proxy-connection']) expect(got.headers[name], name).toBeUndefined();
      expect(got.headers.connection).toBe('keep-alive'); // undici's own, for its pooled connection
    } finally {
      await edited.close();
    }
  });

  it('sends the client no hop-by-hop header a filter added to the response, but a proxy-authenticate', async () => {
    const added = { upgrade: 'filter', 'keep-alive': 'filter', connection: 'filter', te: 'filter', trailer: 'filter', 'proxy-connection': 'filter', 'proxy-authenticate': 'Basic realm="filter"', 'x-kept': 'yes' };
    const edited = await headersProxy(JSON.stringify({ response: { add: added } }));
    try {
      const res = await send(edited.url());
      expect(res.status).toBe(200);
      expect(res.header('x-kept')).toBe('yes');
      expect(res.header('proxy-authenticate')).toBe('Basic realm="filter"');
      // Node writes its own connection and keep-alive; none of the filter's values gets through.
      for (const name of ['upgrade', 'keep-alive', 'connection', 'te', 'trailer', 'proxy-connection']) expect(res.all(name), name).not.toContain('filter');
    } finally {
      await edited.close();
    }
  });

  it('strips hop-by-hop headers and adds forwarding headers', async () => {
    await send(proxy.url(), { headers: [['connection', 'keep-alive, x-hop'], ['x-hop', 'gone'], ['x-request-id', 'rid-1']] });
    const got = upstream.requests.at(-1)!;
    expect(got.headers['x-hop']).toBeUndefined();
    expect(got.headers['x-request-id']).toBe('rid-1');
    expect(got.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(got.headers['x-forwarded-proto']).toBe('http');
  });
});

/** Loads the headers filter with `configuration` (JSON, quoted for YAML). */
const startWith = (configuration: string) => tryFilterConfiguration('headers', `'${configuration}'`);

describe('header editing configuration', () => {
  it('refuses names and values HTTP cannot carry when it is configured, naming each', async () => {
    const { error, filterErrors } = await startWith(
      JSON.stringify({ request: { add: { 'x-a': 'one\r\ntwo', 'bad name': 'v' }, remove: ['ok', 'no:colon'] }, response: { set: { 'x-b': 'nul\u0000' } } }),
    );
    expect(error?.message).toContain('proxy_on_configure returned false');
    expect(filterErrors).toEqual([
      'headers: configuration: request.remove[1] is not a valid header name',
      'headers: configuration: request.add.x-a has a control character (CR, LF, NUL, ...) HTTP does not allow in a value',
      'headers: configuration: request.add.bad name is not a valid header name',
      'headers: configuration: response.set.x-b has a control character (CR, LF, NUL, ...) HTTP does not allow in a value',
    ]);
  });

  it('accepts tabs, non-ASCII text and pseudo-headers', async () => {
    const { error } = await startWith(JSON.stringify({ request: { set: { ':path': '/p', 'x-t': 'a\tb', 'x-u': 'caf\u00e9' } } }));
    expect(error).toBeNull();
  });
});
