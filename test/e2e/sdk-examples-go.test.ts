// Conformance with the proxy-wasm-go-sdk examples (examples/*/main.go) and their e2e test
// (e2e/e2e_test.go): the same requests, answers and log lines, against behaviour-alike filters
// in test/fixtures/as/go-sdk-examples (one module; `root_id` picks the example). Where the
// example is random, the fixture is deterministic (see each describe). Reference §9.2.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startProxy, startUpstream, type LogRecord, type TestProxy, type TestUpstream } from '../helpers/proxy.ts';

const MODULE = join(import.meta.dirname, '..', 'fixtures', 'build', 'go-sdk-examples.wasm');

/** A filter running one example of the module. */
function filter(name: string, rootId: string, extra = ''): string {
  return `
  - name: ${name}
    module: ${MODULE}
    root_id: ${rootId}${extra}`;
}

const isGuestLog = (msg: string) => (r: LogRecord) => r.wasm !== undefined && r.msg === msg;

/** FNV-1a 32 (Go's hash/fnv New32a), the decision function of http_auth_random. */
function fnv32a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}

/** The first `{"uuid": "<n>"}` body whose hash has the given parity. */
function uuidBodyWithParity(parity: 0 | 1): string {
  for (let n = 0; ; n++) {
    const body = `{"uuid": "${n}"}`;
    if (fnv32a(body) % 2 === parity) return body;
  }
}

describe('http_headers', () => {
  let web: TestUpstream;
  let proxy: TestProxy;

  beforeAll(async () => {
    web = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('example body\n');
    });
    proxy = await startProxy(`
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [http_headers]
    routes:
      - match: { prefix: / }
        cluster: web_service
clusters:
  - name: web_service
    endpoints: [${web.address}]
filters:${filter('http_headers', 'http_headers', `
    configuration: |
      {
        "header": "x-wasm-header",
        "value": "demo-wasm"
      }`)}
`);
  });

  afterAll(async () => {
    await proxy?.close();
    await web?.close();
  });

  it('reads its plugin configuration as JSON', () => {
    expect(proxy.wasmLogs()).toEqual(['header from config: x-wasm-header = demo-wasm']);
  });

  it('adds the configured and the constant response header, sets test: best upstream, logs both maps', async () => {
    const res = await send(`${proxy.url()}/uuid`, { headers: [['this-is-key', 'this-is-value']] });
    expect(res.status).toBe(200);
    expect(res.body).toBe('example body\n');
    expect(res.header('x-wasm-header')).toBe('demo-wasm');
    expect(res.header('x-proxy-wasm-go-sdk-example')).toBe('http_headers');
    expect(web.requests.at(-1)!.headers['test']).toBe('best');

    await proxy.waitFor(isGuestLog('2 finished'));
    const logs = proxy.wasmLogs();
    const requestLines = logs.filter((l) => l.startsWith('request header --> '));
    expect(requestLines.map((l) => l.slice('request header --> '.length).split(': ')[0])).toEqual([
      ':authority', ':path', ':method', ':scheme', 'this-is-key', 'x-request-id', 'x-forwarded-for', 'x-forwarded-proto', 'test',
    ]);
    expect(requestLines).toContain('request header --> :path: /uuid');
    expect(requestLines).toContain('request header --> this-is-key: this-is-value');
    expect(requestLines).toContain('request header --> test: best');
    expect(logs).toContain('adding header: x-wasm-header=demo-wasm');
    const responseLines = logs.filter((l) => l.startsWith('response header <-- '));
    expect(responseLines[0]).toBe('response header <-- :status: 200');
    expect(responseLines.slice(-2)).toEqual([
      'response header <-- x-proxy-wasm-go-sdk-example: http_headers',
      'response header <-- x-wasm-header: demo-wasm',
    ]);
    expect(logs.at(-1)).toBe('2 finished');
  });

  it('refuses a configuration without header and value (OnPluginStart fails)', async () => {
    await expect(
      startProxy(`
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [http_headers]
    routes:
      - match: { prefix: / }
        direct_response: { status: 200 }
filters:${filter('http_headers', 'http_headers', `
    configuration: { header: x-wasm-header }`)}
`),
    ).rejects.toThrow(/proxy_on_configure returned false/);
  });
});

describe('http_body', () => {
  // As in the example's envoy.yaml: the "body-set" filter in front of an "echo" filter that
  // answers every request with its body (here a second proxy, so no port has to be guessed).
  // Behind the echo filter, an upstream that must never answer first.
  let admin: TestUpstream;
  let echo: TestProxy;
  let proxy: TestProxy;

  beforeAll(async () => {
    admin = await startUpstream((_req, res) => {
      res.writeHead(500);
      res.end('the echo filter did not answer\n');
    });
    echo = await startProxy(`
listeners:
  - name: echo
    address: 127.0.0.1:0
    filters: [http_body]
    routes:
      - match: { prefix: / }
        cluster: admin
clusters:
  - name: admin
    endpoints: [${admin.address}]
filters:${filter('http_body', 'http_body', `
    configuration: echo`)}
`);
    proxy = await startProxy(`
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [http_body]
    routes:
      - match: { prefix: / }
        cluster: echo
clusters:
  - name: echo
    endpoints: ["${new URL(echo.url()).host}"]
filters:${filter('http_body', 'http_body', `
    configuration: body-set`)}
`);
  });

  afterAll(async () => {
    await proxy?.close();
    await echo?.close();
    await admin?.close();
  });

  const cases = [
    { op: 'append', body: '[original body][this is appended body]' },
    { op: 'prepend', body: '[this is prepended body][original body]' },
    { op: 'replace', body: '[this is replaced body]' },
    { op: 'invalid', body: '[this is replaced body]' }, // unknown operations fall back to replace
  ];

  for (const mode of ['request', 'response']) {
    for (const { op, body } of cases) {
      it(`${op} on the ${mode} body`, async () => {
        const before = proxy.logs.length;
        const res = await send(`${proxy.url()}/anything`, {
          method: 'PUT',
          body: '[original body]',
          headers: [
            ['content-length', '15'], // Go's client sends one; Node's does not with raw headers
            ['buffer-replace-at', mode],
            ['buffer-operation', op],
          ],
        });
        expect(res.status).toBe(200);
        expect(res.body).toBe(body);
        const logged = proxy.logs.slice(before).filter((r) => r.wasm !== undefined).map((r) => r.msg);
        expect(logged).toEqual([`original ${mode} body: [original body]`]);
      });
    }
  }

  it('answers 400 to a request without content-length', async () => {
    const res = await send(`${proxy.url()}/anything`, { method: 'PUT', chunks: ['[original ', 'body]'] });
    expect(res.status).toBe(400);
    expect(res.body).toBe('content must be provided');
  });
});

describe('http_auth_random', () => {
  // Deterministic stand-in for httpbin: the forwarded request headers carry `x-decision`, and the
  // body is chosen so that its FNV-1a hash (the example's coin) is even (grant) or odd (deny).
  const GRANT = uuidBodyWithParity(0);
  const DENY = uuidBodyWithParity(1);
  let httpbin: TestUpstream;
  let proxy: TestProxy;

  beforeAll(async () => {
    httpbin = await startUpstream((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.headers['x-decision'] === 'deny' ? DENY : GRANT);
    });
    proxy = await startProxy(`
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [http_auth_random]
    routes:
      - match: { prefix: / }
        cluster: httpbin
clusters:
  - name: httpbin
    endpoints: [${httpbin.address}]
filters:${filter('http_auth_random', 'http_auth_random')}
`);
  });

  afterAll(async () => {
    await proxy?.close();
    await httpbin?.close();
  });

  it('sends the request headers to httpbin, then lets the request through ("access granted")', async () => {
    expect(fnv32a(GRANT) % 2).toBe(0);
    const res = await send(`${proxy.url()}/uuid`, { headers: [['this-is-key', 'this-is-value'], ['x-decision', 'grant']] });
    expect(res.status).toBe(200);
    expect(res.body).toBe(GRANT);
    // First the call (with the stream's own headers), then the forwarded request.
    expect(httpbin.requests.map((r) => r.url)).toEqual(['/uuid', '/uuid']);
    expect(httpbin.requests[0]!.headers['this-is-key']).toBe('this-is-value');
    expect(httpbin.requests[0]!.headers.host).toBe(new URL(proxy.url()).host);
    const logs = proxy.wasmLogs();
    expect(logs).toContain('request header: this-is-key: this-is-value');
    expect(logs).toContain('http call dispatched to httpbin');
    expect(logs).toContain('response header from httpbin: :status: 200');
    expect(logs).toContain('response header from httpbin: content-type: application/json');
    expect(logs.at(-1)).toBe('access granted');
  });

  it('answers 403 "access forbidden" when the coin says so', async () => {
    expect(fnv32a(DENY) % 2).toBe(1);
    const calls = httpbin.requests.length;
    const res = await send(`${proxy.url()}/uuid`, { headers: [['x-decision', 'deny']] });
    expect(res.status).toBe(403);
    expect(res.body).toBe('access forbidden');
    expect(res.header('powered-by')).toBe('proxy-wasm-go-sdk!!');
    expect(httpbin.requests.length).toBe(calls + 1); // the call only; nothing forwarded
    expect(proxy.wasmLogs().at(-1)).toBe('access forbidden');
  });
});

describe('postpone_requests', () => {
  let proxy: TestProxy;

  beforeAll(async () => {
    proxy = await startProxy(`
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [postpone_requests]
    routes:
      - match: { prefix: / }
        direct_response: { status: 200, body: "example body\\n" }
filters:${filter('postpone_requests', 'postpone_requests')}
`);
  });

  afterAll(() => proxy?.close());

  it('holds the first request (context 2) until the root ticks, then resumes it from on_tick', async () => {
    const res = await send(proxy.url());
    expect(res.status).toBe(200);
    expect(res.body).toBe('example body\n');
    expect(proxy.wasmLogs()).toEqual(['postpone request with contextID=2', 'resume request with contextID=2']);
    // The request was answered (its access-log line) only after the tick resumed it.
    const resumed = proxy.logs.findIndex(isGuestLog('resume request with contextID=2'));
    const answered = proxy.logs.findIndex((r) => r.access !== undefined);
    expect(resumed).toBeGreaterThan(-1);
    expect(answered).toBeGreaterThan(resumed);
    expect(proxy.logs[resumed]!.wasm.context_id).toBe(1); // logged by the root, from on_tick
  });
});

describe('dispatch_call_on_tick', () => {
  // Two filters on one VM (same module, same vm_id): roots 1 and 2, each ticking every 100 ms
  // and calling web_service. Deviation: odd ticks ask /ok and even ticks /fail (the example
  // flips a random coin), so each root's answers alternate 200, 503, 200, ...
  let web: TestUpstream;
  let proxy: TestProxy;

  beforeAll(async () => {
    web = await startUpstream((req, res) => {
      if (req.url === '/ok') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('example body\n');
      } else {
        res.writeHead(503);
        res.end();
      }
    });
    proxy = await startProxy(`
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [plugin1, plugin2]
    routes:
      - match: { prefix: / }
        cluster: web_service
clusters:
  - name: web_service
    endpoints: [${web.address}]
filters:${filter('plugin1', 'dispatch_call_on_tick', `
    configuration: plugin1`)}${filter('plugin2', 'dispatch_call_on_tick', `
    configuration: plugin2`)}
`);
  });

  afterAll(async () => {
    await proxy?.close();
    await web?.close();
  });

  it('ticks each root and delivers each call back to the root that made it', async () => {
    await proxy.waitFor(isGuestLog('called 5 for contextID=1'), 5000);
    await proxy.waitFor(isGuestLog('called 5 for contextID=2'), 5000);
    const guest = proxy.logs.filter((r) => r.wasm !== undefined);
    for (const [plugin, contextId] of [['plugin1', 1], ['plugin2', 2]] as const) {
      const own = guest.filter((r) => r.plugin === plugin);
      expect(own.every((r) => r.wasm.context_id === contextId)).toBe(true);
      expect(own[0]!.msg).toBe('set tick period milliseconds: 100');
      // Each callback: "called N", then the response headers; N odd asked /ok, N even /fail.
      const statuses: string[] = [];
      const called: string[] = [];
      for (const r of own) {
        if (r.msg!.startsWith('called ')) called.push(r.msg!);
        if (r.msg!.startsWith('response header for the dispatched call: :status: ')) statuses.push(r.msg!.slice(-3));
      }
      expect(called.slice(0, 5)).toEqual([1, 2, 3, 4, 5].map((n) => `called ${n} for contextID=${contextId}`));
      expect(statuses.slice(0, 5)).toEqual(['200', '503', '200', '503', '200']);
    }
    const messages = guest.map((r) => r.msg);
    expect(messages).toContain('response header for the dispatched call: :status: 200');
    expect(messages).toContain('response header for the dispatched call: :status: 503');
    const call = web.requests[0]!;
    expect(call.method).toBe('GET');
    expect(call.headers.host).toBe('some_authority');
    expect(call.headers.accept).toBe('*/*');
  });
});

describe('multiple_dispatches', () => {
  let httpbin: TestUpstream;
  let proxy: TestProxy;

  beforeAll(async () => {
    httpbin = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('httpbin\n');
    });
    proxy = await startProxy(`
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [multiple_dispatches]
    routes:
      - match: { prefix: / }
        cluster: httpbin
clusters:
  - name: httpbin
    endpoints: [${httpbin.address}]
filters:${filter('multiple_dispatches', 'multiple_dispatches')}
`);
  });

  afterAll(async () => {
    await proxy?.close();
    await httpbin?.close();
  });

  it('holds the response for ten calls from on_response_headers, then resumes it', async () => {
    const res = await send(proxy.url());
    expect(res.status).toBe(200);
    expect(res.body).toBe('httpbin\n');
    expect(res.header('total-dispatched')).toBe('10');
    expect(proxy.wasmLogs()).toEqual([
      ...[9, 8, 7, 6, 5, 4, 3, 2, 1].map((n) => `pending dispatched requests: ${n}`),
      'response resumed after processed 10 dispatched request',
    ]);
    // The forwarded request, then the ten calls, sent with an empty :authority as in the example.
    expect(httpbin.requests.length).toBe(11);
    expect(httpbin.requests.slice(1).map((r) => [r.method, r.url, r.headers.host])).toEqual(Array(10).fill(['GET', '/', '']));
  });
});

describe('vm_plugin_configuration', () => {
  let proxy: TestProxy;

  beforeAll(async () => {
    proxy = await startProxy(`
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [vm_plugin_configuration]
    routes:
      - match: { prefix: / }
        direct_response: { status: 200, body: "example body\\n" }
filters:${filter('vm_plugin_configuration', 'vm_plugin_configuration', `
    configuration: |
      {
        "name": "plugin configuration"
      }
    vm_configuration: |
      {
        "name": "vm configuration"
      }`)}
`);
  });

  afterAll(() => proxy?.close());

  it('logs the VM configuration from on_vm_start and the plugin configuration from on_configure', async () => {
    expect(proxy.wasmLogs()).toEqual([
      'vm config: {\n  "name": "vm configuration"\n}\n',
      'plugin config: {\n  "name": "plugin configuration"\n}\n',
    ]);
    const res = await send(proxy.url());
    expect(res.body).toBe('example body\n');
  });
});

describe('json_validation', () => {
  let web: TestUpstream;
  let proxy: TestProxy;

  beforeAll(async () => {
    web = await startUpstream();
    proxy = await startProxy(`
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [json_validation]
    routes:
      - match: { prefix: / }
        cluster: web_service
clusters:
  - name: web_service
    endpoints: [${web.address}]
filters:${filter('json_validation', 'json_validation', `
    configuration: |
      { "requiredKeys": ["id", "token"] }`)}
`);
  });

  afterAll(async () => {
    await proxy?.close();
    await web?.close();
  });

  const JSON_TYPE: [string, string] = ['content-type', 'application/json'];
  const VALID = '{"id": "abc123", "token": "xyz456"}';

  it('answers 403 to a GET (no content-type)', async () => {
    const res = await send(proxy.url());
    expect(res.status).toBe(403);
    expect(res.body).toBe('content-type must be provided');
    expect(web.requests.length).toBe(0);
  });

  it('answers 403 to a POST that is not application/json', async () => {
    const res = await send(proxy.url(), { body: VALID, headers: [['content-type', 'text/plain']] });
    expect(res.status).toBe(403);
    expect(res.body).toBe('content-type must be provided');
  });

  it('lets a JSON body with every required key through, unchanged', async () => {
    const res = await send(proxy.url(), { body: VALID, headers: [JSON_TYPE] });
    expect(res.status).toBe(200);
    expect(web.requests.at(-1)!.body).toBe(VALID);
  });

  it('buffers a chunked body to its end before validating it', async () => {
    const res = await send(proxy.url(), { chunks: ['{"id": "abc123", ', '"token": ', '"xyz456"}'], headers: [JSON_TYPE] });
    expect(res.status).toBe(200);
    expect(web.requests.at(-1)!.body).toBe(VALID);
  });

  it('answers 403 "invalid payload" when a required key is missing', async () => {
    const before = web.requests.length;
    const res = await send(proxy.url(), { body: '{"id": "abc123"}', headers: [JSON_TYPE] });
    expect(res.status).toBe(403);
    expect(res.body).toBe('invalid payload');
    expect(proxy.wasmLogs().at(-1)).toBe('required key (token) is missing: {"id": "abc123"}');
    expect(web.requests.length).toBe(before);
  });

  it('answers 403 "invalid payload" to a body that is not JSON', async () => {
    const res = await send(proxy.url(), { body: 'not json', headers: [JSON_TYPE] });
    expect(res.status).toBe(403);
    expect(res.body).toBe('invalid payload');
    expect(proxy.wasmLogs().at(-1)).toBe('body is not a valid json: "not json"');
  });
});

describe('http_routing', () => {
  // Deviation: the example routes a random half of the requests to the canary; the fixture's
  // dice is a request counter, so odd requests stay on primary and even ones go to the canary.
  let primary: TestUpstream;
  let canary: TestUpstream;
  let proxy: TestProxy;

  beforeAll(async () => {
    primary = await startUpstream((_req, res) => res.end('hello from primary!\n'));
    canary = await startUpstream((_req, res) => res.end('hello from canary!\n'));
    proxy = await startProxy(`
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [http_routing]
    routes:
      - match: { host: example.com-canary }
        cluster: canary
      - match: { prefix: / }
        cluster: primary
clusters:
  - name: primary
    endpoints: [${primary.address}]
  - name: canary
    endpoints: [${canary.address}]
filters:${filter('http_routing', 'http_routing')}
`);
  });

  afterAll(async () => {
    await proxy?.close();
    await primary?.close();
    await canary?.close();
  });

  it('routes by the :authority the filter rewrote: both primary and canary answer', async () => {
    const bodies: string[] = [];
    for (let i = 0; i < 4; i++) bodies.push((await send(proxy.url(), { headers: [['host', 'example.com']] })).body);
    expect(bodies).toEqual(['hello from primary!\n', 'hello from canary!\n', 'hello from primary!\n', 'hello from canary!\n']);
    expect(canary.requests.map((r) => r.headers.host)).toEqual(['example.com-canary', 'example.com-canary']);
    expect(primary.requests.map((r) => r.headers.host)).toEqual(['example.com', 'example.com']);
    expect(proxy.wasmLogs()).toEqual(['value: 1\n', 'value: 2\n', 'value: 3\n', 'value: 4\n']);
  });
});

describe('properties', () => {
  let web: TestUpstream;
  let proxy: TestProxy;

  beforeAll(async () => {
    web = await startUpstream((_req, res) => res.end('example body\n'));
    proxy = await startProxy(`
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [properties]
    routes:
      - match: { prefix: /one }
        cluster: web_service
        metadata:
          filter_metadata:
            envoy.filters.http.wasm: { auth: cookie }
      - match: { prefix: /two }
        cluster: web_service
        metadata:
          filter_metadata:
            envoy.filters.http.wasm: { auth: authorization }
      - match: { prefix: /three }
        cluster: web_service
clusters:
  - name: web_service
    endpoints: [${web.address}]
filters:${filter('properties', 'properties')}
`);
  });

  afterAll(async () => {
    await proxy?.close();
    await web?.close();
  });

  it('requires the header the route metadata names (401 without it)', async () => {
    const table: Array<[string, [string, string][], number]> = [
      ['/one', [], 401],
      ['/one', [['cookie', 'value']], 200],
      ['/two', [], 401],
      ['/two', [['authorization', 'token']], 200],
      ['/three', [], 200],
    ];
    for (const [path, headers, status] of table) {
      const res = await send(`${proxy.url()}${path}`, { headers });
      expect([path, headers.length, res.status]).toEqual([path, headers.length, status]);
      if (status === 401) expect(res.body).toBe('');
    }
    expect(web.requests.map((r) => r.url)).toEqual(['/one', '/two', '/three']);
    await proxy.waitFor(isGuestLog('6 finished'));
    expect(proxy.wasmLogs()).toEqual([
      'auth header is "cookie"',
      '2 finished',
      'auth header is "cookie"',
      '3 finished',
      'auth header is "authorization"',
      '4 finished',
      'auth header is "authorization"',
      '5 finished',
      'no auth header for route',
      '6 finished',
    ]);
  });
});

describe('helloworld', () => {
  let proxy: TestProxy;

  beforeAll(async () => {
    proxy = await startProxy(`
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [helloworld]
    routes:
      - match: { prefix: / }
        direct_response: { status: 200 }
filters:${filter('helloworld', 'helloworld')}
`);
  });

  afterAll(() => proxy?.close());

  it('greets on plugin start, then logs the time and a random number every second', async () => {
    expect(proxy.wasmLogs()).toEqual(['OnPluginStart from Go!']);
    await proxy.waitFor(isGuestLog('OnTick called'), 3000);
    const [, tick, onTick] = proxy.wasmLogs();
    const m = /^It's (\d+): random value: (\d+)$/.exec(tick!);
    expect(m).not.toBeNull();
    const nanos = BigInt(m![1]!);
    expect(Number(nanos / 1_000_000n - BigInt(Date.now()))).toBeLessThan(5000);
    expect(Number(BigInt(Date.now()) - nanos / 1_000_000n)).toBeLessThan(5000);
    expect(BigInt(m![2]!) < 2n ** 64n).toBe(true);
    expect(onTick).toBe('OnTick called');
  });
});
