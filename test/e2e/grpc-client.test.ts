// The gRPC transport (src/proxy/grpc-client.ts) against a real node:http2 server: it reports
// the bytes of messages the server has taken (GrpcEvents.onSent), which is how a filter's
// unsent gRPC messages are bounded (src/abi/grpc.ts). A server that stops reading leaves them
// unreported until it reads again or the stream ends.

import http2, { type Http2Server, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { GrpcEvents, GrpcStreamHandle } from '../../src/abi/grpc.ts';
import { Clusters } from '../../src/proxy/cluster.ts';
import { GrpcClient } from '../../src/proxy/grpc-client.ts';

const MiB = 1024 * 1024;

interface Recorded extends GrpcEvents {
  sent: number;
  closed: [number, string] | null;
}

function recorder(): Recorded {
  const r: Recorded = {
    sent: 0,
    closed: null,
    onInitialMetadata: () => {},
    onMessage: () => {},
    onTrailingMetadata: () => {},
    onClose: (status, message) => void (r.closed = [status, message]),
    onSent: (bytes) => void (r.sent += bytes),
  };
  return r;
}

const until = async (what: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

let server: Http2Server | null = null;
let client: GrpcClient | null = null;

afterEach(async () => {
  await client?.close();
  await new Promise<void>((resolve) => (server === null ? resolve() : server.close(() => resolve())));
  server = null;
  client = null;
});

/** A server whose streams start paused (taking nothing past HTTP/2's flow-control window). */
async function start(): Promise<{ streams: ServerHttp2Stream[] }> {
  const streams: ServerHttp2Stream[] = [];
  server = http2.createServer();
  server.on('stream', (stream) => {
    stream.on('error', () => {});
    stream.pause();
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    streams.push(stream);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const clusters = new Clusters([
    { name: 'grpc', endpoints: [{ host: '127.0.0.1', port }], connectTimeoutMs: 1000, timeoutMs: 0, protocol: 'http2', maxConnections: 1, maxPendingRequests: 1024, metadata: {} },
  ]);
  client = new GrpcClient(clusters, pino({ level: 'silent' }));
  return { streams };
}

const target = { cluster: 'grpc', serviceName: 'test.Echo', method: 'Stream', initialMetadata: [] };

describe('the gRPC transport reports what the server took', () => {
  it('a stream: messages beyond the flow-control window stay unreported until the server reads', async () => {
    const { streams } = await start();
    const events = recorder();
    const handle = client!.stream(target, events) as GrpcStreamHandle;
    expect(typeof handle).toBe('object');
    for (let i = 0; i < 4; i++) handle.send(Buffer.alloc(MiB, i), false);
    await until(() => streams.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(events.sent).toBeLessThan(MiB); // at most HTTP/2's 64 KiB window went out
    streams[0]!.resume();
    await until(() => events.sent === 4 * MiB);
    expect(events.closed).toBeNull();
    handle.cancel();
  });

  it('a unary call: its message is reported once written', async () => {
    const { streams } = await start();
    const events = recorder();
    client!.call({ ...target, method: 'Unary', message: Buffer.alloc(1000), timeoutMs: 0 }, events);
    await until(() => streams.length === 1);
    streams[0]!.resume();
    await until(() => events.sent === 1000);
  });

  it('nothing is reported after the call ended, though its messages were never taken', async () => {
    const { streams } = await start();
    const events = recorder();
    const handle = client!.stream(target, events) as GrpcStreamHandle;
    handle.send(Buffer.alloc(2 * MiB), false);
    await until(() => streams.length === 1);
    streams[0]!.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    await until(() => events.closed !== null);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(events.sent).toBeLessThan(MiB);
  });
});
