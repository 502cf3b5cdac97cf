// Body rewriting with buffering (the bundled `body-rewrite` filter pauses until end of stream),
// with Content-Length corrected for the new length in both directions.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledFilter, send, startProxy, startUpstream, type TestProxy, type TestUpstream } from '../helpers/proxy.ts';

let upstream: TestUpstream;
let proxy: TestProxy;

beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    if (req.url === '/stream') {
      // Chunked response in several pieces.
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('the cat ');
      setTimeout(() => res.write('chased the '), 5);
      setTimeout(() => res.end('cat away'), 10);
      return;
    }
    const body = `upstream got: ${req.body}`;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
  });
  const config = JSON.stringify({
    request: { replace: [['apple', 'pineapple']] },
    response: { replace: [['cat', 'lion'], ['upstream', 'origin']] },
  });
  proxy = await startProxy(`
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [rewrite]
    routes:
      - match: { prefix: /echo }
        echo: true
      - match: { prefix: /small }
        cluster: app
        max_request_body_bytes: 16
      - match: { prefix: / }
        cluster: app
  - name: chain
    address: 127.0.0.1:0
    filters: [tag, rewrite, tag-again]
    routes:
      - match: { prefix: / }
        cluster: app
  - name: guarded
    address: 127.0.0.1:0
    filters: [rewrite, guard]
    routes:
      - match: { prefix: / }
        cluster: app
        max_response_body_bytes: 8
clusters:
  - name: app
    endpoints: [${upstream.address}]
filters:
  - name: rewrite
    module: ${bundledFilter('body-rewrite')}
    configuration: '${config}'
  - name: tag
    module: ${bundledFilter('headers')}
    configuration: '{"request": {"add": {"x-tag": "1"}}, "response": {"add": {"x-tagged": "1"}}}'
  - name: tag-again
    module: ${bundledFilter('headers')}
    configuration: '{"request": {"add": {"x-tag": "2"}}, "response": {"add": {"x-tagged": "2"}}}'
  - name: guard
    module: ${bundledFilter('auth')}
    configuration: '{"allow": {"header": "authorization", "values": ["Bearer ok"]}}'
`);
});

afterAll(async () => {
  await proxy.close();
  await upstream.close();
});

describe('body rewriting', () => {
  it('rewrites a request body sent with Content-Length and fixes the length upstream', async () => {
    const res = await send(`${proxy.url()}/x`, { body: 'an apple a day' });
    const got = upstream.requests.at(-1)!;
    expect(got.body).toBe('an pineapple a day');
    expect(got.headers['content-length']).toBe(String('an pineapple a day'.length));
    expect(res.body).toBe('origin got: an pineapple a day');
    expect(res.header('content-length')).toBe(String(res.body.length));
  });

  it('an echo route shows the rewritten body with its new Content-Length', async () => {
    const res = await send(`${proxy.url()}/echo`, { body: 'an apple a day' });
    expect(res.status).toBe(200);
    const echoed = JSON.parse(res.body) as { body: string; headers: [string, string][] };
    expect(echoed.body).toBe('an pineapple a day');
    expect(echoed.headers.filter(([name]) => name === 'content-length')).toEqual([['content-length', String('an pineapple a day'.length)]]);
  });

  it('buffers a chunked request body sent in pieces and rewrites across chunk boundaries', async () => {
    const res = await send(`${proxy.url()}/x`, { chunks: ['ap', 'ple and ', 'app', 'le'] });
    expect(upstream.requests.at(-1)!.body).toBe('pineapple and pineapple');
    expect(res.status).toBe(200);
  });

  it('buffers a chunked response and rewrites the whole body', async () => {
    const res = await send(`${proxy.url()}/stream`);
    expect(res.status).toBe(200);
    expect(res.body).toBe('the lion chased the lion away');
    expect(res.header('content-length')).toBe(String(res.body.length));
  });

  it('answers 413 when a buffering filter exceeds the route body limit', async () => {
    const before = upstream.requests.length;
    const res = await send(`${proxy.url()}/small`, { body: 'x'.repeat(64) });
    expect(res.status).toBe(413);
    expect((await send(`${proxy.url()}/small`, { body: 'y'.repeat(64) })).status).toBe(413);
    expect(upstream.requests.length).toBe(before);
    // A client can send that with every request: one warning per 10 s, not one per request.
    expect(proxy.logs.filter((r) => r.msg === 'request_payload_too_large: body buffering limit exceeded')).toHaveLength(1);
  });

  // `guard` (auth) has no response callback, so the response runs `rewrite` alone: the limit's
  // warning must name the filter that buffered, not the one at its place in the whole chain.
  it('answers 502 when a buffering filter exceeds the response limit, and names that filter', async () => {
    const from = proxy.logs.length;
    const res = await send(`${proxy.url('guarded')}/stream`, { headers: [['authorization', 'Bearer ok']] });
    expect(res.status).toBe(502);
    const warning = proxy.logs.slice(from).find((r) => r.msg?.startsWith('response_payload_too_large'));
    expect(warning?.filter).toBe('rewrite');
  });
});

// `headers` exports no body callbacks: its stages pass body chunks on without calling it, around
// a filter that buffers and rewrites them.
describe('body rewriting between filters without body callbacks', () => {
  it('a request body sent in pieces reaches the rewrite, then the upstream, once and in order', async () => {
    const res = await send(`${proxy.url('chain')}/x`, { chunks: ['ap', 'ple and ', 'app', 'le'] });
    const got = upstream.requests.at(-1)!;
    expect(got.body).toBe('pineapple and pineapple');
    expect(got.headers['x-tag']).toBe('1, 2');
    expect(res.body).toBe('origin got: pineapple and pineapple');
  });

  it('a chunked response reaches the rewrite and the client whole, with both filters\' headers', async () => {
    const res = await send(`${proxy.url('chain')}/stream`);
    expect(res.status).toBe(200);
    expect(res.body).toBe('the lion chased the lion away');
    expect(res.header('content-length')).toBe(String(res.body.length));
    expect(res.headers.filter(([name]) => name === 'x-tagged')).toEqual([['x-tagged', '2'], ['x-tagged', '1']]);
  });
});

describe('uploads', () => {
  it('forwards a chunked upload sent with Expect: 100-continue (the proxy answers the 100 itself)', async () => {
    const res = await send(`${proxy.url()}/x`, { headers: [['expect', '100-continue']], chunks: ['an ', 'apple'] });
    expect(res.status).toBe(200);
    const got = upstream.requests.at(-1)!;
    expect(got.body).toBe('an pineapple');
    expect(got.headers.expect).toBeUndefined();
  });
});

describe('body rewriting limited to content types', () => {
  let typed: TestUpstream;
  let typedProxy: TestProxy;

  beforeAll(async () => {
    // Answers with the content type the request names in x-type (none when absent).
    typed = await startUpstream((req, res) => {
      const type = req.headers['x-type'];
      res.writeHead(200, typeof type === 'string' ? { 'content-type': type } : {});
      res.end('a cat');
    });
    const config = JSON.stringify({ response: { replace: [['cat', 'lion']] }, content_types: ['Text/', 'application/json'] });
    typedProxy = await startProxy(`
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [rewrite]
    routes:
      - match: { prefix: / }
        cluster: app
clusters:
  - name: app
    endpoints: [${typed.address}]
filters:
  - name: rewrite
    module: ${bundledFilter('body-rewrite')}
    configuration: '${config}'
`);
  });

  afterAll(async () => {
    await typedProxy.close();
    await typed.close();
  });

  it.each([
    ['text/plain', 'a lion'],
    ['TEXT/Plain; charset=utf-8', 'a lion'], // prefixes match case-insensitively
    ['application/json', 'a lion'],
    ['application/jso', 'a cat'], // shorter than the prefix
    ['image/png', 'a cat'],
    [null, 'a cat'], // no content type at all
  ])('content type %s: body %s', async (type, expected) => {
    const res = await send(`${typedProxy.url()}/x`, { headers: type === null ? [] : [['x-type', type]] });
    expect(res.status).toBe(200);
    expect(res.body).toBe(expected);
  });
});
