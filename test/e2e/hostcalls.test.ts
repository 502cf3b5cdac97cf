// Conformance with Kong/ngx_wasm_module's `hostcalls` filter (t/lib/proxy-wasm-tests/hostcalls,
// driven by t/03-proxy_wasm/hfuncs/*.t): the same routes, configurations and requests, with
// Kong's expected statuses, headers, bodies and log lines ported to sluice. The filter is our
// own behaviour-alike in test/fixtures/as/hostcalls (AssemblyScript); like the original, a
// Rust SDK filter, it panics (→ trap) on any status the Rust SDK does not accept. Reference §9.1.
//
// Where sluice answers differently from Kong, sluice follows Envoy. The differences:
//  - A trapping filter fails its request with 503 `filter failed` (fail_closed, Envoy's answer);
//    Kong answers 500. Every Kong "500 + panicked/host trap" below is a 503 here.
//  - Bad arguments (buffer/map type 100, log level 100, status 1000, an out-of-bounds key, an
//    unknown metric or queue id) are statuses, not host traps. The filter then panics where the
//    Rust SDK panics (bad types, status 1000, unwrapped metric errors → 503); where the filter
//    ignores the status (the `safety` routes, queue statuses it reports in headers) the request
//    carries on (Kong: 500).
//  - Header names are lower-case, `Host` is `:authority`, hop-by-hop headers (`Connection`) are
//    not in the map, and sluice adds x-request-id / x-forwarded-for / x-forwarded-proto.
//  - Local replies carry the body as given: "Hello world" is 11 bytes (Kong appends "\n").
//  - Response headers exist only from on_response_headers on (Envoy): Kong lets a filter add them
//    during the request and applies them later. Routes that add response headers (shm, metrics,
//    pwm-call-id after a dispatch) therefore run with `on=response_headers` here, and response
//    filters run in reverse chain order (Envoy's encoder order), so such chains are listed
//    reversed. The same route in the request phase gets BAD_ARGUMENT → panic → 503.
//  - Request bodies exist only from on_request_body on: set_request_body / echo/body use
//    `on=request_body` and a POST (Kong can set a body from on_request_headers, even on a GET).
//    Body callbacks come per chunk (Kong: once, with the whole body), so bodies are sent with
//    Content-Length to arrive as one end-of-stream chunk, and routes whose filters answer from
//    a body callback use the `echo` action (a direct_response answers on the request headers).
//  - set_*_body with `value=` is the splice (0, 0, ""): nothing changes (Kong empties the body).
//  - Removing :status from the response headers (set_response_headers) answers 502, as Envoy
//    does; Kong keeps its status line apart from the headers.
//  - set_request_headers replaces pseudo-headers too (Envoy), so a next hostcalls filter finds no
//    `:path` and panics; its effect is shown through the `echo` route instead.
//  - http_call needs `:authority` (Envoy) and a cluster name; unusable dispatches answer
//    BAD_ARGUMENT, which the filter only logs before pausing: the request is never answered
//    (Kong traps at dispatch: 500).
//  - Properties use Envoy's encodings: request.size is a little-endian int64, not "5".
//  - Shared data cannot be deleted (an empty value reads as "none", and keeps its CAS); CAS
//    values come from one counter per proxy.
//  - Gauges may be incremented (Envoy); Kong traps "metric not a counter".
//  - proxy_close_stream(Downstream) is UNIMPLEMENTED for HTTP streams (→ panic → 503; Kong traps
//    because it implements no close at all); close_stream(HTTP_REQUEST) resets the stream.
//  - A trap in on_http_call_response fails the request it was holding (503); Kong carries on.
//  - on_log comes before on_done (Envoy's order; Kong logs on_done first).
//  - Foreign functions are Envoy's (compress, uncompress); Kong's resolve_lua is NOT_FOUND here.
// Our additions to the filter: the `safety` routes log the status they got (the original ignores
// it silently), and /t/nyi_host_func takes `stream_type=` (default 2, Downstream, as Kong's).

import { deflateSync } from 'node:zlib';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { send, startProxy, startUpstream, type LogRecord, type TestProxy, type TestUpstream } from '../helpers/proxy.ts';

const MODULE = join(import.meta.dirname, '..', 'fixtures', 'build', 'hostcalls.wasm');

/** Kong's `echo fail;` content handler: what the client sees when the filter lets the request through. */
const FAIL = 'direct_response: { status: 200, body: "fail\\n" }';

interface HostcallsFilter {
  name: string;
  /** The plugin configuration, as in `proxy_wasm hostcalls '<config>'`. */
  config?: string;
  /** Defaults to the filter's name: every filter gets a VM of its own, so one trap fails one filter. */
  vmId?: string;
  logLevel?: string;
}

interface Route {
  /** Exact path (query strings aside), or `prefix`. */
  path?: string;
  prefix?: string;
  filters: string[];
  /** YAML for the route's action; Kong's `echo fail;` by default. */
  action?: string;
}

function config(routes: Route[], filters: HostcallsFilter[], extra = ''): string {
  const routeYaml = routes
    .map((r) => `      - match: { ${r.path === undefined ? `prefix: ${JSON.stringify(r.prefix)}` : `path: ${JSON.stringify(r.path)}`} }
        filters: [${r.filters.join(', ')}]
        ${r.action ?? FAIL}`)
    .join('\n');
  const filterYaml = filters
    .map((f) => `  - name: ${f.name}
    module: ${MODULE}
    vm_id: ${JSON.stringify(f.vmId ?? f.name)}
    configuration: ${JSON.stringify(f.config ?? '')}${f.logLevel === undefined ? '' : `\n    log_level: ${f.logLevel}`}`)
    .join('\n');
  return `
listeners:
  - name: main
    address: 127.0.0.1:0
    routes:
${routeYaml}
filters:
${filterYaml}
${extra}`;
}

/** A route of its own for each filter: the path `/<filter name>`. */
function oneRouteEach(filters: HostcallsFilter[], action?: string): Route[] {
  return filters.map((f) => ({ path: `/${f.name}`, filters: [f.name], action }));
}

/** A request body sent with Content-Length, so that it reaches filters as one end-of-stream chunk (as Kong reads it). */
function withBody(body: string, headers: [string, string][] = []): { body: string; headers: [string, string][] } {
  return { body, headers: [...headers, ['content-length', String(Buffer.byteLength(body))]] };
}

/** Guest log messages of one filter, in order. */
function guestLines(proxy: TestProxy, filter: string): string[] {
  return proxy.logs.filter((r) => r.wasm !== undefined && r.plugin === filter).map((r) => r.msg ?? '');
}

function guestRecords(proxy: TestProxy, filter: string): LogRecord[] {
  return proxy.logs.filter((r) => r.wasm !== undefined && r.plugin === filter);
}

/** Waits for the `count`-th on_done of a filter (guest lines of a request are complete then). */
async function streamsDone(proxy: TestProxy, filter: string, count = 1): Promise<void> {
  const deadline = Date.now() + 2000;
  while (guestLines(proxy, filter).filter((l) => l === '[hostcalls] on_done').length < count) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for on_done #${count} of ${filter}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The critical line the filter logs when it panics (the SDK's abort handler appends the source position). */
function panicLine(proxy: TestProxy, filter: string): string | undefined {
  return guestRecords(proxy, filter).find((r) => r.level === 60)?.msg;
}

/** What the client sees of a trapping filter under fail_closed. */
function expectFailClosed(res: { status: number; body: string }): void {
  expect(res.status).toBe(503);
  expect(res.body).toBe('filter failed\n');
}

/** Resolves true when the request got no answer within `ms` (it is then abandoned). */
async function unanswered(url: string, ms: number): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(ms) });
    return false;
  } catch (err) {
    if ((err as Error).name === 'TimeoutError') return true;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------

describe('log (100-proxy_log.t, 105-*.t, 117-proxy_properties_get.t)', () => {
  let proxy: TestProxy;
  const props = [
    'request.path',
    'request.url_path',
    'request.host',
    'request.scheme',
    'request.method',
    'request.referer',
    'request.useragent',
    'request.id',
    'request.protocol',
    'request.query',
    'request.size',
    'request.nonexistent',
  ];
  const propFilters: HostcallsFilter[] = props.map((name, i) => ({ name: `prop${i}`, config: `test=/t/log/property name=${name}` }));

  beforeAll(async () => {
    const filters: HostcallsFilter[] = [
      { name: 'levels', config: 'test=/t/log/levels', logLevel: 'trace' },
      { name: 'path', config: 'on=request_headers,response_headers,log test=/t/log/request_path' },
      { name: 'header', config: 'test=/t/log/request_header name=Hello' },
      { name: 'headers', config: 'on=log test=/t/log/request_headers' },
      { name: 'respheaders', config: 'on=response_headers test=/t/log/response_headers' },
      { name: 'time', config: 'test=/t/log/current_time' },
      ...propFilters,
    ];
    proxy = await startProxy(
      config(
        [
          ...oneRouteEach(filters.filter((f) => !f.name.startsWith('prop'))),
          { path: '/t-especial', filters: propFilters.map((f) => f.name) },
        ],
        filters,
      ),
    );
  });

  afterAll(() => proxy?.close());

  it('/t/log/levels: one line per level (Kong: trace is [debug], critical is [crit])', async () => {
    const res = await send(`${proxy.url()}/levels`);
    expect(res.status).toBe(200);
    expect(res.body).toBe('fail\n');
    await streamsDone(proxy, 'levels');
    const logged = guestRecords(proxy, 'levels')
      .filter((r) => r.msg?.startsWith('proxy_log '))
      .map((r) => [r.level, r.msg]);
    expect(logged).toEqual([
      [10, 'proxy_log trace'],
      [30, 'proxy_log info'],
      [40, 'proxy_log warn'],
      [50, 'proxy_log error'],
      [60, 'proxy_log critical'],
    ]);
  });

  it('/t/log/request_path from request headers, response headers and the log phase', async () => {
    await send(`${proxy.url()}/path?x=1`);
    await streamsDone(proxy, 'path');
    const shown = guestLines(proxy, 'path').filter((l) => l.startsWith('[hostcalls] testing in') || l.startsWith('path: '));
    expect(shown).toEqual([
      '[hostcalls] testing in "RequestHeaders"',
      'path: /path?x=1',
      '[hostcalls] testing in "ResponseHeaders"',
      'path: /path?x=1',
      '[hostcalls] testing in "Log"',
      'path: /path?x=1',
    ]);
  });

  it('/t/log/request_header looks a header up case-insensitively', async () => {
    await send(`${proxy.url()}/header`, { headers: [['Hello', 'world']] });
    await streamsDone(proxy, 'header');
    expect(guestLines(proxy, 'header')).toContain('request header "Hello: world"');
  });

  it('/t/log/request_headers in the log phase: every pair, lower-cased, :authority instead of Host', async () => {
    await send(`${proxy.url()}/headers`, { headers: [['Hello', 'world']] });
    await streamsDone(proxy, 'headers');
    const lines = guestLines(proxy, 'headers');
    const logged = lines.slice(lines.indexOf('[hostcalls] testing in "Log"') + 1, lines.indexOf('[hostcalls] on_done'));
    expect(logged.map((l) => l.replace(/^x-request-id: [0-9a-f-]{36}$/, 'x-request-id: <uuid>'))).toEqual([
      `:authority: ${new URL(proxy.url()).host}`,
      ':path: /headers',
      ':method: GET',
      ':scheme: http',
      'hello: world',
      'x-request-id: <uuid>',
      'x-forwarded-for: 127.0.0.1',
      'x-forwarded-proto: http',
    ]);
  });

  it('/t/log/response_headers sees :status and the route answer', async () => {
    await send(`${proxy.url()}/respheaders`);
    await streamsDone(proxy, 'respheaders');
    expect(guestLines(proxy, 'respheaders').filter((l) => l.startsWith('resp '))).toEqual([
      'resp :status: 200',
      'resp content-type: text/plain',
      'resp content-length: 5',
    ]);
  });

  it('/t/log/current_time logs the host clock in nanoseconds', async () => {
    const before = BigInt(Date.now()) * 1_000_000n;
    await send(`${proxy.url()}/time`);
    await streamsDone(proxy, 'time');
    const line = guestLines(proxy, 'time').find((l) => l.startsWith('now: '))!;
    const nanos = BigInt(line.slice(5));
    expect(nanos >= before - 10_000_000n && nanos <= BigInt(Date.now() + 10) * 1_000_000n).toBe(true);
  });

  it('/t/log/property: request.* as Kong lists them, strings as text and request.size as an int64', async () => {
    const res = await send(`${proxy.url()}/t-especial?special_arg=true&special_arg2=false`, {
      method: 'POST',
      ...withBody('hello', [
        ['x-request-id', 'id123'],
        ['user-agent', 'a-user-agent'],
        ['referer', 'a-referer'],
      ]),
    });
    expect(res.status).toBe(200);
    const logged = [];
    for (const f of propFilters) {
      await streamsDone(proxy, f.name);
      logged.push(guestLines(proxy, f.name).find((l) => l.startsWith('request.') || l.startsWith('property not found')));
    }
    expect(logged).toEqual([
      'request.path: /t-especial?special_arg=true&special_arg2=false',
      'request.url_path: /t-especial',
      `request.host: ${new URL(proxy.url()).host}`, // Kong: $hostname
      'request.scheme: http',
      'request.method: POST',
      'request.referer: a-referer',
      'request.useragent: a-user-agent',
      'request.id: id123',
      'request.protocol: HTTP/1.1',
      'request.query: special_arg=true&special_arg2=false',
      'request.size: \u0005\u0000\u0000\u0000\u0000\u0000\u0000\u0000', // Kong: "request.size: 5"
      'property not found: request.nonexistent',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('send_local_response (102-proxy_send_local_response.t)', () => {
  let proxy: TestProxy;
  let upstream: TestUpstream;

  beforeAll(async () => {
    upstream = await startUpstream((_req, res) => {
      res.writeHead(406, { 'content-type': 'text/plain' });
      res.end('[original response body]');
    });
    const filters: HostcallsFilter[] = [
      { name: 'status204', config: 'test=/t/send_local_response/status/204' },
      { name: 'status300', config: 'test=/t/send_local_response/status/300' },
      { name: 'status1000', config: 'test=/t/send_local_response/status/1000' },
      { name: 'headers', config: 'test=/t/send_local_response/headers' },
      { name: 'body', config: 'test=/t/send_local_response/body' },
      { name: 'twice', config: 'test=/t/send_local_response/twice' },
      { name: 'respbody', config: 'on=response_headers test=/t/send_local_response/body' },
      { name: 'bypath' },
    ];
    proxy = await startProxy(
      config(
        [
          ...oneRouteEach(filters),
          { prefix: '/t/send_local_response/', filters: ['bypath'] },
          { path: '/override', filters: ['override'], action: 'cluster: app' },
        ],
        [...filters, { name: 'override', config: 'on=response_headers test=/t/send_local_response/status/403' }],
        `clusters:\n  - name: app\n    endpoints: [${upstream.address}]`,
      ),
    );
  });

  afterAll(async () => {
    await proxy?.close();
    await upstream?.close();
  });

  it('status/204: 204 with an empty body and no extra header', async () => {
    const res = await send(`${proxy.url()}/status204`);
    expect(res.status).toBe(204);
    expect(res.body).toBe('');
    // No Content-Length on the wire: a 204 must not state one (RFC 9110 §8.6).
    expect(res.headers.map(([n]) => n)).toEqual(['date', 'connection']);
    await streamsDone(proxy, 'status204');
    // The filter's own response callback sees the reply (Kong: 4 headers, with Server and Date).
    expect(guestLines(proxy, 'status204')).toContain('[hostcalls] on_response_headers, 2 headers, eof: true');
  });

  it('status/300: a 3xx reply, empty body', async () => {
    const res = await send(`${proxy.url()}/status300`);
    expect(res.status).toBe(300);
    expect(res.body).toBe('');
  });

  it('status/403 from on_response_headers replaces the upstream response (406)', async () => {
    const res = await send(`${proxy.url()}/override`);
    expect(upstream.requests).toHaveLength(1);
    expect(res.status).toBe(403);
    expect(res.body).toBe('');
  });

  it('status/1000: the host refuses with BAD_ARGUMENT, the filter panics (Kong 500 → 503)', async () => {
    const res = await send(`${proxy.url()}/status1000`);
    expectFailClosed(res);
    expect(proxy.logs.some((r) => r.plugin === 'status1000' && r.msg === 'send_local_response refused: bad status code or malformed headers')).toBe(true);
    expect(panicLine(proxy, 'status1000')).toMatch(/^unexpected status: 2 at: /);
  });

  it('by request path: /status/1000 fails, then /status/204 is served by a fresh VM (Kong: 500, 204)', async () => {
    const before = proxy.sluice.plugins.get('bypath')!.vm.serial;
    const failed = await send(`${proxy.url()}/t/send_local_response/status/1000`);
    expectFailClosed(failed);
    const next = await send(`${proxy.url()}/t/send_local_response/status/204`);
    expect(next.status).toBe(204);
    expect(proxy.sluice.plugins.get('bypath')!.vm.serial).not.toBe(before);
  });

  it('headers: the extra header, no body; callbacks in Envoy order', async () => {
    const res = await send(`${proxy.url()}/headers`);
    expect(res.status).toBe(200);
    expect(res.body).toBe('');
    expect(res.header('powered-by')).toBe('proxy-wasm');
    expect(res.header('content-length')).toBe('0');
    await streamsDone(proxy, 'headers');
    const lines = guestLines(proxy, 'headers');
    expect(lines.slice(lines.indexOf('create context id #2') + 1)).toEqual([
      // Kong: 2 request headers (Host, Connection), 5 response headers, an empty on_response_body.
      '[hostcalls] on_request_headers, 7 headers, eof: true',
      '[hostcalls] testing in "RequestHeaders"',
      '[hostcalls] on_response_headers, 3 headers, eof: true',
      '[hostcalls] on_log',
      '[hostcalls] on_done',
    ]);
  });

  it('body: "Hello world", Content-Length set by the host (the filter passed 0)', async () => {
    const res = await send(`${proxy.url()}/body`);
    expect(res.status).toBe(200);
    expect(res.body).toBe('Hello world'); // Kong: "Hello world\n", Content-Length 12
    expect(res.header('content-length')).toBe('11');
    expect(res.header('content-type')).toBe('text/plain');
    expect(res.all('content-length')).toHaveLength(1);
  });

  it('twice: the first reply wins (Kong traps "local response already stashed")', async () => {
    const res = await send(`${proxy.url()}/twice`);
    expect(res.status).toBe(200);
    expect(res.body).toBe('Send once');
  });

  it('body from on_response_headers replaces the route answer', async () => {
    const res = await send(`${proxy.url()}/respbody`);
    expect(res.status).toBe(200);
    expect(res.body).toBe('Hello world');
    expect(res.header('content-type')).toBe('text/plain');
    await streamsDone(proxy, 'respbody');
    expect(guestLines(proxy, 'respbody')).toContain('[hostcalls] testing in "ResponseHeaders"');
  });
});

// ---------------------------------------------------------------------------------------------

describe('request and response headers (107-112)', () => {
  let proxy: TestProxy;
  const ECHO = 'echo: true';

  beforeAll(async () => {
    const filters: HostcallsFilter[] = [
      { name: 'setreq', config: 'test=/t/set_request_headers' },
      { name: 'special', config: 'test=/t/set_request_headers/special' },
      { name: 'logpath', config: 'on=log test=/t/log/request_header name=:path' },
      { name: 'echoheaders', config: 'test=/t/echo/headers' },
      { name: 'addreq', config: 'test=/t/add_request_header value=Hello:world' },
      { name: 'addfromheader', config: 'test=/t/add_request_header' },
      { name: 'setone', config: 'test=/t/set_request_header value=Hello:wasm' },
      { name: 'removeone', config: 'test=/t/set_request_header value=Hello:' },
      { name: 'setresp', config: 'on=response_headers test=/t/set_response_headers' },
      { name: 'logresp', config: 'on=response_headers test=/t/log/response_headers' },
      { name: 'status201', config: 'on=response_headers test=/t/set_response_headers value=:status:201' },
      { name: 'status201early', config: 'on=request_headers test=/t/set_response_headers value=:status:201' },
      { name: 'setrespone', config: 'on=response_headers test=/t/set_response_header value=Content-Type:text/none' },
      { name: 'removerespone', config: 'on=response_headers test=/t/set_response_header value=Content-Type:' },
      { name: 'addresp', config: 'on=response_headers test=/t/add_response_header value=X-Hello:world' },
    ];
    proxy = await startProxy(
      config(
        [
          { path: '/setreq/echo', filters: ['setreq'], action: ECHO },
          { path: '/setreq/chain', filters: ['setreq', 'echoheaders'] },
          { path: '/special', filters: ['special', 'logpath'], action: ECHO },
          { path: '/addreq', filters: ['addreq', 'echoheaders'] },
          { path: '/addfromheader', filters: ['addfromheader', 'echoheaders'] },
          { path: '/setone', filters: ['setone'], action: ECHO },
          { path: '/removeone', filters: ['removeone'], action: ECHO },
          // Response filters run in reverse order: setresp runs before logresp.
          { path: '/setresp', filters: ['logresp', 'setresp'] },
          { path: '/status201early', filters: ['status201early'] },
          { path: '/status201', filters: ['status201'] },
          { path: '/setrespone', filters: ['setrespone'] },
          { path: '/removerespone', filters: ['removerespone'] },
          { path: '/addresp', filters: ['addresp'] },
        ],
        filters,
      ),
    );
  });

  afterAll(() => proxy?.close());

  const kongRequestHeaders: [string, string][] = [
    ['Goodbye', 'this header'],
    ['If-Modified-Since', 'Wed, 21 Oct 2015 07:28:00 GMT'],
    ['User-Agent', 'MSIE 4.0'],
    ['Content-Type', 'application/text'],
    ['X-Forwarded-For', '10.0.0.1, 10.0.0.2'],
  ];

  it('set_request_headers replaces every request header, pseudo-headers included', async () => {
    const res = await send(`${proxy.url()}/setreq/echo`, { headers: kongRequestHeaders });
    expect(res.status).toBe(200);
    const echoed = JSON.parse(res.body);
    expect(echoed.headers).toEqual([
      ['hello', 'world'],
      ['welcome', 'wasm'],
    ]);
    expect(echoed.path).toBeUndefined();
    expect(echoed.method).toBeUndefined();
  });

  it('set_request_headers followed by echo/headers: the second filter finds no :path and panics (Kong: "Hello: world\\nWelcome: wasm")', async () => {
    const res = await send(`${proxy.url()}/setreq/chain`, { headers: kongRequestHeaders });
    expectFailClosed(res);
    expect(panicLine(proxy, 'echoheaders')).toMatch(/^called `Option::unwrap\(\)` on a `None` value at: /);
  });

  it('set_request_headers/special: :path, Host and Connection are set like any header', async () => {
    const res = await send(`${proxy.url()}/special`, { headers: kongRequestHeaders });
    expect(res.status).toBe(200);
    const echoed = JSON.parse(res.body);
    expect(echoed.path).toBe('/updated');
    expect(echoed.headers).toEqual([
      ['host', 'somehost'],
      ['connection', 'closed'],
      ['user-agent', 'Gecko'],
      ['content-type', 'text/none'],
      ['x-forwarded-for', '128.168.0.1'],
    ]);
    await streamsDone(proxy, 'logpath');
    expect(guestLines(proxy, 'logpath')).toContain('request header ":path: /updated"');
  });

  it('add_request_header is seen by the next filter (one more header)', async () => {
    const res = await send(`${proxy.url()}/addreq`);
    expect(res.status).toBe(200);
    expect(res.body.replace(/x-request-id: [0-9a-f-]{36}/, 'x-request-id: <uuid>')).toBe(
      // Kong: "Host: localhost\nConnection: close\nHello: world"
      'x-request-id: <uuid>\nx-forwarded-for: 127.0.0.1\nx-forwarded-proto: http\nhello: world',
    );
    await streamsDone(proxy, 'echoheaders');
    const seen = (filter: string) => Number(/, (\d+) headers/.exec(guestLines(proxy, filter).findLast((l) => l.startsWith('[hostcalls] on_request_headers'))!)![1]);
    expect(seen('echoheaders') - seen('addreq')).toBe(1);
  });

  it('add_request_header keeps an existing value (Kong TEST 3: two Hello headers)', async () => {
    const res = await send(`${proxy.url()}/addreq`, { headers: [['Hello', 'world']] });
    expect(res.body.split('\n').filter((l) => l.startsWith('hello: '))).toEqual(['hello: world', 'hello: world']);
  });

  it('add_request_header from the pwm-add-req-header request header (If-Modified-Since)', async () => {
    const res = await send(`${proxy.url()}/addfromheader`, { headers: [['pwm-add-req-header', 'If-Modified-Since=Wed, 21 Oct 2015 07:28:00 GMT']] });
    expect(res.status).toBe(200);
    expect(res.body.split('\n').at(-1)).toBe('if-modified-since: Wed, 21 Oct 2015 07:28:00 GMT');
    expect(res.body).not.toContain('pwm-');
  });

  it('set_request_header replaces a value, and an empty value removes the header', async () => {
    const set = JSON.parse((await send(`${proxy.url()}/setone`, { headers: [['Hello', 'world'], ['Hello', 'again']] })).body);
    expect(set.headers.filter(([n]: [string]) => n === 'hello')).toEqual([['hello', 'wasm']]);
    const removed = JSON.parse((await send(`${proxy.url()}/removeone`, { headers: [['Hello', 'world']] })).body);
    expect(removed.headers.filter(([n]: [string]) => n === 'hello')).toEqual([]);
  });

  it('set_response_headers replaces every response header, :status included: 502 (Kong keeps its status line: 200)', async () => {
    const res = await send(`${proxy.url()}/setresp`);
    // Without :status there is no status to send (Envoy: 502 filter_removed_required_response_headers).
    expect(res.status).toBe(502);
    expect(res.header('hello')).toBe('world');
    expect(res.header('welcome')).toBe('wasm');
    expect(res.header('content-type')).toBeUndefined();
    await streamsDone(proxy, 'logresp');
    expect(guestLines(proxy, 'logresp').filter((l) => l.startsWith('resp '))).toEqual(['resp hello: world', 'resp welcome: wasm']);
  });

  it('set_response_headers :status:201 from on_response_headers changes the status', async () => {
    const res = await send(`${proxy.url()}/status201`);
    expect(res.status).toBe(201);
  });

  it('set_response_headers :status:201 from on_request_headers: no response headers yet → panic (Kong: 201)', async () => {
    const res = await send(`${proxy.url()}/status201early`);
    expectFailClosed(res);
    expect(panicLine(proxy, 'status201early')).toMatch(/^unexpected status: 2 at: /);
  });

  it('set_response_header replaces a value; an empty value removes it', async () => {
    expect((await send(`${proxy.url()}/setrespone`)).all('content-type')).toEqual(['text/none']);
    expect((await send(`${proxy.url()}/removerespone`)).header('content-type')).toBeUndefined();
  });

  it('add_response_header from on_response_headers', async () => {
    const res = await send(`${proxy.url()}/addresp`);
    expect(res.header('x-hello')).toBe('world');
    expect(res.body).toBe('fail\n');
  });
});

// ---------------------------------------------------------------------------------------------

describe('request and response bodies (113-116)', () => {
  let proxy: TestProxy;
  let app: TestUpstream;

  beforeAll(async () => {
    app = await startUpstream();
    const filters: HostcallsFilter[] = [
      { name: 'setbody', config: 'on=request_body test=/t/set_request_body' },
      { name: 'setempty', config: 'on=request_body test=/t/set_request_body value=' },
      { name: 'setoffset', config: 'on=request_body test=/t/set_request_body value=Wasm offset=5' },
      { name: 'echobody', config: 'on=request_body test=/t/echo/body' },
      { name: 'setbodyearly', config: 'test=/t/set_request_body' },
      { name: 'setresp', config: 'on=response_body test=/t/set_response_body value=updated' },
      { name: 'setrespempty', config: 'on=response_body test=/t/set_response_body value=' },
    ];
    // Body callbacks run before the `echo` route answers (it waits for the whole request);
    // a direct_response would answer on the request headers already.
    proxy = await startProxy(
      config(
        [
          { path: '/setbody/echo', filters: ['setbody', 'echobody'], action: 'echo: true' },
          { path: '/setbody/upstream', filters: ['setbody'], action: 'cluster: app' },
          { path: '/setempty', filters: ['setempty', 'echobody'], action: 'echo: true' },
          { path: '/setoffset', filters: ['setoffset'], action: 'echo: true' },
          { path: '/setbodyearly', filters: ['setbodyearly'], action: 'echo: true' },
          { path: '/setresp', filters: ['setresp'] },
          { path: '/setrespempty', filters: ['setrespempty'] },
        ],
        filters,
        `clusters:\n  - name: app\n    endpoints: [${app.address}]`,
      ),
    );
  });

  afterAll(async () => {
    await proxy?.close();
    await app?.close();
  });

  it('set_request_body then echo/body: the next filter reads the new body (Kong does it from request headers, on a GET)', async () => {
    const res = await send(`${proxy.url()}/setbody/echo`, withBody('Remove me'));
    expect(res.status).toBe(200);
    expect(res.body).toBe('Hello world');
    await streamsDone(proxy, 'echobody');
    expect(guestLines(proxy, 'echobody')).toContain('/echo/body buffer: Some([72, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100])');
  });

  it('set_request_body reaches the upstream with a recomputed Content-Length', async () => {
    const res = await send(`${proxy.url()}/setbody/upstream`, withBody('Remove me'));
    expect(res.status).toBe(200);
    const received = app.requests.at(-1)!;
    expect(received.body).toBe('Hello world');
    expect(received.headers['content-length']).toBe('11');
  });

  it('set_request_body value=: replacing 0 bytes at 0 with nothing changes nothing (Kong empties the body)', async () => {
    const res = await send(`${proxy.url()}/setempty`, withBody('Remove me'));
    expect(res.status).toBe(200);
    expect(res.body).toBe('Remove me');
  });

  it('set_request_body value=Wasm offset=5 splices at the offset', async () => {
    const res = await send(`${proxy.url()}/setoffset`, withBody('HelloWorld'));
    expect(JSON.parse(res.body).body).toBe('HelloWasmd');
  });

  it('set_request_body from on_request_headers: no body yet → NOT_FOUND → panic (Kong: "Hello world")', async () => {
    const res = await send(`${proxy.url()}/setbodyearly`);
    expectFailClosed(res);
    expect(panicLine(proxy, 'setbodyearly')).toMatch(/^unexpected status: 1 at: /);
  });

  it('set_response_body replaces the response body ("updated\\n")', async () => {
    const res = await send(`${proxy.url()}/setresp`);
    expect(res.status).toBe(200);
    expect(res.body).toBe('updated\n');
    expect(res.header('content-length')).toBe('8');
  });

  it('set_response_body value=: the same (0, 0, "") splice, the body stays (Kong empties it)', async () => {
    const res = await send(`${proxy.url()}/setrespempty`);
    expect(res.status).toBe(200);
    expect(res.body).toBe('fail\n');
    await streamsDone(proxy, 'setrespempty');
    expect(guestLines(proxy, 'setrespempty')).toContain('[hostcalls] on_response_body, 5 bytes, eof: true');
  });
});

// ---------------------------------------------------------------------------------------------

describe('echo (103-proxy_get_http_request_headers.t, 105-proxy_get_http_request_header.t)', () => {
  let proxy: TestProxy;

  beforeAll(async () => {
    proxy = await startProxy(
      config(
        [
          { prefix: '/t/echo/headers/all', filters: ['all'] },
          { prefix: '/t/echo/headers', filters: ['headers'] },
          { prefix: '/t/echo/body', filters: ['body'], action: 'echo: true' },
          { prefix: '/t/echo/header/', filters: ['bypath'] },
        ],
        [
          { name: 'all', config: 'test=/t/echo/headers/all' },
          { name: 'headers', config: 'test=/t/echo/headers' },
          { name: 'body', config: 'on=request_body test=/t/echo/body' },
          { name: 'bypath' },
        ],
      ),
    );
  });

  afterAll(() => proxy?.close());

  it('/t/echo/headers: every header but pseudo and pwm-* ones', async () => {
    const many: [string, string][] = Array.from({ length: 20 }, (_, i) => [`Header${i + 1}`, `value-${i + 1}`]);
    const res = await send(`${proxy.url()}/t/echo/headers`, { headers: [['pwm-hidden', 'x'], ...many] });
    expect(res.status).toBe(200);
    expect(res.header('content-type')).toBe('text/plain');
    const lines = res.body.split('\n');
    expect(lines.slice(0, 20)).toEqual(many.map(([n, v]) => `${n.toLowerCase()}: ${v}`));
    expect(lines.slice(20).map((l) => l.split(': ')[0])).toEqual(['x-request-id', 'x-forwarded-for', 'x-forwarded-proto']);
  });

  it('/t/echo/headers/all: pseudo-headers first (Kong: :path, :method, :scheme, :authority, then Host)', async () => {
    const res = await send(`${proxy.url()}/t/echo/headers/all`, { headers: [['Hello', 'world']] });
    expect(res.body.split('\n').slice(0, 5)).toEqual([
      `:authority: ${new URL(proxy.url()).host}`,
      ':path: /t/echo/headers/all',
      ':method: GET',
      ':scheme: http',
      'hello: world',
    ]);
  });

  it('/t/echo/header/<name>: case-insensitive lookup, the name as asked', async () => {
    const headers: [string, string][] = [['Hello', 'world']];
    expect((await send(`${proxy.url()}/t/echo/header/Hello`, { headers })).body).toBe('Hello: world');
    expect((await send(`${proxy.url()}/t/echo/header/hello`, { headers })).body).toBe('hello: world');
  });

  it('/t/echo/header/<missing>: "<name>:"', async () => {
    const res = await send(`${proxy.url()}/t/echo/header/Some-Header`);
    expect(res.status).toBe(200);
    expect(res.body).toBe('Some-Header:');
  });

  it('/t/echo/header/ of pseudo-headers: :method, :path with its query, :scheme, :authority', async () => {
    expect((await send(`${proxy.url()}/t/echo/header/:method`)).body).toBe(':method: GET');
    expect((await send(`${proxy.url()}/t/echo/header/:method`, { method: 'POST', body: '' })).body).toBe(':method: POST');
    expect((await send(`${proxy.url()}/t/echo/header/:path?foo=bar&hello=world`)).body).toBe(':path: /t/echo/header/:path?foo=bar&hello=world');
    expect((await send(`${proxy.url()}/t/echo/header/:scheme`)).body).toBe(':scheme: http');
    expect((await send(`${proxy.url()}/t/echo/header/:authority`)).body).toBe(`:authority: ${new URL(proxy.url()).host}`);
  });

  it('/t/echo/header/<name> among 500 headers (Kong: 1000; Node refuses more than 16 KiB of headers)', async () => {
    const headers: [string, string][] = Array.from({ length: 500 }, (_, i) => [`header${i + 1}`, String(i + 1)]);
    expect((await send(`${proxy.url()}/t/echo/header/header500`, { headers })).body).toBe('header500: 500');
  });

  it('/t/echo/body (on=request_body) answers with the request body', async () => {
    const res = await send(`${proxy.url()}/t/echo/body`, withBody('Hello world'));
    expect(res.status).toBe(200);
    expect(res.body).toBe('Hello world');
  });
});

// ---------------------------------------------------------------------------------------------

describe('dispatch_http_call (130-proxy_dispatch_http.t)', () => {
  let proxy: TestProxy;
  let web: TestUpstream;
  const dispatch = 'test=/t/dispatch_http_call host=web authority=web';

  beforeAll(async () => {
    // Kong's `location /dispatched { return 200 "Hello back"; }` plus TEST 46's header; /echo returns the body.
    web = await startUpstream((req, res) => {
      res.setHeader('x-callout-header', 'callout-header-value');
      res.end(req.url === '/echo' ? req.body : 'Hello back\n');
    });
    const filters: HostcallsFilter[] = [
      { name: 'body', config: `on=response_headers ${dispatch} path=/dispatched on_http_call_response=echo_response_body` },
      { name: 'headers', config: `on=response_headers ${dispatch} path=/dispatched on_http_call_response=echo_response_headers` },
      { name: 'post', config: `on=response_headers ${dispatch} method=POST path=/echo body=helloworld on_http_call_response=echo_response_body` },
      { name: 'requestphase', config: `${dispatch} path=/dispatched on_http_call_response=echo_response_body` },
      { name: 'trap', config: `on=response_headers ${dispatch} path=/dispatched on_http_call_response=trap` },
      { name: 'nomethod', config: `${dispatch} no_method=true` },
      { name: 'nopath', config: `${dispatch} no_path=true` },
      { name: 'noauthority', config: 'test=/t/dispatch_http_call host=web path=/dispatched' },
      { name: 'unknownhost', config: 'test=/t/dispatch_http_call host=127.0.0.1:1 authority=x' },
    ];
    proxy = await startProxy(config(oneRouteEach(filters), filters, `clusters:\n  - name: web\n    endpoints: [${web.address}]`));
  });

  afterAll(async () => {
    await proxy?.close();
    await web?.close();
  });

  it('echo_response_body: the call\'s body, trimmed, replaces the response', async () => {
    const res = await send(`${proxy.url()}/body`);
    expect(res.status).toBe(200);
    expect(res.body).toBe('Hello back');
    await streamsDone(proxy, 'body');
    expect(guestLines(proxy, 'body')).toContain(
      '[hostcalls] on_http_call_response (id: 4, status: 200, headers: 4, body_bytes: 11, trailers: 0, op: echo_response_body)',
    );
    // What reached the callee: the :authority as Host, not the filter's `Host: ignoreme`.
    const call = web.requests.at(-1)!;
    expect(call.method).toBe('GET');
    expect(call.url).toBe('/dispatched');
    expect(call.rawHeaders.filter(([n]) => n.toLowerCase() === 'host')).toEqual([['host', 'web']]);
    expect(JSON.stringify(call.rawHeaders)).not.toContain('ignoreme');
  });

  it('echo_response_headers: the call\'s headers, lower-cased, :status first (Kong: X-Callout-Header)', async () => {
    const res = await send(`${proxy.url()}/headers`);
    expect(res.status).toBe(200);
    const lines = res.body.split('\n');
    expect(lines[0]).toBe(':status: 200');
    expect(lines).toContain('x-callout-header: callout-header-value');
    expect(lines).toContain('content-length: 11');
    expect(lines.at(-1)).toBe('');
  });

  it('method=POST body=helloworld reaches the callee (TEST 48)', async () => {
    const res = await send(`${proxy.url()}/post`);
    expect(res.body).toBe('helloworld');
    expect(web.requests.at(-1)!.method).toBe('POST');
  });

  it('from on_request_headers (Kong\'s default): adding pwm-call-id before the response exists panics → 503', async () => {
    const res = await send(`${proxy.url()}/requestphase`);
    expectFailClosed(res);
    const lines = guestLines(proxy, 'requestphase');
    expect(lines).toContain('[hostcalls] on_http_call_response (id: 4, status: 200, headers: 4, body_bytes: 11, trailers: 0, op: echo_response_body)');
    expect(panicLine(proxy, 'requestphase')).toMatch(/^unexpected status: 2 at: /);
  });

  it('on_http_call_response=trap fails the request the filter was holding (Kong TEST 42 carries on: "ok")', async () => {
    const res = await send(`${proxy.url()}/trap`);
    expectFailClosed(res);
    expect(panicLine(proxy, 'trap')).toMatch(/^trap! at: /);
    const access = await proxy.waitFor((r) => r.access?.path === '/trap');
    expect(access.access.traps).toEqual(['trap']);
  });

  it('no :method, no :path, no :authority, a host that is no cluster: BAD_ARGUMENT, logged, the request waits (Kong: trap → 500)', async () => {
    const names = ['nomethod', 'nopath', 'noauthority', 'unknownhost'];
    const results = await Promise.all(names.map((n) => unanswered(`${proxy.url()}/${n}`, 300)));
    expect(results).toEqual([true, true, true, true]);
    const refused = (n: string) => proxy.logs.find((r) => r.plugin === n && r.msg?.startsWith('http_call refused'))?.msg;
    expect(refused('nomethod')).toBe('http_call refused: the :method header is required');
    expect(refused('nopath')).toBe('http_call refused: the :path header is required');
    expect(refused('noauthority')).toBe('http_call refused: the :authority header is required');
    expect(refused('unknownhost')).toMatch(/^http_call refused: '127\.0\.0\.1:1' is not a cluster/);
    for (const n of names) expect(guestLines(proxy, n)).toContain('dispatch_http_call: bad argument');
  });
});

// ---------------------------------------------------------------------------------------------

describe('bad arguments, safety and unimplemented functions (200-*.t, 009-proxy_wasm_oob.t, 000-nyi.t)', () => {
  let proxy: TestProxy;
  let app: TestUpstream;
  const badArguments = ['bad_set_buffer_type', 'bad_get_buffer_type', 'bad_set_map_type', 'bad_get_map_type', 'bad_log_level'];

  beforeAll(async () => {
    app = await startUpstream();
    const filters: HostcallsFilter[] = [
      ...badArguments.map((t) => ({ name: t, config: `test=/t/${t}` })),
      { name: 'oob_key', config: 'test=/t/safety/proxy_get_header_map_value_oob_key' },
      { name: 'oob_return', config: 'test=/t/safety/proxy_get_header_map_value_oob_return_data' },
      { name: 'oob_return_path', config: 'test=/t/safety/proxy_get_header_map_value_oob_return_data name=:path' },
      { name: 'nyi', config: 'test=/t/nyi_host_func' },
      { name: 'close_request', config: 'test=/t/nyi_host_func stream_type=0' },
    ];
    proxy = await startProxy(
      config(
        [...oneRouteEach(filters), { path: '/close_request/upstream', filters: ['close_request'], action: 'cluster: app' }],
        filters,
        `clusters:\n  - name: app\n    endpoints: [${app.address}]`,
      ),
    );
  });

  afterAll(async () => {
    await proxy?.close();
    await app?.close();
  });

  it.each(badArguments)('/t/%s: type/level 100 → BAD_ARGUMENT → "unexpected status: 2" → 503 (Kong: NYI alert + panic → 500)', async (name) => {
    const res = await send(`${proxy.url()}/${name}`);
    expectFailClosed(res);
    expect(panicLine(proxy, name)).toMatch(/^unexpected status: 2 at: /);
    const access = await proxy.waitFor((r) => r.access?.path === `/${name}`);
    expect(access.access.details).toBe('wasm_fail_stream');
  });

  it('oob key: INVALID_MEMORY_ACCESS (6), which the filter ignores: the request goes on (Kong traps: 500)', async () => {
    const res = await send(`${proxy.url()}/oob_key`);
    expect(res.status).toBe(200);
    expect(res.body).toBe('fail\n');
    expect(guestLines(proxy, 'oob_key')).toContain('proxy_get_header_map_value returned 6');
  });

  it('oob return pointer: "Connection" is not in the map (NOT_FOUND, nothing written); a present key gets 6', async () => {
    expect((await send(`${proxy.url()}/oob_return`)).status).toBe(200);
    expect(guestLines(proxy, 'oob_return')).toContain('proxy_get_header_map_value returned 1');
    expect((await send(`${proxy.url()}/oob_return_path`)).status).toBe(200);
    expect(guestLines(proxy, 'oob_return_path')).toContain('proxy_get_header_map_value returned 6');
  });

  it('/t/nyi_host_func: close_stream(Downstream) on an HTTP stream is UNIMPLEMENTED → panic → 503 (Kong: NYI trap → 500)', async () => {
    const res = await send(`${proxy.url()}/nyi`);
    expectFailClosed(res);
    expect(panicLine(proxy, 'nyi')).toMatch(/^unexpected status: 12 at: /);
  });

  it('close_stream(HTTP_REQUEST), which sluice implements: the client sees a reset, not the route\'s answer', async () => {
    await expect(send(`${proxy.url()}/close_request`)).rejects.toThrow(/socket hang up|ECONNRESET/);
    const access = await proxy.waitFor((r) => r.access?.path === '/close_request');
    expect(access.access.details).toBe('wasm_close_stream');
  });

  it('close_stream(HTTP_REQUEST) before a cluster: nothing goes upstream', async () => {
    await expect(send(`${proxy.url()}/close_request/upstream`)).rejects.toThrow(/socket hang up|ECONNRESET/);
    await proxy.waitFor((r) => r.access?.path === '/close_request/upstream');
    expect(app.requests).toHaveLength(0);
  });
});

// ---------------------------------------------------------------------------------------------

describe('trap (005-on_http_phases_failures.t)', () => {
  let proxy: TestProxy;

  beforeAll(async () => {
    proxy = await startProxy(config([{ prefix: '/t/', filters: ['hostcalls'] }], [{ name: 'hostcalls' }]));
  });

  afterAll(() => proxy?.close());

  it('/t/trap fails the request (Kong 500 → 503); the next request runs on a fresh VM', async () => {
    const before = proxy.sluice.plugins.get('hostcalls')!.vm.serial;
    const trapped = await send(`${proxy.url()}/t/trap`);
    expectFailClosed(trapped);
    expect(panicLine(proxy, 'hostcalls')).toMatch(/^custom trap at: /);
    expect(proxy.logs.some((r) => r.msg === 'filter VM failed; it will be replaced' && /proc_exit\(255\)/.test(r.err?.message))).toBe(true);

    const next = await send(`${proxy.url()}/t/log/request_path`);
    expect(next.status).toBe(200);
    expect(next.body).toBe('fail\n');
    expect(proxy.sluice.plugins.get('hostcalls')!.vm.serial).not.toBe(before);
    await streamsDone(proxy, 'hostcalls');
    const lines = guestLines(proxy, 'hostcalls');
    expect(lines).toContain('path: /t/log/request_path');
    // The fresh VM went through its start again.
    expect(lines.filter((l) => l === '[hostcalls] #0 on_vm_start')).toHaveLength(2);
  });
});

// ---------------------------------------------------------------------------------------------

describe('shared data and queues (shm/001-kv_get_set.t, shm/100-queue_push_pop.t, shm/101-queue_misuse.t)', () => {
  // One proxy per test: CAS values come from one counter per proxy. The filters share one
  // vm_id (shared data is namespaced by it) and add response headers, so they run on response
  // headers, listed in reverse order of Kong's chain.
  async function shm(chain: HostcallsFilter[]): Promise<TestProxy> {
    const reversed = [...chain].reverse();
    const filters = reversed.map((f) => ({ ...f, vmId: 'shm', config: `on=response_headers ${f.config}` }));
    return startProxy(config([{ prefix: '/t', filters: filters.map((f) => f.name) }], filters));
  }

  it('set, get, get of a missing key', async () => {
    const proxy = await shm([
      { name: 'set', config: 'test=/t/shm/set_shared_data key=kv1/test value=hello' },
      { name: 'get', config: 'test=/t/shm/get_shared_data key=kv1/test' },
      { name: 'nop', config: 'test=/t/shm/get_shared_data key=kv1/nop header_cas=cas-2 header_data=data-2 header_exists=exists-2' },
    ]);
    try {
      const res = await send(`${proxy.url()}/t`);
      expect(res.status).toBe(200);
      expect(res.body).toBe('fail\n');
      expect(res.headers.filter(([n]) => ['set-ok', 'cas', 'exists', 'data', 'cas-2', 'exists-2', 'data-2'].includes(n))).toEqual([
        ['set-ok', '1'],
        ['cas', '1'],
        ['exists', '1'],
        ['data', 'hello'],
        ['cas-2', '0'],
        ['exists-2', '0'],
        ['data-2', ''],
      ]);
    } finally {
      await proxy.close();
    }
  });

  it('set an empty value, then "delete" with cas=1: an empty value reads as absent and keeps a CAS (Kong: exists 1, then cas-2 0)', async () => {
    const proxy = await shm([
      { name: 'setempty', config: 'test=/t/shm/set_shared_data key=kv1/test cas=0 value= header_ok=ok-1' },
      { name: 'get', config: 'test=/t/shm/get_shared_data key=kv1/test' },
      { name: 'delete', config: 'test=/t/shm/set_shared_data key=kv1/test cas=1 header_ok=ok-2' },
      { name: 'get2', config: 'test=/t/shm/get_shared_data key=kv1/test header_cas=cas-2 header_data=data-2 header_exists=exists-2' },
    ]);
    try {
      const res = await send(`${proxy.url()}/t`);
      expect(res.headers.filter(([n]) => /^(ok-\d|cas|exists|data)(-2)?$/.test(n))).toEqual([
        ['ok-1', '1'],
        ['cas', '1'],
        ['exists', '0'],
        ['data', ''],
        ['ok-2', '1'],
        ['cas-2', '2'],
        ['exists-2', '0'],
        ['data-2', ''],
      ]);
    } finally {
      await proxy.close();
    }
  });

  it('enqueue then dequeue on a queue the filter registers', async () => {
    const proxy = await shm([
      { name: 'enqueue', config: 'test=/t/shm/enqueue queue=test value=hello' },
      { name: 'dequeue', config: 'test=/t/shm/dequeue queue=test' },
    ]);
    try {
      const res = await send(`${proxy.url()}/t`);
      expect(res.headers.filter(([n]) => ['status-enqueue', 'status-dequeue', 'exists', 'data'].includes(n))).toEqual([
        ['status-enqueue', '0'],
        ['status-dequeue', '0'],
        ['data', 'hello'],
        ['exists', '1'],
      ]);
      // The queue is empty again: EMPTY is Ok(None) for the Rust SDK.
      const again = await send(`${proxy.url()}/t`, { headers: [] });
      expect(again.all('status-dequeue')).toEqual(['0']);
    } finally {
      await proxy.close();
    }
  });

  it('dequeue from an empty queue: status 0, exists 0', async () => {
    const proxy = await shm([{ name: 'dequeue', config: 'test=/t/shm/dequeue queue=test' }]);
    try {
      const res = await send(`${proxy.url()}/t`);
      expect(res.headers.filter(([n]) => ['status-dequeue', 'exists', 'data'].includes(n))).toEqual([
        ['status-dequeue', '0'],
        ['data', ''],
        ['exists', '0'],
      ]);
    } finally {
      await proxy.close();
    }
  });

  it('a raw token that names no queue: NOT_FOUND (1) in the status headers, the request goes on (Kong traps: 500)', async () => {
    const proxy = await shm([
      { name: 'enqueue', config: 'test=/t/shm/enqueue queue_id=999 value=hello' },
      { name: 'dequeue', config: 'test=/t/shm/dequeue queue_id=999' },
    ]);
    try {
      const res = await send(`${proxy.url()}/t`);
      expect(res.status).toBe(200);
      expect(res.header('status-enqueue')).toBe('1');
      expect(res.header('status-dequeue')).toBe('1');
      expect(res.header('exists')).toBe('0');
    } finally {
      await proxy.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('metrics (metrics/001-031)', () => {
  // A proxy per test: metric values are per proxy, by name.
  async function withFilters(filters: HostcallsFilter[], run: (proxy: TestProxy) => Promise<void>): Promise<void> {
    const proxy = await startProxy(config(oneRouteEach(filters), filters));
    try {
      await run(proxy);
    } finally {
      await proxy.close();
    }
  }

  it('on_configure=define_metrics: ids whose low bits are the type (counter 0, gauge 1, histogram 2)', async () => {
    await withFilters([{ name: 'define', config: 'on_configure=define_metrics metrics=c2,g1,h1' }], async (proxy) => {
      const defined = guestLines(proxy, 'define')
        .map((l) => /^defined metric (\w+) as (\d+)$/.exec(l))
        .filter((m) => m !== null)
        .map((m) => [m[1], Number(m[2]) % 4]);
      expect(defined).toEqual([
        ['c1', 0],
        ['c2', 0],
        ['g1', 1],
        ['h1', 2],
      ]);
    });
  });

  it('define_and_increment_counters in on_configure: "c1: 1 at Configure"', async () => {
    await withFilters([{ name: 'inc', config: 'on_configure=define_and_increment_counters metrics=c1' }], async (proxy) => {
      expect(guestLines(proxy, 'inc')).toEqual(expect.arrayContaining(['incremented c1 at Configure', 'c1: 1 at Configure']));
    });
  });

  it('increment_counters, then get: values accumulate per name across requests and filters', async () => {
    const filters: HostcallsFilter[] = [
      { name: 'inc', config: 'on_configure=define_metrics metrics=c2,g1 test=/t/metrics/increment_counters n_increments=3' },
      { name: 'get', config: 'on_configure=define_metrics metrics=c2,g1 on=response_headers test=/t/metrics/get' },
    ];
    await withFilters(filters, async (proxy) => {
      await send(`${proxy.url()}/inc`);
      await send(`${proxy.url()}/inc`);
      await streamsDone(proxy, 'inc', 2);
      const logged = guestLines(proxy, 'inc').filter((l) => / at RequestHeaders$/.test(l));
      expect(logged).toEqual([
        'incremented c1 at RequestHeaders',
        'incremented c2 at RequestHeaders',
        'c1: 3 at RequestHeaders',
        'c2: 3 at RequestHeaders',
        'g1: 0 at RequestHeaders',
        'incremented c1 at RequestHeaders',
        'incremented c2 at RequestHeaders',
        'c1: 6 at RequestHeaders',
        'c2: 6 at RequestHeaders',
        'g1: 0 at RequestHeaders',
      ]);
      const res = await send(`${proxy.url()}/get`);
      expect(res.headers.filter(([n]) => /^[cg]\d$/.test(n))).toEqual([
        ['c1', '6'],
        ['c2', '6'],
        ['g1', '0'],
      ]);
    });
  });

  it('increment_gauges: Envoy lets a gauge be incremented (Kong traps "metric not a counter": 500)', async () => {
    await withFilters([{ name: 'gauges', config: 'on_configure=define_metrics metrics=g2 test=/t/metrics/increment_gauges' }], async (proxy) => {
      const res = await send(`${proxy.url()}/gauges`);
      expect(res.status).toBe(200);
      await streamsDone(proxy, 'gauges');
      expect(guestLines(proxy, 'gauges')).toEqual(expect.arrayContaining(['incremented g1 at RequestHeaders', 'g1: 1 at RequestHeaders', 'g2: 1 at RequestHeaders']));
    });
  });

  it('toggle_gauges and record_histograms', async () => {
    const filters: HostcallsFilter[] = [
      { name: 'toggle', config: 'on_configure=define_metrics metrics=g1 test=/t/metrics/toggle_gauges' },
      { name: 'record', config: 'on_configure=define_metrics metrics=g1,h1 test=/t/metrics/record_histograms value=7' },
    ];
    await withFilters(filters, async (proxy) => {
      await send(`${proxy.url()}/toggle`);
      await send(`${proxy.url()}/toggle`);
      await streamsDone(proxy, 'toggle', 2);
      expect(guestLines(proxy, 'toggle').filter((l) => l.startsWith('g1: '))).toEqual(['g1: 1 at RequestHeaders', 'g1: 0 at RequestHeaders']);
      const res = await send(`${proxy.url()}/record`);
      expect(res.status).toBe(200);
      await streamsDone(proxy, 'record');
      expect(guestLines(proxy, 'record')).toEqual(expect.arrayContaining(['record 7 on g1 at RequestHeaders', 'record 7 on h1 at RequestHeaders', 'g1: 7 at RequestHeaders']));
    });
  });

  it.each([
    ['increment_invalid_counter', 'NotFound'],
    ['get_invalid_metric', 'NotFound'],
    ['get_histogram', 'BadArgument'],
  ])('/t/metrics/%s: the error is unwrapped → panic → 503 (Kong: host trap → 500)', async (route, error) => {
    await withFilters([{ name: 'bad', config: `test=/t/metrics/${route}` }], async (proxy) => {
      const res = await send(`${proxy.url()}/bad`);
      expectFailClosed(res);
      expect(panicLine(proxy, 'bad')).toMatch(new RegExp(`^called \`Result::unwrap\\(\\)\` on an \`Err\` value: ${error} at: `));
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe('call_foreign_function (140-proxy_call_foreign_function.t)', () => {
  let proxy: TestProxy;

  beforeAll(async () => {
    const filters: HostcallsFilter[] = [
      { name: 'compress', config: 'test=/t/call_foreign_function name=compress arg=hello' },
      { name: 'unknown', config: 'test=/t/call_foreign_function name=resolve_lua arg=localhost' },
    ];
    proxy = await startProxy(config(oneRouteEach(filters), filters));
  });

  afterAll(() => proxy?.close());

  it('Envoy\'s compress: zlib bytes of the argument', async () => {
    const res = await send(`${proxy.url()}/compress`);
    expect(res.status).toBe(200);
    await streamsDone(proxy, 'compress');
    expect(guestLines(proxy, 'compress')).toContain(`foreign function compress returned [${[...deflateSync('hello')].join(', ')}]`);
  });

  it('Kong\'s resolve_lua does not exist here: NOT_FOUND, unwrapped → 503', async () => {
    const res = await send(`${proxy.url()}/unknown`);
    expectFailClosed(res);
    expect(panicLine(proxy, 'unknown')).toMatch(/^called `Result::unwrap\(\)` on an `Err` value: NotFound at: /);
  });
});
