// gRPC on the wire: message framing, grpc-timeout, status and message parsing, the HTTP status
// mapping, request headers, and the GrpcService proto a guest may pass as `service`.

import { describe, expect, it } from 'vitest';
import { GrpcStatus } from '../../src/abi/grpc.ts';
import { clusterOfService, grpcServiceCluster, readFields } from '../../src/abi/grpc-service.ts';
import { grpcRequestHeaders } from '../../src/proxy/grpc-client.ts';
import {
  decodeGrpcMessage,
  formatGrpcTimeout,
  frameMessage,
  GrpcFramingError,
  grpcStatusFromHttp,
  MessageDecoder,
  parseGrpcStatus,
} from '../../src/proxy/grpc-framing.ts';

describe('frameMessage', () => {
  it('prefixes the payload with flag 0 and a big-endian u32 length', () => {
    expect([...frameMessage(Buffer.from('hi'))]).toEqual([0, 0, 0, 0, 2, 0x68, 0x69]);
    expect([...frameMessage(Buffer.alloc(0))]).toEqual([0, 0, 0, 0, 0]);
    expect(frameMessage(Buffer.alloc(0x10203)).subarray(0, 5)).toEqual(Buffer.from([0, 0, 1, 2, 3]));
  });
});

describe('MessageDecoder', () => {
  const two = Buffer.concat([frameMessage(Buffer.from('first')), frameMessage(Buffer.from('second!'))]);

  it('returns every message a chunk completes', () => {
    const decoder = new MessageDecoder();
    expect(decoder.push(two).map(String)).toEqual(['first', 'second!']);
    expect(decoder.buffered).toBe(0);
  });

  it('reassembles messages split at any byte, including inside the 5-byte prefix', () => {
    for (let cut = 1; cut < two.length; cut++) {
      const decoder = new MessageDecoder();
      const got = [...decoder.push(two.subarray(0, cut)), ...decoder.push(two.subarray(cut))].map(String);
      expect(got, `cut at ${cut}`).toEqual(['first', 'second!']);
    }
  });

  it('feeds one byte at a time and keeps what is pending', () => {
    const decoder = new MessageDecoder();
    const got: string[] = [];
    for (const byte of two) got.push(...decoder.push(Buffer.from([byte])).map(String));
    expect(got).toEqual(['first', 'second!']);
    decoder.push(Buffer.from([0, 0, 0]));
    expect(decoder.buffered).toBe(3);
  });

  it('yields empty messages', () => {
    expect(new MessageDecoder().push(frameMessage(Buffer.alloc(0))).map((m) => m.length)).toEqual([0]);
  });

  it('refuses compressed messages with INTERNAL', () => {
    const decoder = new MessageDecoder();
    let error: unknown;
    try {
      decoder.push(Buffer.from([1, 0, 0, 0, 1, 0x41]));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(GrpcFramingError);
    expect((error as GrpcFramingError).grpcStatus).toBe(GrpcStatus.INTERNAL);
  });

  it('refuses a message over the limit with RESOURCE_EXHAUSTED as soon as the prefix arrives', () => {
    const decoder = new MessageDecoder(10);
    expect(decoder.push(frameMessage(Buffer.alloc(10))).length).toBe(1);
    let error: unknown;
    try {
      decoder.push(Buffer.from([0, 0, 0, 0, 11]));
    } catch (err) {
      error = err;
    }
    expect((error as GrpcFramingError).grpcStatus).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
  });
});

describe('formatGrpcTimeout', () => {
  it('uses milliseconds while they fit in 8 digits, then coarser units rounded up', () => {
    expect(formatGrpcTimeout(1)).toBe('1m');
    expect(formatGrpcTimeout(1500)).toBe('1500m');
    expect(formatGrpcTimeout(99_999_999)).toBe('99999999m');
    expect(formatGrpcTimeout(100_000_000)).toBe('100000S');
    expect(formatGrpcTimeout(100_000_001)).toBe('100001S');
    expect(formatGrpcTimeout(0xffffffff)).toBe('4294968S');
  });
});

describe('parseGrpcStatus', () => {
  it('reads the decimal code', () => {
    expect(parseGrpcStatus('0')).toBe(0);
    expect(parseGrpcStatus('14')).toBe(14);
    expect(parseGrpcStatus(' 7 ')).toBe(7);
    expect(parseGrpcStatus('42')).toBe(42);
  });

  it('is UNKNOWN when missing or not a number', () => {
    expect(parseGrpcStatus(undefined)).toBe(GrpcStatus.UNKNOWN);
    expect(parseGrpcStatus('')).toBe(GrpcStatus.UNKNOWN);
    expect(parseGrpcStatus('ok')).toBe(GrpcStatus.UNKNOWN);
    expect(parseGrpcStatus('-1')).toBe(GrpcStatus.UNKNOWN);
    expect(parseGrpcStatus('99999999999')).toBe(GrpcStatus.UNKNOWN);
  });
});

describe('decodeGrpcMessage', () => {
  it('percent-decodes into bytes (a latin1 string holding UTF-8)', () => {
    expect(decodeGrpcMessage('plain text')).toBe('plain text');
    expect(decodeGrpcMessage('100%25 sure')).toBe('100% sure');
    const decoded = decodeGrpcMessage('caf%C3%A9 %e2%9c%93');
    expect(Buffer.from(decoded, 'latin1').toString('utf8')).toBe('café ✓');
  });

  it('leaves malformed escapes as written', () => {
    expect(decodeGrpcMessage('50% off')).toBe('50% off');
    expect(decodeGrpcMessage('end%')).toBe('end%');
    expect(decodeGrpcMessage('end%4')).toBe('end%4');
    expect(decodeGrpcMessage('%zz%41')).toBe('%zzA');
  });
});

describe('grpcStatusFromHttp', () => {
  it("follows gRPC's HTTP-to-gRPC status mapping", () => {
    expect(grpcStatusFromHttp(400)).toBe(GrpcStatus.INTERNAL);
    expect(grpcStatusFromHttp(401)).toBe(GrpcStatus.UNAUTHENTICATED);
    expect(grpcStatusFromHttp(403)).toBe(GrpcStatus.PERMISSION_DENIED);
    expect(grpcStatusFromHttp(404)).toBe(GrpcStatus.UNIMPLEMENTED);
    for (const s of [429, 502, 503, 504]) expect(grpcStatusFromHttp(s)).toBe(GrpcStatus.UNAVAILABLE);
    expect(grpcStatusFromHttp(500)).toBe(GrpcStatus.UNKNOWN);
    expect(grpcStatusFromHttp(200)).toBe(GrpcStatus.UNKNOWN);
  });
});

describe('grpcRequestHeaders', () => {
  const target = { cluster: 'c', serviceName: 'pkg.Echo', method: 'Say', initialMetadata: [] as [string, string][] };

  it('has the gRPC request headers, and grpc-timeout only with a deadline', () => {
    expect(grpcRequestHeaders(target, 'c', 0)).toEqual({
      ':method': 'POST',
      ':scheme': 'http',
      ':path': '/pkg.Echo/Say',
      ':authority': 'c',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    expect(grpcRequestHeaders(target, 'c', 250)['grpc-timeout']).toBe('250m');
  });

  it('adds the guest metadata, duplicates as lists, and never lets it replace the protocol headers', () => {
    const headers = grpcRequestHeaders(
      {
        ...target,
        initialMetadata: [
          ['x-a', '1'],
          ['x-a', '2'],
          ['x-a', '3'],
          ['authorization', 'Bearer t'],
          [':path', '/evil'],
          ['content-type', 'text/plain'],
          ['te', 'gzip'],
          ['grpc-timeout', '1S'],
          ['connection', 'close'],
        ],
      },
      'c',
      0,
    );
    expect(headers['x-a']).toEqual(['1', '2', '3']);
    expect(headers['authorization']).toBe('Bearer t');
    expect(headers[':path']).toBe('/pkg.Echo/Say');
    expect(headers['content-type']).toBe('application/grpc');
    expect(headers['te']).toBe('trailers');
    expect(headers['grpc-timeout']).toBeUndefined();
    expect(headers['connection']).toBeUndefined();
  });
});

/** Protobuf wire-format helpers for building test inputs (independent of the reader). */
function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
function lenField(field: number, payload: Uint8Array | string): Buffer {
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload);
  return Buffer.from([...varint(field * 8 + 2), ...varint(bytes.length), ...bytes]);
}
/** GrpcService { envoy_grpc { cluster_name } } plus optional extra bytes. */
function grpcService(cluster: string, ...extra: Buffer[]): Buffer {
  return Buffer.concat([lenField(1, lenField(1, cluster)), ...extra]);
}

describe('GrpcService parsing', () => {
  it('extracts envoy_grpc.cluster_name', () => {
    expect(grpcServiceCluster(grpcService('grpc-backend'))).toBe('grpc-backend');
  });

  it('skips the fields it does not need (authority, timeout, initial_metadata)', () => {
    const envoyGrpc = Buffer.concat([lenField(2, 'auth.example'), lenField(1, 'backend')]);
    const timeout = lenField(3, Buffer.from([0x08, 0x05])); // Duration { seconds: 5 }
    const metadata = lenField(5, Buffer.concat([lenField(1, 'k'), lenField(2, 'v')]));
    const fixed = Buffer.from([0x7d, 1, 2, 3, 4, 0x79, 1, 2, 3, 4, 5, 6, 7, 8]); // field 15 (i32), field 15 (i64)
    const varintField = Buffer.from([0x20, 0x96, 0x01]); // field 4, varint 150
    expect(grpcServiceCluster(Buffer.concat([timeout, lenField(1, envoyGrpc), metadata, fixed, varintField]))).toBe('backend');
  });

  it('is null for bytes that are not a GrpcService with a cluster name', () => {
    expect(grpcServiceCluster(Buffer.from('grpc-backend'))).toBeNull(); // 'g' = field 12, wire type 7
    expect(grpcServiceCluster(Buffer.from('backend'))).toBeNull(); // length runs past the end
    expect(grpcServiceCluster(Buffer.alloc(0))).toBeNull();
    expect(grpcServiceCluster(lenField(2, lenField(1, 'google')))).toBeNull(); // google_grpc only
    expect(grpcServiceCluster(Buffer.from([0x0a, 0x05, 0x0a]))).toBeNull(); // truncated
    expect(grpcServiceCluster(Buffer.from([0x08, 0xff, 0xff]))).toBeNull(); // unterminated varint
    expect(grpcServiceCluster(lenField(1, lenField(1, '')))).toBeNull();
  });

  it('readFields rejects groups and field number 0', () => {
    expect(readFields(Buffer.from([0x0b, 0x0c]))).toBeNull(); // start/end group
    expect(readFields(Buffer.from([0x02, 0x00]))).toBeNull(); // field 0
    expect(readFields(Buffer.from([0x08, 0x01, 0x12, 0x01, 0x41]))?.map((f) => f.number)).toEqual([1, 2]);
  });

  it('clusterOfService takes the proto when it parses, else the bytes as a plain name', () => {
    expect(clusterOfService(grpcService('from-proto'))).toBe('from-proto');
    expect(clusterOfService(Buffer.from('grpcbin'))).toBe('grpcbin');
    expect(clusterOfService(new Uint8Array(Buffer.from('xx-cluster')))).toBe('xx-cluster');
  });
});
