// The bundled `auth` filter in static mode: one request header compared with a fixed allow list
// inside the filter, no http_call (the config below has no authorization cluster at all).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledFilter, send, startProxy, startUpstream, tryFilterConfiguration, type TestProxy, type TestUpstream } from '../helpers/proxy.ts';

let app: TestUpstream;
let proxy: TestProxy;

beforeAll(async () => {
  app = await startUpstream();
  proxy = await startProxy(`
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [auth]
    routes:
      - match: { prefix: /custom }
        cluster: app
        filters: [auth-custom]
      - match: { prefix: /list }
        cluster: app
        filters: [auth-list]
      - match: { prefix: / }
        cluster: app
clusters:
  - name: app
    endpoints: [${app.address}]
filters:
  - name: auth
    module: ${bundledFilter('auth')}
    configuration: { allow: { header: Authorization, values: [Bearer bench, Bearer other] } }
  - name: auth-custom
    module: ${bundledFilter('auth')}
    configuration: { allow: { header: x-api-key, values: [k1] }, deny_status: 403, deny_body: "go away\\n" }
  - name: auth-list
    module: ${bundledFilter('auth')}
    configuration: { allow: { header: x-list, values: ["a,b"] } }
`);
});

afterAll(async () => {
  await proxy.close();
  await app.close();
});

describe('auth filter, static mode', () => {
  it('lets a request with an allowed value through, without a client-supplied x-auth-user', async () => {
    const res = await send(`${proxy.url()}/orders`, { headers: [['authorization', 'Bearer bench'], ['x-auth-user', 'mallory']] });
    expect(res.status).toBe(200);
    const forwarded = app.requests.at(-1)!;
    expect(forwarded.url).toBe('/orders');
    expect(forwarded.headers.authorization).toBe('Bearer bench');
    expect(forwarded.headers['x-auth-user']).toBeUndefined();
  });

  it('accepts every listed value', async () => {
    const res = await send(`${proxy.url()}/a`, { headers: [['authorization', 'Bearer other']] });
    expect(res.status).toBe(200);
  });

  it('answers 401 locally when the header is missing', async () => {
    const before = app.requests.length;
    const res = await send(`${proxy.url()}/orders`);
    expect(res.status).toBe(401);
    expect(res.body).toBe('unauthorized\n');
    expect(res.header('x-auth-denied')).toBe('missing');
    expect(app.requests.length).toBe(before);
    await proxy.waitFor((r) => r.msg === 'auth: denied request with 401 (header authorization missing)');
  });

  it('answers 401 for a value that is not listed, including a prefix or an extension of one', async () => {
    const before = app.requests.length;
    for (const value of ['Bearer nope', 'Bearer benc', 'Bearer bench2', 'bearer bench']) {
      const res = await send(`${proxy.url()}/orders`, { headers: [['authorization', value]] });
      expect(res.status).toBe(401);
      expect(res.header('x-auth-denied')).toBe('mismatch');
    }
    expect(app.requests.length).toBe(before);
  });

  it('denies a header sent more than once, even when every occurrence is allowed', async () => {
    const before = app.requests.length;
    // Upstreams differ on which occurrence they read (Node and Go the first, others the last or
    // all of them): a second credential must not ride along with an allowed one.
    for (const values of [['Bearer bench', 'Bearer evil'], ['Bearer evil', 'Bearer bench'], ['Bearer bench', 'Bearer bench'], ['Bearer bench', '']]) {
      const res = await send(`${proxy.url()}/orders`, { headers: values.map((v) => ['Authorization', v] as [string, string]) });
      expect(res.status, values.join(' | ')).toBe(401);
      expect(res.header('x-auth-denied')).toBe('repeated');
    }
    expect(app.requests.length).toBe(before);
    await proxy.waitFor((r) => r.msg === 'auth: denied request with 401 (header authorization repeated)');
  });

  it('compares a repeated header as its values joined with ","', async () => {
    // An allowed value written as a list lets that list through, in one header or split over two.
    const res = await send(`${proxy.url()}/custom`, { headers: [['x-api-key', 'k1, k2'], ['x-api-key', 'k3']] });
    expect(res.status).toBe(403);
    expect(res.header('x-auth-denied')).toBe('repeated');
    const allowed = await send(`${proxy.url()}/list`, { headers: [['x-list', 'a'], ['x-list', 'b']] });
    expect(allowed.status).toBe(200);
    expect(app.requests.at(-1)!.rawHeaders.filter(([name]) => name === 'x-list').map(([, value]) => value)).toEqual(['a', 'b']);
  });

  it('uses deny_status and deny_body', async () => {
    const denied = await send(`${proxy.url()}/custom`, { headers: [['x-api-key', 'k2']] });
    expect(denied.status).toBe(403);
    expect(denied.body).toBe('go away\n');
    const allowed = await send(`${proxy.url()}/custom`, { headers: [['x-api-key', 'k1']] });
    expect(allowed.status).toBe(200);
  });
});

/** Loads the auth filter with `configuration` (YAML). */
const startWith = (configuration: string) => tryFilterConfiguration('auth', configuration);

describe('auth filter, static mode configuration', () => {
  it('refuses service keys next to allow', async () => {
    const { error, filterErrors } = await startWith('{ allow: { header: authorization, values: [x] }, cluster: authz, timeout_ms: 5 }');
    expect(error?.message).toContain('proxy_on_configure returned false');
    expect(filterErrors).toEqual([
      'auth: configuration: cluster cannot be combined with allow',
      'auth: configuration: timeout_ms cannot be combined with allow',
    ]);
  });

  it('refuses an empty value list, an empty value and a missing header', async () => {
    expect((await startWith('{ allow: { header: authorization, values: [] } }')).filterErrors).toEqual([
      'auth: configuration: allow.values must list at least one value',
    ]);
    expect((await startWith('{ allow: { header: authorization, values: [a, ""] } }')).filterErrors).toEqual([
      'auth: configuration: allow.values[1] must not be empty',
    ]);
    expect((await startWith('{ allow: { values: [a] } }')).filterErrors).toEqual(['auth: configuration: allow.header is required']);
  });

  it('refuses unknown keys inside allow', async () => {
    const { error, filterErrors } = await startWith('{ allow: { header: authorization, values: [a], value: b } }');
    expect(error).not.toBeNull();
    expect(filterErrors).toEqual(['auth: configuration: allow.value is not a known key (expected one of: header, values)']);
  });
});
