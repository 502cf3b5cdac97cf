// gRPC callouts at the ABI (reference §4.10, §5.5): proxy_grpc_call / stream / send / cancel /
// close against a fake transport, and how the transport's events reach the guest — to the ROOT
// context, with the token, never re-entrantly, with buffer 5 / maps 4 and 5 / proxy_get_status
// readable during the matching callback only.

import { describe, expect, it } from 'vitest';
import type { GrpcCallRequest, GrpcEvents, GrpcTarget, GrpcTransport } from '../../src/abi/grpc.ts';
import { MAX_OPEN_GRPC_CALLS, MAX_UNSENT_GRPC_BYTES } from '../../src/abi/limits.ts';
import { MapType, Status } from '../../src/abi/types.ts';
import { CallServices, harness, pairsBytes, SCRATCH, type Harness } from './helpers.ts';

interface FakeExchange {
  kind: 'call' | 'stream';
  request: GrpcCallRequest | GrpcTarget;
  events: GrpcEvents;
  sent: Array<[string, boolean]>;
  halfClosed: boolean;
  cancelled: boolean;
}

/** A transport that records what the ABI asked for and lets the test play the server. */
class FakeGrpc implements GrpcTransport {
  readonly clusters = new Set(['backend']);
  readonly exchanges: FakeExchange[] = [];
  /** When set, the next call/stream fails to start with this reason. */
  failToStart: string | null = null;
  /** When set, call() reports this close synchronously (breaking the contract on purpose). */
  closeSynchronously: [number, string] | null = null;

  refuse(cluster: string): string | null {
    return this.clusters.has(cluster) ? null : `unknown cluster '${cluster}'`;
  }

  call(request: GrpcCallRequest, events: GrpcEvents) {
    const x = this.#record('call', request, events);
    if (typeof x === 'string') return x;
    if (this.closeSynchronously !== null) events.onClose(...this.closeSynchronously);
    return { cancel: () => void (x.cancelled = true) };
  }

  stream(target: GrpcTarget, events: GrpcEvents) {
    const x = this.#record('stream', target, events);
    if (typeof x === 'string') return x;
    return {
      send: (message: Buffer, endStream: boolean) => void x.sent.push([message.toString('latin1'), endStream]),
      close: () => void (x.halfClosed = true),
      cancel: () => void (x.cancelled = true),
    };
  }

  #record(kind: 'call' | 'stream', request: GrpcCallRequest | GrpcTarget, events: GrpcEvents): FakeExchange | string {
    if (this.failToStart !== null) return this.failToStart;
    const x: FakeExchange = { kind, request, events, sent: [], halfClosed: false, cancelled: false };
    this.exchanges.push(x);
    return x;
  }

  last(back = -1): FakeExchange {
    return this.exchanges.at(back)!;
  }
}

class GrpcServices extends CallServices {
  readonly grpc = new FakeGrpc();
}

const ARGS = SCRATCH;

interface CallArgs {
  service?: string | Buffer;
  serviceName?: string;
  method?: string;
  metadata?: ReadonlyArray<readonly [string, string]>;
  message?: string;
  timeoutMs?: number;
}

/** Writes the argument block and the strings it points to; returns its address. */
function writeArgs(h: Harness, a: CallArgs): number {
  let next = ARGS + 0x100;
  const put = (data: string | Uint8Array): [number, number] => {
    const [ptr, len] = h.mem.write(next, data);
    next += len + 8;
    return [ptr, len];
  };
  const words = [
    ...put(a.service ?? 'backend'),
    ...put(a.serviceName ?? 'pkg.Echo'),
    ...put(a.method ?? 'Say'),
    ...put(pairsBytes(a.metadata ?? [])),
    ...put(a.message ?? 'ping'),
    a.timeoutMs ?? 0,
  ];
  words.forEach((w, i) => h.mem.setU32(ARGS + i * 4, w));
  return ARGS;
}

async function setup() {
  const services = new GrpcServices();
  const h = await harness('abi-grpc', { services });
  return { h, fake: services.grpc, root: h.plugin.root.id };
}

function call(h: Harness, ctx: { id: number }, a: CallArgs = {}): { status: number; token: number } {
  h.mem.setU32(0x08, 0xdeadbeef);
  const status = h.call('grpc_call', ctx, writeArgs(h, a));
  return { status, token: h.mem.u32(0x08) };
}

function stream(h: Harness, ctx: { id: number }, a: CallArgs = {}): { status: number; token: number } {
  h.mem.setU32(0x08, 0xdeadbeef);
  const status = h.call('grpc_stream', ctx, writeArgs(h, a));
  return { status, token: h.mem.u32(0x08) };
}

interface Record {
  kind: number;
  ctx: number;
  token: number;
  n: number;
  status: number;
  data: string;
  statusCode: number;
}

const KIND = { INITIAL: 1, MESSAGE: 2, TRAILING: 3, CLOSE: 4 } as const;

function records(h: Harness): Record[] {
  return h.mem.trace(8).map(([kind, ctx, token, n, status, ptr, size, extra]) => ({
    kind: kind!,
    ctx: ctx!,
    token: token! >>> 0,
    n: n!,
    status: status!,
    data: h.mem.bytes(ptr!, size!).toString('latin1'),
    statusCode: extra!,
  }));
}

/** Decodes serialized pairs (independent of src/abi/pairs.ts). */
function pairsOf(bytes: string): Array<[string, string]> {
  const buf = Buffer.from(bytes, 'latin1');
  if (buf.length === 0) return [];
  const n = buf.readUInt32LE(0);
  let data = 4 + n * 8;
  const out: Array<[string, string]> = [];
  for (let i = 0; i < n; i++) {
    const k = buf.readUInt32LE(4 + i * 8);
    const v = buf.readUInt32LE(8 + i * 8);
    const key = buf.subarray(data, data + k).toString('latin1');
    data += k + 1;
    const value = buf.subarray(data, data + v).toString('latin1');
    data += v + 1;
    out.push([key, value]);
  }
  return out;
}

describe('proxy_grpc_call', () => {
  it('sends the call to the transport and answers OK with a grpc_call token (≡ 1 mod 4)', async () => {
    const { h, fake, root } = await setup();
    const first = call(h, { id: root }, { metadata: [['X-Trace', 'abc']], message: 'ping', timeoutMs: 1500 });
    expect(first).toEqual({ status: Status.OK, token: 5 });
    expect(fake.last().kind).toBe('call');
    expect(fake.last().request).toEqual({
      cluster: 'backend',
      serviceName: 'pkg.Echo',
      method: 'Say',
      initialMetadata: [['x-trace', 'abc']],
      message: Buffer.from('ping'),
      timeoutMs: 1500,
    });
    expect(call(h, { id: root }).token).toBe(9);
  });

  it('delivers a successful unary call as proxy_on_grpc_receive only, to the root context, with buffer 5', async () => {
    const { h, fake, root } = await setup();
    const { ctx } = h.stream();
    const { token } = call(h, ctx); // from a stream context: the call still belongs to the root
    const events = fake.last().events;
    events.onInitialMetadata([[':status', '200']]);
    events.onMessage(Buffer.from('pong!'));
    events.onTrailingMetadata([['grpc-status', '0']]);
    expect(records(h)).toEqual([]); // Envoy's unary handler reports only the outcome
    events.onClose(0, '');
    expect(records(h)).toEqual([{ kind: KIND.MESSAGE, ctx: root, token, n: 5, status: Status.OK, data: 'pong!', statusCode: 0 }]);
    // The message is readable only during the callback.
    expect(h.call('read_message', { id: root })).toBe(Status.NOT_FOUND);
    // The call is over: the token is unknown now.
    expect(h.call('grpc_cancel', { id: root }, token)).toBe(Status.NOT_FOUND);
  });

  it('delivers a failed call as proxy_on_grpc_close with the status, and the message in proxy_get_status', async () => {
    const { h, fake, root } = await setup();
    const { token } = call(h, { id: root });
    fake.last().events.onClose(14, 'upstream connect error');
    expect(records(h)).toEqual([{ kind: KIND.CLOSE, ctx: root, token, n: 14, status: Status.OK, data: 'upstream connect error', statusCode: 14 }]);
  });

  it('reports OK without a response message as INTERNAL (13), as Envoy does', async () => {
    const { h, fake, root } = await setup();
    const { token } = call(h, { id: root });
    fake.last().events.onClose(0, '');
    expect(records(h)).toEqual([{ kind: KIND.CLOSE, ctx: root, token, n: 13, status: Status.OK, data: '', statusCode: 13 }]);
  });

  it('accepts a serialized GrpcService naming the cluster', async () => {
    const { h, fake, root } = await setup();
    const name = Buffer.from('backend');
    const envoyGrpc = Buffer.concat([Buffer.from([0x0a, name.length]), name]);
    const service = Buffer.concat([Buffer.from([0x0a, envoyGrpc.length]), envoyGrpc]);
    expect(call(h, { id: root }, { service }).status).toBe(Status.OK);
    expect(fake.last().request.cluster).toBe('backend');
  });

  it('answers PARSE_FAILURE for an unknown cluster (plain or in a GrpcService), sends nothing and logs why', async () => {
    const { h, fake, root } = await setup();
    expect(call(h, { id: root }, { service: 'nowhere' })).toEqual({ status: Status.PARSE_FAILURE, token: 0 });
    const service = Buffer.from([0x0a, 0x04, 0x0a, 0x02, 0x6e, 0x6f]); // envoy_grpc { cluster_name: "no" }
    expect(call(h, { id: root }, { service })).toEqual({ status: Status.PARSE_FAILURE, token: 0 });
    expect(stream(h, { id: root }, { service: 'nowhere' })).toEqual({ status: Status.PARSE_FAILURE, token: 0 });
    expect(fake.exchanges).toEqual([]);
    const warnings = h.lines.filter((l) => l.level === 40).map((l) => l.msg);
    expect(warnings).toEqual([
      "grpc_call refused: unknown cluster 'nowhere'",
      "grpc_call refused: unknown cluster 'no'",
      "grpc_stream refused: unknown cluster 'nowhere'",
    ]);
  });

  it('answers INTERNAL_FAILURE when the transport cannot start the call, or there is no transport', async () => {
    const { h, fake, root } = await setup();
    fake.failToStart = 'session gone';
    expect(call(h, { id: root })).toEqual({ status: Status.INTERNAL_FAILURE, token: 0 });
    expect(stream(h, { id: root })).toEqual({ status: Status.INTERNAL_FAILURE, token: 0 });
    const bare = await harness('abi-grpc');
    expect(call(bare, { id: bare.plugin.root.id }).status).toBe(Status.INTERNAL_FAILURE);
  });

  it('checks pointers and metadata before sending anything', async () => {
    const { h, fake, root } = await setup();
    const args = writeArgs(h, {});
    expect(h.call('grpc_call_to', { id: root }, args, h.mem.size)).toBe(Status.INVALID_MEMORY_ACCESS);
    h.mem.setU32(args + 8 * 4, h.mem.size - 2); // message runs past the end of memory
    expect(h.call('grpc_call_to', { id: root }, args, 0x08)).toBe(Status.INVALID_MEMORY_ACCESS);
    const bad = writeArgs(h, {});
    h.mem.setU32(bad + 7 * 4, 12); // metadata claims 12 bytes of a 4-byte empty map
    h.mem.write(h.mem.u32(bad + 6 * 4), Buffer.from([5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    expect(h.call('grpc_call', { id: root }, bad)).toBe(Status.BAD_ARGUMENT);
    // Metadata HTTP/2 cannot carry: a CR LF in a value, a space in a name.
    expect(call(h, { id: root }, { metadata: [['x-a', 'a\r\nb']] }).status).toBe(Status.BAD_ARGUMENT);
    expect(stream(h, { id: root }, { metadata: [['x a', '1']] }).status).toBe(Status.BAD_ARGUMENT);
    expect(fake.exchanges).toEqual([]);
  });

  it('cancel stops the call: the transport is told and no callback follows', async () => {
    const { h, fake, root } = await setup();
    const { token } = call(h, { id: root });
    expect(h.call('grpc_cancel', { id: root }, token)).toBe(Status.OK);
    expect(fake.last().cancelled).toBe(true);
    fake.last().events.onMessage(Buffer.from('late'));
    fake.last().events.onClose(0, '');
    expect(records(h)).toEqual([]);
    expect(h.call('grpc_cancel', { id: root }, token)).toBe(Status.NOT_FOUND);
  });

  it('grpc_close on a unary call cancels it (Envoy)', async () => {
    const { h, fake, root } = await setup();
    const { token } = call(h, { id: root });
    expect(h.call('grpc_close', { id: root }, token)).toBe(Status.OK);
    expect(fake.last().cancelled).toBe(true);
    expect(h.call('grpc_close', { id: root }, token)).toBe(Status.NOT_FOUND);
  });

  it('never calls the guest from inside a host function: a synchronous completion waits for the guest to return', async () => {
    const { h, fake, root } = await setup();
    fake.closeSynchronously = [4, 'too slow'];
    const { status, token: slot } = call(h, { id: root });
    expect(status).toBe(Status.OK);
    expect(records(h)).toEqual([{ kind: KIND.CLOSE, ctx: root, token: 5, n: 4, status: Status.OK, data: 'too slow', statusCode: 4 }]);
    // 0x08 is both the token slot and where on_grpc_close lets proxy_get_status write the code:
    // it holds the code, so the callback ran after proxy_grpc_call had written the token.
    expect(slot).toBe(4);
  });

  it('stopping the plugin cancels calls and streams in flight', async () => {
    const { h, fake, root } = await setup();
    call(h, { id: root });
    stream(h, { id: root });
    h.plugin.stop();
    expect(fake.exchanges.map((x) => x.cancelled)).toEqual([true, true]);
  });
});

describe('proxy_grpc_stream', () => {
  it('opens a stream with a grpc_stream token (≡ 2 mod 4) and sends messages on it', async () => {
    const { h, fake, root } = await setup();
    const { status, token } = stream(h, { id: root }, { metadata: [['x-a', '1']] });
    expect(status).toBe(Status.OK);
    expect(token).toBe(6);
    expect(fake.last().request).toEqual({ cluster: 'backend', serviceName: 'pkg.Echo', method: 'Say', initialMetadata: [['x-a', '1']] });
    const [ptr, len] = h.mem.write(SCRATCH + 0x800, 'hello');
    expect(h.call('grpc_send', { id: root }, token, ptr, len, 0)).toBe(Status.OK);
    expect(h.call('grpc_send', { id: root }, token, ptr, 0, 1)).toBe(Status.OK);
    expect(fake.last().sent).toEqual([
      ['hello', false],
      ['', true],
    ]);
    // After end_stream nothing more can be sent.
    expect(h.call('grpc_send', { id: root }, token, ptr, len, 0)).toBe(Status.BAD_ARGUMENT);
    expect(stream(h, { id: root }).token).toBe(10);
  });

  it('delivers initial metadata, each message, trailing metadata and close to the root context', async () => {
    const { h, fake, root } = await setup();
    const { ctx } = h.stream();
    const { token } = stream(h, ctx);
    const events = fake.last().events;
    events.onInitialMetadata([
      [':status', '200'],
      ['x-m', 'one'],
      ['x-m', 'two'],
    ]);
    events.onMessage(Buffer.from('m1'));
    events.onMessage(Buffer.alloc(0));
    events.onTrailingMetadata([
      ['grpc-status', '0'],
      ['x-t', 'end'],
    ]);
    events.onClose(0, '');
    const got = records(h);
    expect(got.map((r) => [r.kind, r.ctx, r.token, r.n, r.status])).toEqual([
      [KIND.INITIAL, root, token, 3, Status.OK],
      [KIND.MESSAGE, root, token, 2, Status.OK],
      [KIND.MESSAGE, root, token, 0, Status.OK],
      [KIND.TRAILING, root, token, 2, Status.OK],
      [KIND.CLOSE, root, token, 0, Status.OK],
    ]);
    expect(pairsOf(got[0]!.data)).toEqual([
      [':status', '200'],
      ['x-m', 'one'],
      ['x-m', 'two'],
    ]);
    expect(got[1]!.data).toBe('m1');
    expect(got[2]!.data).toBe('');
    expect(pairsOf(got[3]!.data)).toEqual([
      ['grpc-status', '0'],
      ['x-t', 'end'],
    ]);
    expect(got[4]!.statusCode).toBe(0);
    // Nothing of it is readable outside the callbacks.
    expect(h.call('read_message', { id: root })).toBe(Status.NOT_FOUND);
    expect(h.call('read_metadata', { id: root }, MapType.GRPC_CALL_INITIAL_METADATA)).toBe(Status.OK);
    expect(h.mem.out()).toEqual([0, 0]);
    expect(h.call('read_metadata', { id: root }, MapType.GRPC_CALL_TRAILING_METADATA)).toBe(Status.OK);
    expect(h.mem.out()).toEqual([0, 0]);
  });

  it('keeps a remotely closed stream until the guest closes it (Envoy), and refuses sends on it', async () => {
    const { h, fake, root } = await setup();
    const { token } = stream(h, { id: root });
    fake.last().events.onClose(13, 'boom');
    expect(records(h).map((r) => [r.kind, r.n, r.data, r.statusCode])).toEqual([[KIND.CLOSE, 13, 'boom', 13]]);
    const [ptr, len] = h.mem.write(SCRATCH + 0x800, 'x');
    expect(h.call('grpc_send', { id: root }, token, ptr, len, 0)).toBe(Status.NOT_FOUND);
    expect(h.call('grpc_close', { id: root }, token)).toBe(Status.OK);
    expect(fake.last().halfClosed).toBe(false); // nothing left to half-close
    expect(h.call('grpc_close', { id: root }, token)).toBe(Status.NOT_FOUND);
  });

  it('grpc_close half-closes; the stream is forgotten once the server closes it too', async () => {
    const { h, fake, root } = await setup();
    const { token } = stream(h, { id: root });
    expect(h.call('grpc_close', { id: root }, token)).toBe(Status.OK);
    expect(fake.last().halfClosed).toBe(true);
    expect(fake.last().cancelled).toBe(false);
    fake.last().events.onMessage(Buffer.from('still coming'));
    fake.last().events.onClose(0, '');
    expect(records(h).map((r) => [r.kind, r.data])).toEqual([
      [KIND.MESSAGE, 'still coming'],
      [KIND.CLOSE, ''],
    ]);
    expect(h.call('grpc_close', { id: root }, token)).toBe(Status.NOT_FOUND);
  });

  it('a cancel from inside a callback drops the events already on their way', async () => {
    const { h, fake, root } = await setup();
    h.mem.setU32(0x50, 1); // on_grpc_receive_initial_metadata cancels its token
    const { token } = stream(h, { id: root });
    fake.last().events.onInitialMetadata([[':status', '200']]);
    fake.last().events.onMessage(Buffer.from('dropped'));
    fake.last().events.onClose(0, '');
    expect(records(h).map((r) => [r.kind, r.token])).toEqual([[KIND.INITIAL, token]]);
    expect(fake.last().cancelled).toBe(true);
  });
});

describe('grpc_send / grpc_cancel / grpc_close on tokens that are not live', () => {
  it('answer NOT_FOUND for unknown tokens and BAD_ARGUMENT for sending on a unary call', async () => {
    const { h, root } = await setup();
    const [ptr, len] = h.mem.write(SCRATCH + 0x800, 'x');
    for (const token of [0, 2, 6, 1002, 0xffffffff]) {
      expect(h.call('grpc_send', { id: root }, token, ptr, len, 0), `send ${token}`).toBe(Status.NOT_FOUND);
      expect(h.call('grpc_cancel', { id: root }, token), `cancel ${token}`).toBe(Status.NOT_FOUND);
      expect(h.call('grpc_close', { id: root }, token), `close ${token}`).toBe(Status.NOT_FOUND);
    }
    const { token } = call(h, { id: root });
    expect(h.call('grpc_send', { id: root }, token, ptr, len, 0)).toBe(Status.BAD_ARGUMENT);
    expect(h.call('grpc_send', { id: root }, token, h.mem.size, 4, 0)).toBe(Status.INVALID_MEMORY_ACCESS);
  });

  it('buffer 5 is NOT_FOUND and maps 4/5 read as empty outside gRPC callbacks, from any context', async () => {
    const { h, root } = await setup();
    const { ctx } = h.stream();
    for (const id of [root, ctx.id]) {
      expect(h.call('read_message', { id })).toBe(Status.NOT_FOUND);
      for (const type of [MapType.GRPC_CALL_INITIAL_METADATA, MapType.GRPC_CALL_TRAILING_METADATA]) {
        expect(h.call('read_metadata', { id }, type)).toBe(Status.OK);
        expect(h.mem.out()).toEqual([0, 0]);
      }
    }
  });
});

describe('bounds', () => {
  const warnings = (h: Harness) => h.lines.filter((l) => l.level === 40).map((l) => l.msg);

  it(`at most ${MAX_OPEN_GRPC_CALLS} calls and streams are open per plugin; one more is refused until one ends`, async () => {
    const { h, fake, root } = await setup();
    const tokens: number[] = [];
    for (let i = 0; i < MAX_OPEN_GRPC_CALLS; i++) {
      const started = i % 2 === 0 ? call(h, { id: root }) : stream(h, { id: root });
      expect(started.status).toBe(Status.OK);
      tokens.push(started.token);
    }
    // INTERNAL_FAILURE: the Rust SDK panics on BAD_ARGUMENT from these two.
    expect(call(h, { id: root })).toEqual({ status: Status.INTERNAL_FAILURE, token: 0 });
    expect(stream(h, { id: root })).toEqual({ status: Status.INTERNAL_FAILURE, token: 0 });
    expect(fake.exchanges).toHaveLength(MAX_OPEN_GRPC_CALLS);
    expect(warnings(h)).toEqual([
      `grpc_call refused: too many calls open (a filter may have ${MAX_OPEN_GRPC_CALLS} gRPC calls and streams open at once)`,
      `grpc_stream refused: too many calls open (a filter may have ${MAX_OPEN_GRPC_CALLS} gRPC calls and streams open at once)`,
    ]);
    // A call that ends (its close delivered) and a cancelled stream each make room for one.
    fake.exchanges[0]!.events.onClose(14, 'gone');
    expect(call(h, { id: root }).status).toBe(Status.OK);
    expect(h.call('grpc_cancel', { id: root }, tokens[1]!)).toBe(Status.OK);
    expect(stream(h, { id: root }).status).toBe(Status.OK);
    expect(call(h, { id: root }).status).toBe(Status.INTERNAL_FAILURE);
  });

  it(`hold at most ${MAX_UNSENT_GRPC_BYTES >> 20} MiB of messages the servers have not taken; what is sent, or ends with its call, frees room`, async () => {
    const { h, fake, root } = await setup();
    const chunk = 128 * 1024;
    const ptr = SCRATCH + 0x1000;
    h.mem.write(ptr, Buffer.alloc(chunk, 0x61));
    const a = stream(h, { id: root }).token;
    const b = stream(h, { id: root }).token;
    const streamA = fake.last(-2);
    const fit = MAX_UNSENT_GRPC_BYTES / chunk;
    for (let i = 0; i < fit; i++) expect(h.call('grpc_send', { id: root }, i % 2 === 0 ? a : b, ptr, chunk, 0), `send ${i}`).toBe(Status.OK);
    // Full: a send is refused (the stream stays usable), and so is a call carrying a message.
    expect(h.call('grpc_send', { id: root }, a, ptr, 1, 0)).toBe(Status.BAD_ARGUMENT);
    expect(call(h, { id: root }, { message: 'x' })).toEqual({ status: Status.INTERNAL_FAILURE, token: 0 });
    expect(h.call('grpc_send', { id: root }, a, ptr, 0, 0)).toBe(Status.OK); // an empty message holds nothing
    expect(streamA.sent).toHaveLength(fit / 2 + 1);
    expect(warnings(h)).toEqual([
      `grpc_send refused: too many message bytes waiting to be sent (a filter may have ${MAX_UNSENT_GRPC_BYTES >> 20} MiB of gRPC messages not yet taken by their servers)`,
      `grpc_call refused: too many message bytes waiting to be sent (a filter may have ${MAX_UNSENT_GRPC_BYTES >> 20} MiB of gRPC messages not yet taken by their servers)`,
    ]);
    // The server took one message of stream A.
    streamA.events.onSent(chunk);
    expect(h.call('grpc_send', { id: root }, a, ptr, chunk, 0)).toBe(Status.OK);
    expect(h.call('grpc_send', { id: root }, a, ptr, 1, 0)).toBe(Status.BAD_ARGUMENT);
    // Stream B ends: everything it held is gone with it, though the server never took it.
    fake.last().events.onClose(0, '');
    expect(h.call('grpc_send', { id: root }, a, ptr, chunk, 0)).toBe(Status.OK);
    expect(call(h, { id: root }, { message: 'x' }).status).toBe(Status.OK);
    // Cancelling A frees its share too.
    h.call('grpc_cancel', { id: root }, a);
    const c = stream(h, { id: root }).token;
    for (let i = 0; i < fit - 1; i++) expect(h.call('grpc_send', { id: root }, c, ptr, chunk, 0), `send ${i}`).toBe(Status.OK);
  });
});
