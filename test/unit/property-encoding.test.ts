import { describe, expect, it } from 'vitest';
import { decodePairs } from '../../src/abi/pairs.ts';
import {
  boolValue,
  durationValue,
  int64Value,
  mapValue,
  stringValue,
  timestampValue,
  uint64Value,
} from '../../src/abi/property-encoding.ts';

const hex = (buf: Buffer) => buf.toString('hex');

describe('property value encodings (Envoy serializeValue)', () => {
  it('strings are raw latin1 bytes with no terminator', () => {
    expect(hex(stringValue('/path'))).toBe(Buffer.from('/path').toString('hex'));
    expect([...stringValue('\u00ff\u0080a')]).toEqual([0xff, 0x80, 0x61]);
    expect(stringValue('').length).toBe(0);
  });

  it('int64 is 8 bytes little-endian two\'s complement', () => {
    expect(hex(int64Value(1))).toBe('0100000000000000');
    expect(hex(int64Value(0x0102030405n))).toBe('0504030201000000');
    expect(hex(int64Value(-1))).toBe('ffffffffffffffff');
    expect(hex(int64Value(-2n))).toBe('feffffffffffffff');
    expect(hex(int64Value(9223372036854775807n))).toBe('ffffffffffffff7f');
  });

  it('uint64 is 8 bytes little-endian', () => {
    expect(hex(uint64Value(443))).toBe('bb01000000000000');
    expect(hex(uint64Value(0))).toBe('0000000000000000');
    expect(hex(uint64Value(18446744073709551615n))).toBe('ffffffffffffffff');
  });

  it('uint64 rejects negative values', () => {
    expect(() => uint64Value(-1)).toThrow(RangeError);
  });

  it('bool is one byte 0 or 1', () => {
    expect([...boolValue(true)]).toEqual([1]);
    expect([...boolValue(false)]).toEqual([0]);
  });

  it('timestamp is int64 nanoseconds since the epoch', () => {
    const ms = 1_700_000_000_123;
    const buf = timestampValue(ms);
    expect(buf.length).toBe(8);
    expect(buf.readBigInt64LE()).toBe(1_700_000_000_123_000_000n);
  });

  it('timestamp keeps sub-millisecond precision (rounded to ns)', () => {
    expect(timestampValue(1.5).readBigInt64LE()).toBe(1_500_000n);
    expect(timestampValue(0.0000004).readBigInt64LE()).toBe(0n);
    expect(timestampValue(0.0000006).readBigInt64LE()).toBe(1n);
  });

  it('duration is int64 nanoseconds', () => {
    expect(durationValue(250).readBigInt64LE()).toBe(250_000_000n);
    expect(durationValue(0.001).readBigInt64LE()).toBe(1_000n);
    expect(hex(durationValue(0))).toBe('0000000000000000');
  });

  it('maps use the pairs layout', () => {
    const buf = mapValue([':method', 'x'], ['GET', '']);
    expect(decodePairs(buf)).toEqual([
      [':method', 'GET'],
      ['x', ''],
    ]);
    expect(hex(buf.subarray(0, 12))).toBe('020000000700000003000000');
  });
});
