// gRPC over HTTP/2 on the wire (grpc/doc/PROTOCOL-HTTP2.md): length-prefixed messages, the
// grpc-timeout header, and the status of a finished call from grpc-status / grpc-message or, when
// those are missing, from the HTTP status (grpc/doc/http-grpc-status-mapping.md).

import { GrpcStatus } from '../abi/grpc.ts';

/** Largest message accepted from a server (gRPC's default receive limit). */
export const MAX_GRPC_MESSAGE_BYTES = 4 * 1024 * 1024;

/** One message on the wire: compressed flag 0, u32 big-endian length, payload. */
export function frameMessage(payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(5 + payload.length);
  frame[0] = 0;
  frame.writeUInt32BE(payload.length, 1);
  payload.copy(frame, 5);
  return frame;
}

export class GrpcFramingError extends Error {
  readonly grpcStatus: number;
  constructor(grpcStatus: number, message: string) {
    super(message);
    this.grpcStatus = grpcStatus;
  }
}

/** Splits a response body into messages as chunks arrive, whatever the chunk boundaries. */
export class MessageDecoder {
  readonly #maxBytes: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  constructor(maxBytes = MAX_GRPC_MESSAGE_BYTES) {
    this.#maxBytes = maxBytes;
  }

  /** Bytes received that do not complete a message yet. */
  get buffered(): number {
    return this.#pendingBytes;
  }

  /** The messages `chunk` completes; throws GrpcFramingError on a compressed or oversized one. */
  push(chunk: Buffer): Buffer[] {
    if (chunk.length > 0) {
      this.#pending.push(chunk);
      this.#pendingBytes += chunk.length;
    }
    const out: Buffer[] = [];
    while (this.#pendingBytes >= 5) {
      const head = this.#peek(5);
      if (head[0] !== 0) {
        // We never announce grpc-accept-encoding, so a compressed message is a server error.
        throw new GrpcFramingError(GrpcStatus.INTERNAL, 'compressed gRPC messages are not supported');
      }
      const length = head.readUInt32BE(1);
      if (length > this.#maxBytes) {
        throw new GrpcFramingError(GrpcStatus.RESOURCE_EXHAUSTED, `gRPC message of ${length} bytes is over the ${this.#maxBytes}-byte limit`);
      }
      if (this.#pendingBytes < 5 + length) break;
      const frame = this.#take(5 + length);
      out.push(frame.subarray(5));
    }
    return out;
  }

  #peek(n: number): Buffer {
    const first = this.#pending[0]!;
    return first.length >= n ? first : Buffer.concat(this.#pending, this.#pendingBytes).subarray(0, n);
  }

  #take(n: number): Buffer {
    const all = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending, this.#pendingBytes);
    const rest = all.subarray(n);
    this.#pending = rest.length > 0 ? [rest] : [];
    this.#pendingBytes = rest.length;
    // Copy the message out so it does not pin a larger chunk.
    return Buffer.from(all.subarray(0, n));
  }
}

/** The grpc-timeout value for `ms` milliseconds: at most 8 digits, in the finest unit that fits. */
export function formatGrpcTimeout(ms: number): string {
  const MAX = 99_999_999;
  if (ms <= MAX) return `${ms}m`;
  const seconds = Math.ceil(ms / 1000);
  if (seconds <= MAX) return `${seconds}S`;
  const minutes = Math.ceil(ms / 60_000);
  if (minutes <= MAX) return `${minutes}M`;
  return `${Math.min(MAX, Math.ceil(ms / 3_600_000))}H`;
}

/** The code in a grpc-status value; UNKNOWN when it is missing or not a number. */
export function parseGrpcStatus(value: string | undefined): number {
  if (value === undefined || !/^\d{1,10}$/.test(value.trim())) return GrpcStatus.UNKNOWN;
  const code = Number(value.trim());
  return code > 0x7fffffff ? GrpcStatus.UNKNOWN : code;
}

/**
 * Undoes grpc-message percent-encoding. The result is a byte string (latin1, one char per byte,
 * UTF-8 bytes kept as they are) like every header value in sluice; malformed escapes stay as
 * written, as the spec asks.
 */
export function decodeGrpcMessage(value: string): string {
  if (!value.includes('%')) return value;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x25 && i + 2 < value.length && /^[0-9a-fA-F]{2}$/.test(value.slice(i + 1, i + 3))) {
      bytes.push(parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(c & 0xff);
    }
  }
  return Buffer.from(bytes).toString('latin1');
}

/** The gRPC status of a response that ended without grpc-status (gRPC's HTTP mapping). */
export function grpcStatusFromHttp(status: number): number {
  switch (status) {
    case 400:
      return GrpcStatus.INTERNAL;
    case 401:
      return GrpcStatus.UNAUTHENTICATED;
    case 403:
      return GrpcStatus.PERMISSION_DENIED;
    case 404:
      return GrpcStatus.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GrpcStatus.UNAVAILABLE;
    default:
      return GrpcStatus.UNKNOWN;
  }
}
