// proxy_http_call: validation, what reaches the services, delivery of the response to the ROOT
// context (never re-entrantly), the response's maps/buffer only during the callback, failures
// as (0,0,0) + get_status (11, "reset"), and tokens (reference §4.9, §7.8, §10 items 3, 12, 15).

import { describe, expect, it } from 'vitest';
import type { HttpCallResponse } from '../../src/abi/plugin.ts';
import { MAX_PENDING_HTTP_CALL_BYTES, MAX_PENDING_HTTP_CALLS } from '../../src/abi/limits.ts';
import { Status } from '../../src/abi/types.ts';
import { harness, pairsBytes, PINO, SCRATCH, type Harness } from './helpers.ts';

const GOOD_HEADERS: Array<[string, string]> = [
  [':method', 'GET'],
  [':path', '/auth'],
  [':authority', 'auth.local'],
];

function dispatch(h: Harness, ctx: { id: number }, headers: Array<[string, string]> = GOOD_HEADERS, timeoutMs = 1000): { status: number; token: number } {
  const [ptr, len] = h.mem.write(SCRATCH, pairsBytes(headers));
  h.mem.setU32(0x08, 0xdeadbeef);
  const status = h.call('dispatch', ctx, ptr, len, timeoutMs);
  return { status, token: h.mem.u32(0x08) };
}

const RESPONSE: HttpCallResponse = {
  headers: [
    [':status', '200'],
    ['x-a', 'b'],
  ],
  body: Buffer.from('pong'),
  trailers: [['grpc-status', '0']],
};

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('validation', () => {
  it.each([':authority', ':method', ':path'])('refuses a call without %s: BAD_ARGUMENT, a warn log, nothing sent', async (missing) => {
    const h = await harness('abi-http-call');
    const { ctx } = h.stream();
    const r = dispatch(h, ctx, GOOD_HEADERS.filter(([k]) => k !== missing));
    expect(r.status).toBe(Status.BAD_ARGUMENT);
    expect(r.token).toBe(0);
    expect(h.services.requests).toEqual([]);
    const warn = h.lines.filter((l) => l.level === PINO.warn);
    expect(warn.map((l) => [l.msg, l['upstream']])).toEqual([[`http_call refused: the ${missing} header is required`, 'cluster']]);
  });

  it('accepts an empty :authority value (Envoy requires the header, not a value), but not an empty :path', async () => {
    const h = await harness('abi-http-call');
    const r = dispatch(h, h.plugin.root, [[':method', 'GET'], [':path', '/'], [':authority', '']]);
    expect(r.status).toBe(Status.OK);
    expect(h.services.requests).toHaveLength(1);
    expect(dispatch(h, h.plugin.root, [[':method', 'GET'], [':path', ''], [':authority', 'a']]).status).toBe(Status.BAD_ARGUMENT);
    expect(h.services.requests).toHaveLength(1);
  });

  it('refuses a header HTTP cannot carry: BAD_ARGUMENT, a warn log naming it, nothing sent', async () => {
    const h = await harness('abi-http-call');
    for (const bad of [['x-bad', 'a\r\nx-evil: 1'], ['bad name', 'v']] as Array<[string, string]>) {
      expect(dispatch(h, h.plugin.root, [...GOOD_HEADERS, bad]).status).toBe(Status.BAD_ARGUMENT);
    }
    expect(h.services.requests).toEqual([]);
    expect(h.lines.filter((l) => l.level === PINO.warn).map((l) => l.msg)).toEqual([
      'http_call refused: HTTP cannot carry the header "x-bad" or its value',
      'http_call refused: HTTP cannot carry the header "bad name" or its value',
    ]);
  });

  it('logs a refusal repeated on every request once per interval, counting the ones held back', async () => {
    const h = await harness('abi-http-call');
    const missing = GOOD_HEADERS.filter(([k]) => k !== ':path');
    for (let i = 0; i < 50; i++) expect(dispatch(h, h.plugin.root, missing).status).toBe(Status.BAD_ARGUMENT);
    expect(dispatch(h, h.plugin.root, GOOD_HEADERS, -1).status).toBe(Status.BAD_ARGUMENT);
    const warn = h.lines.filter((l) => l.level === PINO.warn);
    // one line per reason; the next line of the first reason would say suppressed: 49
    expect(warn.map((l) => l.msg)).toEqual(['http_call refused: the :path header is required', 'http_call refused: negative timeout']);
    expect(warn[0]!['suppressed']).toBe(0);
  });

  it('refuses a negative timeout', async () => {
    const h = await harness('abi-http-call');
    expect(dispatch(h, h.plugin.root, GOOD_HEADERS, -1).status).toBe(Status.BAD_ARGUMENT);
    expect(h.lines.filter((l) => l.level === PINO.warn).map((l) => l.msg)).toEqual(['http_call refused: negative timeout']);
  });

  it('refuses with the reason the services give (e.g. an unknown cluster)', async () => {
    const h = await harness('abi-http-call');
    h.services.refuse = "unknown cluster 'cluster'";
    expect(dispatch(h, h.plugin.root).status).toBe(Status.BAD_ARGUMENT);
    expect(h.lines.filter((l) => l.level === PINO.warn).map((l) => l.msg)).toEqual(["http_call refused: unknown cluster 'cluster'"]);
  });
});

describe('dispatch', () => {
  it('hands the services the upstream, lower-cased headers, body, trailers and timeout', async () => {
    const h = await harness('abi-http-call');
    const { ctx } = h.stream();
    const r = dispatch(h, ctx, [[':method', 'POST'], [':path', '/x'], [':authority', 'svc'], ['X-Trace', 'abc']], 2500);
    expect(r.status).toBe(Status.OK);
    expect(h.services.requests).toHaveLength(1);
    expect(h.services.requests[0]!.request).toMatchObject({
      plugin: 'test-filter',
      upstream: 'cluster',
      headers: [
        [':method', 'POST'],
        [':path', '/x'],
        [':authority', 'svc'],
        ['x-trace', 'abc'],
      ],
      body: Buffer.from('ping'),
      trailers: [],
      timeoutMs: 2500,
    });
  });

  it('tokens are non-zero and unique', async () => {
    const h = await harness('abi-http-call');
    const { ctx } = h.stream();
    const tokens = [dispatch(h, ctx).token, dispatch(h, h.plugin.root).token, dispatch(h, ctx).token];
    for (const token of tokens) expect([0, 0xdeadbeef]).not.toContain(token);
    expect(new Set(tokens).size).toBe(3);
  });
});

describe('outstanding calls', () => {
  it(`are at most ${MAX_PENDING_HTTP_CALLS} per plugin: one more is refused until one is answered`, async () => {
    const h = await harness('abi-http-call');
    for (let i = 0; i < MAX_PENDING_HTTP_CALLS; i++) expect(dispatch(h, h.plugin.root).status).toBe(Status.OK);
    expect(dispatch(h, h.plugin.root)).toEqual({ status: Status.BAD_ARGUMENT, token: 0 });
    expect(h.services.requests).toHaveLength(MAX_PENDING_HTTP_CALLS);
    expect(h.lines.filter((l) => l.level === PINO.warn).map((l) => l.msg)).toEqual([
      `http_call refused: too many calls outstanding (a filter may have ${MAX_PENDING_HTTP_CALLS} calls or ${MAX_PENDING_HTTP_CALL_BYTES >> 20} MiB of requests waiting for answers)`,
    ]);
    h.services.requests[0]!.done(RESPONSE);
    expect(dispatch(h, h.plugin.root).status).toBe(Status.OK);
  });

  it('hold at most MAX_PENDING_HTTP_CALL_BYTES of requests per plugin; a call answered at once holds nothing', async () => {
    const h = await harness('abi-http-call');
    const big: Array<[string, string]> = [...GOOD_HEADERS, ['x-big', 'b'.repeat(150_000)]];
    const each = 150_000 + 5 + 4 + GOOD_HEADERS.reduce((n, [k, v]) => n + k.length + v.length, 0); // + x-big, the 4-byte body
    h.services.completeSynchronously = RESPONSE;
    for (let i = 0; i < 1000; i++) expect(dispatch(h, h.plugin.root, big).status).toBe(Status.OK);
    h.services.completeSynchronously = null;
    const fit = Math.floor(MAX_PENDING_HTTP_CALL_BYTES / each);
    for (let i = 0; i < fit; i++) expect(dispatch(h, h.plugin.root, big).status).toBe(Status.OK);
    expect(dispatch(h, h.plugin.root, big).status).toBe(Status.BAD_ARGUMENT);
    // A small call still fits in what is left.
    expect(dispatch(h, h.plugin.root).status).toBe(Status.OK);
  });
});

describe('completion', () => {
  it('is delivered to the ROOT context with (token, headers, body size, trailers), maps 6/7 and buffer 4 readable', async () => {
    const h = await harness('abi-http-call');
    const { ctx } = h.stream();
    const { token } = dispatch(h, ctx);
    setImmediate(() => h.services.requests[0]!.done(RESPONSE));
    expect(h.mem.trace()).toEqual([]); // nothing yet
    await nextTurn();
    const trailersSize = pairsBytes([['grpc-status', '0']]).length;
    expect(h.mem.trace().flat()).toEqual([
      1, token, 2, 4, 1, // root id, token, counts
      Status.OK, // :status from map 6
      Status.OK, // body from buffer 4
      Status.OK, trailersSize, // map 7 pairs
      Status.OK, Status.OK, // get_status: OK, code 0
    ]);
    expect(h.guestLogs()).toEqual(['dispatched', '200', 'pong', '']);
  });

  it('the response stays readable after the guest switched to the calling stream', async () => {
    const h = await harness('abi-http-call');
    const { ctx } = h.stream();
    const { token } = dispatch(h, ctx);
    h.mem.setU32(0x30, ctx.id);
    h.services.requests[0]!.done(RESPONSE);
    const trailersSize = pairsBytes([['grpc-status', '0']]).length;
    expect(h.mem.trace().flat()).toEqual([1, token, 2, 4, 1, Status.OK, Status.OK, Status.OK, trailersSize, Status.OK, Status.OK]);
    expect(h.guestLogs()).toEqual(['dispatched', '200', 'pong', '']);
  });

  it('the response is readable only during the callback', async () => {
    const h = await harness('abi-http-call');
    dispatch(h, h.plugin.root);
    h.services.requests[0]!.done(RESPONSE);
    const seen = h.mem.trace().length;
    h.call('read_result', h.plugin.root);
    // map 6 value → NOT_FOUND, buffer 4 → NOT_FOUND, map 6 pairs → OK with size 0
    expect(h.mem.trace().slice(seen).flat()).toEqual([Status.NOT_FOUND, Status.NOT_FOUND, Status.OK, 0]);
    expect(h.plugin.callResult).toBeNull();
  });

  it('a completion from inside proxy_http_call waits until the guest call returned', async () => {
    const h = await harness('abi-http-call');
    h.services.completeSynchronously = RESPONSE;
    const { ctx } = h.stream();
    const { status, token } = dispatch(h, ctx);
    expect(status).toBe(Status.OK);
    // "dispatched" was logged by the guest after proxy_http_call returned, before the callback ran.
    expect(h.guestLogs()).toEqual(['dispatched', '200', 'pong', '']);
    expect(h.mem.trace().flat().slice(0, 5)).toEqual([1, token, 2, 4, 1]);
  });

  it('a failure is delivered as (0,0,0) with get_status = (11, "reset")', async () => {
    const h = await harness('abi-http-call');
    const { token } = dispatch(h, h.plugin.root);
    h.services.requests[0]!.done(new Error('connect ECONNREFUSED'));
    expect(h.mem.trace().flat()).toEqual([
      1, token, 0, 0, 0,
      Status.NOT_FOUND, // no :status
      Status.OK, // empty body: OK (0,0)
      Status.OK, 0, // empty trailers
      Status.OK, Status.BROKEN_CONNECTION,
    ]);
    expect(h.guestLogs()).toEqual(['dispatched', '', '', 'reset']);
    // The status is cleared once the callback returned.
    expect(h.plugin.root.status).toEqual({ code: 0, message: '' });
  });

  it('still reaches the root after the dispatching stream ended', async () => {
    const h = await harness('abi-http-call');
    const { ctx } = h.stream();
    const { token } = dispatch(h, ctx);
    h.plugin.finishStream(ctx);
    h.services.requests[0]!.done(RESPONSE);
    expect(h.mem.trace().flat().slice(0, 2)).toEqual([1, token]);
  });

  it('pending calls are cancelled when the plugin stops, and a late completion is dropped', async () => {
    const h = await harness('abi-http-call');
    dispatch(h, h.plugin.root);
    h.plugin.stop();
    expect(h.services.requests[0]!.cancelled).toBe(true);
    h.services.requests[0]!.done(RESPONSE);
    expect(h.mem.trace()).toEqual([]);
  });

  it('a completion for a failed VM is dropped without throwing', async () => {
    const h = await harness('abi-http-call');
    dispatch(h, h.plugin.root);
    h.vm.fail('watchdog');
    expect(() => h.services.requests[0]!.done(RESPONSE)).not.toThrow();
    expect(h.mem.trace()).toEqual([]);
  });
});
