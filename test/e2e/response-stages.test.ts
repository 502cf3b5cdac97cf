// Response stages: only filters with a response callback get one, in encoder order (last filter
// first). A request-only filter in the middle of a chain must change neither the order of the
// others' response callbacks nor what a local reply from it goes through.

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
    routes:
      - match: { prefix: / }
        cluster: app
        filters: [first, auth, last]
clusters:
  - name: app
    endpoints: [${app.address}]
filters:
  - name: first
    module: ${bundledFilter('headers')}
    configuration: { request: { add: { x-seen: first } }, response: { set: { x-order: first } } }
  - name: auth
    module: ${bundledFilter('auth')}
    configuration: { allow: { header: authorization, values: [Bearer ok] } }
  - name: last
    module: ${bundledFilter('headers')}
    configuration: { request: { add: { x-seen: last } }, response: { add: { x-order: last } } }
`);
});

afterAll(async () => {
  await proxy.close();
  await app.close();
});

describe('response stages', () => {
  it('run the response callbacks last filter first, past a request-only filter', async () => {
    const res = await send(`${proxy.url()}/a`, { headers: [['authorization', 'Bearer ok']] });
    expect(res.status).toBe(200);
    expect(app.requests.at(-1)!.headers['x-seen']).toBe('first, last');
    // `last` adds its value first, then `first` replaces every value with its own.
    expect(res.all('x-order')).toEqual(['first']);
  });

  it('send a local reply from the request-only filter through the filters that took part', async () => {
    const before = app.requests.length;
    const res = await send(`${proxy.url()}/a`, { headers: [['authorization', 'Bearer no']] });
    expect(res.status).toBe(401);
    expect(res.header('x-auth-denied')).toBe('mismatch');
    // `first` saw the request, so its response callback edits the reply; `last` never ran.
    expect(res.all('x-order')).toEqual(['first']);
    expect(app.requests.length).toBe(before);
  });
});
