// gRPC callouts (reference §4.10, §5.5): the per-plugin table of unary calls and streams, and
// the delivery of their events to the root context the way Envoy delivers them. The transport
// (HTTP/2, clusters) lives in the embedding behind PluginServices.grpc.
//
// Envoy's two handlers differ, and SDKs depend on the difference:
// - a unary call reports only its outcome: success is proxy_on_grpc_receive(token, size) with
//   the response in buffer 5 and no close afterwards; failure (or OK without a message) is
//   proxy_on_grpc_close(token, status). No metadata callbacks. The Rust SDK forgets the token
//   at the first of the two.
// - a stream reports everything: initial metadata (map 4), each message (buffer 5), trailing
//   metadata (map 5), then proxy_on_grpc_close(token, status) with the message in
//   proxy_get_status.
// Cancelling (or closing a unary call) stops all callbacks for the token.

import type { GrpcReceived } from './context.ts';
import { defer } from './deferred.ts';
import { HeaderMap } from './header-map.ts';
import type { Pair } from './pairs.ts';
import type { Plugin, RootCallback } from './plugin.ts';
import { MAX_OPEN_GRPC_CALLS, MAX_UNSENT_GRPC_BYTES } from './limits.ts';
import { Status } from './types.ts';
import { CalloutKind } from './vm.ts';

/** gRPC status codes (reference §3.9). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

export interface GrpcTarget {
  cluster: string;
  /** Fully qualified service name, e.g. `grpc.health.v1.Health`. */
  serviceName: string;
  method: string;
  /** Request metadata from the guest (names lower-cased). */
  initialMetadata: Pair[];
}

export interface GrpcCallRequest extends GrpcTarget {
  message: Buffer;
  /** 0 = no deadline. */
  timeoutMs: number;
}

/**
 * What the transport reports about one call or stream, in wire order. Never called
 * synchronously from call()/stream()/send(), never after cancel(); onClose exactly once, last.
 * Metadata and messages are latin1 strings / bytes exactly as received.
 */
export interface GrpcEvents {
  onInitialMetadata(metadata: Pair[]): void;
  onMessage(message: Buffer): void;
  onTrailingMetadata(metadata: Pair[]): void;
  onClose(status: number, message: string): void;
  /**
   * `bytes` of the messages given to call() or send() have left the transport's buffer
   * (written to the server). Only for accounting: may come at any time before onClose, and
   * what is still unreported at onClose or cancel() counts as gone.
   */
  onSent(bytes: number): void;
}

export interface GrpcCallHandle {
  /** Resets the call; no event follows. */
  cancel(): void;
}

export interface GrpcStreamHandle extends GrpcCallHandle {
  send(message: Buffer, endStream: boolean): void;
  /** Half-closes: we send no more, the responses keep coming. */
  close(): void;
}

/** The embedding's gRPC client (PluginServices.grpc). */
export interface GrpcTransport {
  /** Why calls to `cluster` cannot be made (unknown, not HTTP/2), or null when they can. */
  refuse(cluster: string): string | null;
  /** Starts a unary call; a string says why it could not be sent. */
  call(request: GrpcCallRequest, events: GrpcEvents): GrpcCallHandle | string;
  /** Opens a stream; a string says why it could not be opened. */
  stream(target: GrpcTarget, events: GrpcEvents): GrpcStreamHandle | string;
}

/** What both kinds keep for the bounds: whether the transport still holds it, and its unsent bytes. */
interface Held {
  open: boolean;
  unsent: number;
}

interface UnaryEntry extends Held {
  kind: 'call';
  handle: GrpcCallHandle | null;
  /** The response message; the last one wins if a server sends several (as in Envoy). */
  response: Buffer | undefined;
}

interface StreamEntry extends Held {
  kind: 'stream';
  handle: GrpcStreamHandle | null;
  /** We sent end of stream (grpc_close, or grpc_send with end_stream). */
  halfClosed: boolean;
  /** The guest called grpc_close: forget the stream once the server closed it too. */
  localClosed: boolean;
  remoteClosed: boolean;
}

type Entry = UnaryEntry | StreamEntry;

/** What a call, stream or send came to: a refusal carries its reason, for the log. */
export interface GrpcOutcome {
  status: Status;
  reason?: string;
}

export interface GrpcStart extends GrpcOutcome {
  token: number;
}

const tables = new WeakMap<Plugin, GrpcCallouts>();

const TOO_MANY_CALLS = `too many calls open (a filter may have ${MAX_OPEN_GRPC_CALLS} gRPC calls and streams open at once)`;
const TOO_MUCH_UNSENT = `too many message bytes waiting to be sent (a filter may have ${MAX_UNSENT_GRPC_BYTES >> 20} MiB of gRPC messages not yet taken by their servers)`;

/** The calls and streams owned by one plugin's root context. */
export class GrpcCallouts {
  readonly #plugin: Plugin;
  readonly #entries = new Map<number, Entry>();
  /** Bytes of messages the transport holds for this plugin's calls and streams. */
  #unsent = 0;

  private constructor(plugin: Plugin) {
    this.#plugin = plugin;
  }

  static of(plugin: Plugin): GrpcCallouts {
    let table = tables.get(plugin);
    if (table === undefined) {
      const created = new GrpcCallouts(plugin);
      plugin.onStop(() => created.cancelAll());
      tables.set(plugin, created);
      table = created;
    }
    return table;
  }

  call(request: GrpcCallRequest): GrpcStart {
    const refused = this.#refuse(request.cluster) ?? this.#full(request.message.length);
    if (refused !== null) return refused;
    const token = this.#plugin.vm.nextToken(CalloutKind.GRPC_CALL);
    const entry: UnaryEntry = { kind: 'call', handle: null, response: undefined, open: true, unsent: 0 };
    this.#entries.set(token, entry);
    this.#hold(entry, request.message.length);
    const started = this.#transport()!.call(request, {
      onInitialMetadata: () => {},
      onMessage: (message) => {
        entry.response = message;
      },
      onTrailingMetadata: () => {},
      onClose: (status, message) => {
        this.#release(entry);
        this.#later(token, entry, () => this.#finishCall(token, entry, status, message));
      },
      onSent: (bytes) => this.#sent(entry, bytes),
    });
    return this.#started(token, entry, started);
  }

  stream(target: GrpcTarget): GrpcStart {
    const refused = this.#refuse(target.cluster) ?? this.#full(0);
    if (refused !== null) return refused;
    const token = this.#plugin.vm.nextToken(CalloutKind.GRPC_STREAM);
    const entry: StreamEntry = { kind: 'stream', handle: null, halfClosed: false, localClosed: false, remoteClosed: false, open: true, unsent: 0 };
    this.#entries.set(token, entry);
    const started = this.#transport()!.stream(target, {
      onInitialMetadata: (metadata) =>
        this.#later(token, entry, () => {
          const map = HeaderMap.fromPairs(metadata);
          this.#deliver('proxy_on_grpc_receive_initial_metadata', token, map.size, { initialMetadata: map });
        }),
      onMessage: (message) =>
        this.#later(token, entry, () => this.#deliver('proxy_on_grpc_receive', token, message.length, { message })),
      onTrailingMetadata: (metadata) =>
        this.#later(token, entry, () => {
          const map = HeaderMap.fromPairs(metadata);
          this.#deliver('proxy_on_grpc_receive_trailing_metadata', token, map.size, { trailingMetadata: map });
        }),
      onSent: (bytes) => this.#sent(entry, bytes),
      onClose: (status, message) => {
        this.#release(entry);
        this.#later(token, entry, () => {
          entry.remoteClosed = true;
          entry.handle = null;
          try {
            this.#deliver('proxy_on_grpc_close', token, status, null, { code: status, message });
          } finally {
            // Envoy keeps a remotely closed stream until the guest closes it too, so a later
            // grpc_close answers OK.
            if (entry.localClosed) this.#entries.delete(token);
          }
        });
      },
    });
    return this.#started(token, entry, started);
  }

  /** proxy_grpc_send: only on a live stream. */
  send(token: number, message: Buffer, endStream: boolean): GrpcOutcome {
    const entry = this.#entries.get(token);
    if (entry === undefined) return { status: Status.NOT_FOUND };
    if (entry.kind === 'call') return { status: Status.BAD_ARGUMENT }; // Envoy: not a stream id
    if (entry.remoteClosed || entry.handle === null) return { status: Status.NOT_FOUND };
    if (entry.halfClosed) return { status: Status.BAD_ARGUMENT }; // we already sent end of stream
    // The server is not taking what was sent: refused, the stream stays as it was.
    if (this.#unsent + message.length > MAX_UNSENT_GRPC_BYTES) return { status: Status.BAD_ARGUMENT, reason: TOO_MUCH_UNSENT };
    this.#hold(entry, message.length);
    entry.handle.send(message, endStream);
    if (endStream) entry.halfClosed = true;
    return { status: Status.OK };
  }

  /** proxy_grpc_close: cancels a unary call; half-closes a stream. */
  close(token: number): Status {
    const entry = this.#entries.get(token);
    if (entry === undefined) return Status.NOT_FOUND;
    if (entry.kind === 'call') return this.cancel(token);
    if (!entry.halfClosed && entry.handle !== null) entry.handle.close();
    entry.halfClosed = true;
    entry.localClosed = true;
    if (entry.remoteClosed) this.#entries.delete(token);
    return Status.OK;
  }

  /** proxy_grpc_cancel: resets the call or stream; no callback follows. */
  cancel(token: number): Status {
    const entry = this.#entries.get(token);
    if (entry === undefined) return Status.NOT_FOUND;
    this.#entries.delete(token);
    this.#release(entry);
    entry.handle?.cancel();
    return Status.OK;
  }

  cancelAll(): void {
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    for (const entry of entries) {
      this.#release(entry);
      entry.handle?.cancel();
    }
  }

  /** Why one more call or stream holding `bytes` would exceed a bound, or null. */
  #full(bytes: number): GrpcStart | null {
    if (this.#entries.size >= MAX_OPEN_GRPC_CALLS) return { status: Status.INTERNAL_FAILURE, token: 0, reason: TOO_MANY_CALLS };
    if (this.#unsent + bytes > MAX_UNSENT_GRPC_BYTES) return { status: Status.INTERNAL_FAILURE, token: 0, reason: TOO_MUCH_UNSENT };
    return null;
  }

  #hold(entry: Held, bytes: number): void {
    if (!entry.open) return; // the transport drops what is sent after its close
    entry.unsent += bytes;
    this.#unsent += bytes;
  }

  #sent(entry: Held, bytes: number): void {
    const n = Math.min(bytes, entry.unsent);
    entry.unsent -= n;
    this.#unsent -= n;
  }

  /** The transport let go of the call or stream: nothing it held is counted any more. */
  #release(entry: Held): void {
    entry.open = false;
    this.#unsent -= entry.unsent;
    entry.unsent = 0;
  }

  #transport() {
    return this.#plugin.services.grpc;
  }

  #refuse(cluster: string): GrpcStart | null {
    const transport = this.#transport();
    if (transport === undefined) return { status: Status.INTERNAL_FAILURE, token: 0, reason: 'this host has no gRPC client' };
    if (!this.#plugin.alive) return { status: Status.INTERNAL_FAILURE, token: 0, reason: 'the plugin is stopping' };
    const reason = transport.refuse(cluster);
    // Envoy answers PARSE_FAILURE for a cluster it does not know (kept for ABI 0.1.x callers).
    return reason === null ? null : { status: Status.PARSE_FAILURE, token: 0, reason };
  }

  #started(token: number, entry: Entry, started: GrpcCallHandle | GrpcStreamHandle | string): GrpcStart {
    if (typeof started === 'string') {
      this.#entries.delete(token);
      this.#release(entry);
      return { status: Status.INTERNAL_FAILURE, token: 0, reason: started };
    }
    entry.handle = started as GrpcStreamHandle;
    return { status: Status.OK, token };
  }

  /** Runs a delivery after any guest call in progress, unless the token was cancelled meanwhile. */
  #later(token: number, entry: Entry, deliver: () => void): void {
    defer(() => {
      if (this.#entries.get(token) === entry) deliver();
    });
  }

  #finishCall(token: number, entry: UnaryEntry, status: number, message: string): void {
    this.#entries.delete(token);
    entry.handle = null;
    if (status === 0 && entry.response !== undefined) {
      const response = entry.response;
      this.#deliver('proxy_on_grpc_receive', token, response.length, { message: response });
    } else if (status === 0) {
      // Envoy's unary client: OK without a response message is an INTERNAL failure.
      this.#deliver('proxy_on_grpc_close', token, GrpcStatus.INTERNAL, null, { code: GrpcStatus.INTERNAL, message: '' });
    } else {
      this.#deliver('proxy_on_grpc_close', token, status, null, { code: status, message });
    }
  }

  /** Calls a gRPC callback on the root context with what it may read meanwhile. */
  #deliver(name: RootCallback, token: number, n: number, received: GrpcReceived | null, status?: { code: number; message: string }): void {
    const root = this.#plugin.root;
    root.grpcReceived = received;
    if (status !== undefined) root.status = status;
    try {
      this.#plugin.callRoot(name, token, n);
    } finally {
      root.grpcReceived = null;
      if (status !== undefined) root.status = { code: 0, message: '' };
    }
  }
}
