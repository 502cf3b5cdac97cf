// Stream control and re-entrancy: continue/close/local reply reach the StreamHost, deferred
// actions run only after the guest call returned, argument checks, and the effective context
// (reference §4.2, §4.8, §7.5, §7.14, §10 items 12-14).

import { describe, expect, it } from 'vitest';
import { defer, step } from '../../src/abi/deferred.ts';
import { MapType, Status, StreamType } from '../../src/abi/types.ts';
import { harness, MemoryHost, pairsBytes, PINO, SCRATCH, type Harness, type HostEvent } from './helpers.ts';

/** A harness whose guest log lines land in the same event list as the host's actions. */
async function recording() {
  const events: HostEvent[] = [];
  const h = await harness('abi-stream-control', {
    onLog: (line) => {
      if (line.wasm !== undefined) events.push({ kind: 'log', msg: line.msg });
    },
  });
  const host = new MemoryHost(events).withHeaders(MapType.HTTP_REQUEST_HEADERS, [['x-who', 'first']]);
  const { ctx } = h.stream(host);
  return { h, ctx, host, events };
}

function callback(h: Harness, ctx: { id: number }, name: 'proxy_on_request_headers' | 'proxy_on_response_headers'): number {
  return h.vm.call(h.vm.contexts.get(ctx.id)!, name, h.vm.exports[name]!, ctx.id, 1, 0);
}

describe('actions requested inside a callback', () => {
  it('continue_stream reaches the StreamHost during the call', async () => {
    const { h, ctx, events } = await recording();
    expect(callback(h, ctx, 'proxy_on_request_headers')).toBe(0);
    expect(h.mem.trace()).toEqual([[Status.OK]]);
    expect(events).toEqual([
      { kind: 'log', msg: 'before continue' },
      { kind: 'continue', type: StreamType.HTTP_REQUEST },
      { kind: 'log', msg: 'after continue' },
    ]);
  });

  it('a host that defers runs the action only after the guest call (and the driver step) returned', async () => {
    const { h, ctx, host, events } = await recording();
    let stateWhenRan: unknown = 'never ran';
    host.continueStream = (type) => {
      events.push({ kind: 'continue', type });
      step(() => {}); // a nested step inside the host call must not drain the queue early
      defer(() => {
        stateWhenRan = { current: h.vm.current, effective: h.vm.effective };
        events.push({ kind: 'ran', what: `continue ${type}` });
      });
    };
    // The proxy's stream driver runs callbacks inside its own step, as here.
    const result = step(() => {
      const r = callback(h, ctx, 'proxy_on_request_headers');
      events.push({ kind: 'ran', what: 'driver step still running' });
      return r;
    });
    expect(result).toBe(0);
    expect(events).toEqual([
      { kind: 'log', msg: 'before continue' },
      { kind: 'continue', type: StreamType.HTTP_REQUEST },
      { kind: 'log', msg: 'after continue' },
      { kind: 'ran', what: 'driver step still running' },
      { kind: 'ran', what: 'continue 0' },
    ]);
    // No guest call is in progress when the action runs.
    expect(stateWhenRan).toEqual({ current: null, effective: null });
  });

  it('with no enclosing step, the deferred action runs as the outermost guest call ends', async () => {
    const { h, ctx, host, events } = await recording();
    host.deferActions = true;
    callback(h, ctx, 'proxy_on_request_headers');
    events.push({ kind: 'ran', what: 'vm.call returned' });
    expect(events.map((e) => (e.kind === 'log' ? e.msg : e.kind === 'ran' ? e.what : e.kind))).toEqual([
      'before continue',
      'continue',
      'after continue',
      'continue 0',
      'vm.call returned',
    ]);
  });

  it('send_local_response passes status, details (whitespace → _), body, headers and grpc status', async () => {
    const { h, ctx, host, events } = await recording();
    host.deferActions = true;
    expect(callback(h, ctx, 'proxy_on_response_headers')).toBe(0);
    expect(h.mem.trace()).toEqual([[Status.OK]]);
    expect(events).toEqual([
      {
        kind: 'local-reply',
        reply: { status: 403, details: 'access__denied', body: Buffer.from('denied\n'), headers: [['x-reason', 'wasm']], grpcStatus: -1 },
      },
      { kind: 'log', msg: 'after reply' },
      { kind: 'ran', what: 'local reply 403' },
    ]);
  });
});

describe('argument checks', () => {
  it('continue_stream: HTTP_REQUEST/HTTP_RESPONSE OK, UPSTREAM UNIMPLEMENTED, type > 3 BAD_ARGUMENT', async () => {
    const { h, ctx, events } = await recording();
    expect(h.call('continue_stream', ctx, StreamType.HTTP_RESPONSE)).toBe(Status.OK);
    expect(h.call('continue_stream', ctx, StreamType.UPSTREAM)).toBe(Status.UNIMPLEMENTED);
    expect(h.call('continue_stream', ctx, 4)).toBe(Status.BAD_ARGUMENT);
    expect(h.call('continue_stream', ctx, -1)).toBe(Status.BAD_ARGUMENT);
    expect(events).toEqual([{ kind: 'continue', type: StreamType.HTTP_RESPONSE }]);
  });

  it('close_stream reaches the host; type > 3 is BAD_ARGUMENT', async () => {
    const { h, ctx, events } = await recording();
    expect(h.call('close_stream', ctx, StreamType.HTTP_RESPONSE)).toBe(Status.OK);
    expect(h.call('close_stream', ctx, 4)).toBe(Status.BAD_ARGUMENT);
    expect(events).toEqual([{ kind: 'close', type: StreamType.HTTP_RESPONSE }]);
  });

  it('ABI 0.1.0 continue_request / continue_response map to continue_stream(0 / 1)', async () => {
    const { h, ctx, events } = await recording();
    expect(h.call('continue_request', ctx)).toBe(Status.OK);
    expect(h.call('continue_response', ctx)).toBe(Status.OK);
    expect(events).toEqual([
      { kind: 'continue', type: StreamType.HTTP_REQUEST },
      { kind: 'continue', type: StreamType.HTTP_RESPONSE },
    ]);
  });

  it('send_local_response with status 1000 (or 99) is BAD_ARGUMENT, sends nothing and tells the stream', async () => {
    const { h, ctx, events } = await recording();
    expect(h.call('send_local_response', ctx, 1000)).toBe(Status.BAD_ARGUMENT);
    expect(h.call('send_local_response', ctx, 99)).toBe(Status.BAD_ARGUMENT);
    expect(h.call('send_local_response', ctx, -1)).toBe(Status.BAD_ARGUMENT);
    expect(events.map((e) => e.kind)).toEqual(['local-reply-refused', 'local-reply-refused', 'local-reply-refused']);
    // One line per interval, not one per refusal: a filter may ask this on every request.
    const warned = h.lines.filter((l) => l.level === PINO.warn && l.msg.startsWith('send_local_response refused'));
    expect(warned.map((l) => l['status'])).toEqual([1000]);
    expect(h.call('send_local_response', ctx, 200)).toBe(Status.OK);
    expect(events.map((e) => e.kind).at(-1)).toBe('local-reply');
  });

  it('send_local_response with a header HTTP cannot carry is BAD_ARGUMENT, sends nothing and tells the stream', async () => {
    const { h, ctx, events } = await recording();
    // Same size as the fixture's {x-reason: wasm} at 0x160, with CR LF in the value.
    h.mem.write(0x160, pairsBytes([['x-reason', 'w\r\nm']]));
    expect(h.call('send_local_response', ctx, 403)).toBe(Status.BAD_ARGUMENT);
    expect(events).toEqual([{ kind: 'local-reply-refused' }]);
    const warn = h.lines.filter((l) => l.level === PINO.warn);
    expect(warn.map((l) => [l.msg, l['name']])).toEqual([['send_local_response refused: HTTP cannot carry this header name or value', 'x-reason']]);
  });

  it('from a root context, continue and local reply are OK no-ops', async () => {
    const { h, events } = await recording();
    expect(h.call('continue_stream', h.plugin.root, StreamType.HTTP_REQUEST)).toBe(Status.OK);
    expect(h.call('send_local_response', h.plugin.root, 403)).toBe(Status.OK);
    expect(events).toEqual([]);
  });
});

describe('proxy_set_effective_context', () => {
  async function twoStreams() {
    const r = await recording();
    const second = new MemoryHost(r.events).withHeaders(MapType.HTTP_REQUEST_HEADERS, [['x-who', 'second']]);
    const other = r.h.stream(second).ctx;
    return { ...r, other, second };
  }

  function switchThenGet(h: Harness, from: { id: number }, to: number): { switched: number; status: number; value: string | null } {
    const [k, kl] = h.mem.write(SCRATCH, 'x-who');
    h.mem.poisonOut();
    const before = h.mem.trace().length;
    const status = h.call('switch_then_get', from, to, k, kl);
    const switched = h.mem.trace()[before]![0]!;
    return { switched, status, value: status === Status.OK ? h.mem.outString() : null };
  }

  it('answers BAD_ARGUMENT for unknown ids (and 0) without switching', async () => {
    const { h, ctx } = await twoStreams();
    for (const id of [99, 0, -1]) {
      expect(switchThenGet(h, ctx, id)).toEqual({ switched: Status.BAD_ARGUMENT, status: Status.OK, value: 'first' });
    }
  });

  it('answers BAD_ARGUMENT for a stream that already ended', async () => {
    const { h, other } = await twoStreams();
    h.plugin.finishStream(other);
    expect(h.call('set_effective_context', h.plugin.root, other.id)).toBe(Status.BAD_ARGUMENT);
  });

  it('from the root to a live stream: later calls in the same guest call act on that stream', async () => {
    const { h, other } = await twoStreams();
    expect(switchThenGet(h, h.plugin.root, other.id)).toEqual({ switched: Status.OK, status: Status.OK, value: 'second' });
  });

  it('from one stream to another', async () => {
    const { h, ctx, other } = await twoStreams();
    expect(switchThenGet(h, ctx, other.id)).toEqual({ switched: Status.OK, status: Status.OK, value: 'second' });
    expect(switchThenGet(h, other, ctx.id)).toEqual({ switched: Status.OK, status: Status.OK, value: 'first' });
  });

  it('resets at the next guest call', async () => {
    const { h, other } = await twoStreams();
    expect(switchThenGet(h, h.plugin.root, other.id).value).toBe('second');
    expect(h.vm.effective).toBeNull();
    // A new call as the root: the root has no stream, so the header is not found.
    const [k, kl] = h.mem.write(SCRATCH, 'x-who');
    expect(h.call('get_value', h.plugin.root, k, kl)).toBe(Status.NOT_FOUND);
  });

  it('stream actions follow the effective context (postpone_requests pattern: resume from the root)', async () => {
    const { h, other, events } = await twoStreams();
    events.length = 0;
    expect(h.call('switch_then_continue', h.plugin.root, other.id)).toBe(Status.OK);
    expect(events).toEqual([{ kind: 'continue', type: StreamType.HTTP_REQUEST }]);
    // Switching to the root context itself is allowed; stream actions then have no stream.
    events.length = 0;
    expect(h.call('switch_then_continue', other, h.plugin.root.id)).toBe(Status.OK);
    expect(events).toEqual([]);
  });
});
