// The embedding side of gRPC callouts (PluginServices.grpc): gRPC over cleartext HTTP/2 (h2c) to
// a cluster's endpoints, one `http2.connect` session per endpoint, reused by every call and
// replaced when it closes or fails. Status codes follow Envoy's gRPC client: the server's
// grpc-status (trailers, or a trailers-only response), UNAVAILABLE when the call never got a
// response (refused, unreachable, reset before headers), INTERNAL when the stream broke after
// it, DEADLINE_EXCEEDED when our own deadline fired.

import http2, { type ClientHttp2Session, type ClientHttp2Stream, type OutgoingHttpHeaders } from 'node:http2';
import type { Logger } from 'pino';
import { GrpcStatus, type GrpcCallHandle, type GrpcCallRequest, type GrpcEvents, type GrpcStreamHandle, type GrpcTarget, type GrpcTransport } from '../abi/grpc.ts';
import { MAX_TIMER_MS } from '../abi/limits.ts';
import type { Pair } from '../abi/pairs.ts';
import { quoted } from '../abi/quoted.ts';
import type { HostPort } from '../config/types.ts';
import type { Cluster, Clusters } from './cluster.ts';
import { decodeGrpcMessage, formatGrpcTimeout, frameMessage, GrpcFramingError, grpcStatusFromHttp, MessageDecoder, parseGrpcStatus } from './grpc-framing.ts';
import { isHopByHop } from './headers.ts';

const { NGHTTP2_CANCEL, NGHTTP2_NO_ERROR, NGHTTP2_REFUSED_STREAM } = http2.constants;

/** Request headers a guest's initial metadata may not replace. */
const RESERVED = new Set(['content-type', 'te', 'grpc-timeout', 'content-length', 'host']);

/** The HTTP/2 request headers of a call: gRPC's fixed ones, then the guest's metadata. */
export function grpcRequestHeaders(target: GrpcTarget, authority: string, timeoutMs: number): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {
    ':method': 'POST',
    ':scheme': 'http',
    ':path': `/${target.serviceName}/${target.method}`,
    ':authority': authority,
    'content-type': 'application/grpc',
    te: 'trailers',
  };
  if (timeoutMs > 0) headers['grpc-timeout'] = formatGrpcTimeout(timeoutMs);
  for (const [name, value] of target.initialMetadata) {
    if (name.startsWith(':') || RESERVED.has(name) || isHopByHop(name)) continue;
    const previous = headers[name];
    headers[name] = previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [String(previous), value];
  }
  return headers;
}

/** Raw HTTP/2 header pairs as a header map's pairs (names are already lower case in HTTP/2). */
function pairsOf(raw: readonly string[] | undefined): Pair[] {
  const pairs: Pair[] = [];
  if (raw === undefined) return pairs;
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i]!, raw[i + 1]!]);
  return pairs;
}

function valueOf(pairs: readonly Pair[], name: string): string | undefined {
  return pairs.find((p) => p[0] === name)?.[1];
}

/** One call or stream: an HTTP/2 stream, its framing, and the events it owes the guest. */
class GrpcExchange implements GrpcStreamHandle {
  readonly #stream: ClientHttp2Stream;
  readonly #events: GrpcEvents;
  readonly #decoder = new MessageDecoder();
  #timer: NodeJS.Timeout | null = null;
  /** onClose was delivered, or the guest cancelled: nothing more is reported. */
  #done = false;
  #responded = false;
  /** Trailers, or the headers of a trailers-only response. */
  #trailers: Pair[] | null = null;
  #error: Error | null = null;

  constructor(stream: ClientHttp2Stream, events: GrpcEvents, timeoutMs: number) {
    this.#stream = stream;
    this.#events = events;
    stream.on('response', (_headers, _flags, raw?: string[]) => this.#onResponse(pairsOf(raw)));
    stream.on('data', (chunk: Buffer) => this.#onData(chunk));
    stream.on('trailers', (_headers, _flags, raw?: string[]) => {
      this.#trailers = pairsOf(raw);
    });
    stream.on('end', () => this.#onEnd());
    stream.on('error', (err: Error) => {
      this.#error ??= err;
    });
    stream.on('close', () => this.#onClose());
    if (timeoutMs > 0) {
      this.#timer = setTimeout(() => this.#fail(GrpcStatus.DEADLINE_EXCEEDED, 'deadline exceeded'), Math.min(timeoutMs, MAX_TIMER_MS));
      this.#timer.unref();
    }
  }

  send(message: Buffer, endStream: boolean): void {
    if (this.#done || this.#stream.writableEnded) return;
    const flushed = this.#flushed(message.length);
    if (endStream) this.#stream.end(frameMessage(message), flushed);
    else this.#stream.write(frameMessage(message), flushed);
  }

  /**
   * The write's callback, for the caller's count of unsent bytes: Node calls it once HTTP/2 flow
   * control let the frame out, or when the stream is gone.
   */
  #flushed(bytes: number): () => void {
    return () => {
      if (!this.#done) this.#events.onSent(bytes);
    };
  }

  close(): void {
    if (!this.#done && !this.#stream.writableEnded) this.#stream.end();
  }

  cancel(): void {
    this.#done = true;
    this.#clearTimer();
    if (!this.#stream.closed) this.#stream.close(NGHTTP2_CANCEL);
  }

  #onResponse(headers: Pair[]): void {
    if (this.#done) return;
    this.#responded = true;
    const status = Number(valueOf(headers, ':status'));
    if (valueOf(headers, 'grpc-status') !== undefined) {
      // Trailers-only: Envoy reports empty initial metadata and the headers as trailers.
      this.#events.onInitialMetadata([]);
      this.#trailers = headers;
      return;
    }
    this.#events.onInitialMetadata(headers);
    if (status !== 200) return this.#fail(grpcStatusFromHttp(status), `upstream answered HTTP ${status} without grpc-status`);
    const contentType = valueOf(headers, 'content-type') ?? '';
    if (!contentType.startsWith('application/grpc')) this.#fail(GrpcStatus.UNKNOWN, `upstream answered content-type '${contentType}', not gRPC`);
  }

  #onData(chunk: Buffer): void {
    if (this.#done) return;
    try {
      for (const message of this.#decoder.push(chunk)) {
        this.#events.onMessage(message);
        if (this.#done) return;
      }
    } catch (err) {
      if (!(err instanceof GrpcFramingError)) throw err;
      this.#fail(err.grpcStatus, err.message);
    }
  }

  /** The server ended its side: report the trailers and the status they carry. */
  #onEnd(): void {
    if (this.#done) return;
    const trailers = this.#trailers;
    if (trailers === null) return this.#fail(GrpcStatus.INTERNAL, 'the server closed the stream without trailers');
    if (this.#decoder.buffered > 0) return this.#fail(GrpcStatus.INTERNAL, 'the stream ended inside a message');
    this.#events.onTrailingMetadata(trailers);
    this.#finish(parseGrpcStatus(valueOf(trailers, 'grpc-status')), decodeGrpcMessage(valueOf(trailers, 'grpc-message') ?? ''));
    // Our side may still be open (a stream the guest never half-closed): the call is over.
    if (!this.#stream.closed) this.#stream.close(NGHTTP2_NO_ERROR);
  }

  /** The HTTP/2 stream is gone; if nothing was reported yet, it failed. */
  #onClose(): void {
    if (this.#done) return;
    const cause = (this.#error as (Error & { cause?: unknown }) | null)?.cause;
    const reason = cause instanceof Error ? cause.message : (this.#error?.message ?? `stream reset with HTTP/2 code ${this.#stream.rstCode}`);
    // Envoy: no response yet is a connection failure (UNAVAILABLE); a reset mid-response is INTERNAL.
    const refused = this.#stream.rstCode === NGHTTP2_REFUSED_STREAM;
    this.#finish(this.#responded && !refused ? GrpcStatus.INTERNAL : GrpcStatus.UNAVAILABLE, `upstream connect error or disconnect/reset: ${reason}`);
  }

  /** A failure found on our side: report it and reset the stream. */
  #fail(status: number, message: string): void {
    if (this.#done) return;
    this.#finish(status, message);
    if (!this.#stream.closed) this.#stream.close(NGHTTP2_CANCEL);
  }

  #finish(status: number, message: string): void {
    if (this.#done) return;
    this.#done = true;
    this.#clearTimer();
    this.#events.onClose(status, message);
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}

export class GrpcClient implements GrpcTransport {
  readonly #clusters: Clusters;
  readonly #logger: Logger;
  readonly #sessions = new Map<string, ClientHttp2Session>();
  /** Round-robin position per cluster. */
  readonly #next = new Map<string, number>();
  #closed = false;

  constructor(clusters: Clusters, logger: Logger) {
    this.#clusters = clusters;
    this.#logger = logger;
  }

  refuse(cluster: string): string | null {
    if (this.#closed) return 'the proxy is shutting down';
    const found = this.#clusters.get(cluster);
    if (found === undefined) return `unknown cluster '${quoted(cluster)}'`;
    if (found.config.protocol !== 'http2') return `cluster '${cluster}' has protocol ${found.config.protocol}; gRPC callouts need \`protocol: http2\``;
    return null;
  }

  call(request: GrpcCallRequest, events: GrpcEvents): GrpcCallHandle | string {
    return this.#open(request, events, request.message, request.timeoutMs);
  }

  stream(target: GrpcTarget, events: GrpcEvents): GrpcStreamHandle | string {
    return this.#open(target, events, null, 0);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const sessions = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.all(
      sessions.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.destroyed) return resolve();
            s.once('close', () => resolve());
            s.destroy();
          }),
      ),
    );
  }

  #open(target: GrpcTarget, events: GrpcEvents, unaryMessage: Buffer | null, timeoutMs: number): GrpcExchange | string {
    const cluster = this.#clusters.get(target.cluster);
    if (cluster === undefined) return `unknown cluster '${quoted(target.cluster)}'`;
    const session = this.#session(cluster, this.#pick(cluster));
    let stream: ClientHttp2Stream;
    try {
      // Envoy's gRPC client uses the cluster name as :authority.
      stream = session.request(grpcRequestHeaders(target, cluster.name, timeoutMs), { endStream: false });
    } catch (err) {
      return `cannot start the request: ${(err as Error).message}`;
    }
    const exchange = new GrpcExchange(stream, events, timeoutMs);
    if (unaryMessage !== null) exchange.send(unaryMessage, true);
    return exchange;
  }

  #pick(cluster: Cluster): HostPort {
    const endpoints = cluster.config.endpoints;
    const i = this.#next.get(cluster.name) ?? 0;
    this.#next.set(cluster.name, (i + 1) % endpoints.length);
    return endpoints[i % endpoints.length]!;
  }

  /** The live session to an endpoint, connecting (or reconnecting) when there is none. */
  #session(cluster: Cluster, endpoint: HostPort): ClientHttp2Session {
    const key = `${endpoint.host}:${endpoint.port}`;
    const existing = this.#sessions.get(key);
    if (existing !== undefined && !existing.closed && !existing.destroyed) return existing;
    const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
    const session = http2.connect(`http://${host}:${endpoint.port}`);
    const connectTimeoutMs = cluster.config.connectTimeoutMs;
    const connectTimer = setTimeout(() => session.destroy(new Error(`connect timeout after ${connectTimeoutMs} ms`)), connectTimeoutMs);
    connectTimer.unref();
    const forget = () => {
      if (this.#sessions.get(key) === session) this.#sessions.delete(key);
    };
    session.once('connect', () => clearTimeout(connectTimer));
    session.on('error', (err) => this.#logger.debug({ err: err.message, endpoint: key }, 'gRPC session failed'));
    // After GOAWAY the session takes no new streams; the next call connects again.
    session.on('goaway', forget);
    session.on('close', () => {
      clearTimeout(connectTimer);
      forget();
    });
    // An idle session does not keep the process alive; the listeners do that.
    session.unref();
    this.#sessions.set(key, session);
    return session;
  }
}
