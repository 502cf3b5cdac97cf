// Header-map ("pairs") and property-path codecs. The cases follow the ideas of
// proxy-wasm-cpp-host's pairs_util_test: encode/decode round trips, the exact byte layout, the
// several spellings of an empty map, and strict rejection of malformed input.

import { describe, expect, it } from 'vitest';
import {
  decodePairs,
  decodePropertyPath,
  encodePairList,
  encodePairs,
  encodePropertyPath,
  pairsByteLength,
  type Pair,
} from '../../src/abi/pairs.ts';
import { MAX_PAIRS_BYTES, MAX_PAIRS_COUNT } from '../../src/abi/limits.ts';

/** Builds serialized pairs by hand so the decoder is not only tested against the encoder. */
function handBuilt(pairs: Array<[string, string]>): Buffer {
  const parts: Buffer[] = [];
  const count = Buffer.alloc(4);
  count.writeUInt32LE(pairs.length);
  parts.push(count);
  for (const [k, v] of pairs) {
    const sizes = Buffer.alloc(8);
    sizes.writeUInt32LE(Buffer.byteLength(k, 'latin1'), 0);
    sizes.writeUInt32LE(Buffer.byteLength(v, 'latin1'), 4);
    parts.push(sizes);
  }
  for (const [k, v] of pairs) parts.push(Buffer.from(k, 'latin1'), Buffer.from([0]), Buffer.from(v, 'latin1'), Buffer.from([0]));
  return Buffer.concat(parts);
}

describe('encodePairs', () => {
  it('lays out {":method":"GET"} byte for byte', () => {
    const out = encodePairs([':method'], ['GET']);
    const expected = Buffer.concat([
      Buffer.from([0x01, 0x00, 0x00, 0x00]),
      Buffer.from([0x07, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00]),
      Buffer.from(':method\0GET\0', 'latin1'),
    ]);
    expect(out.toString('hex')).toBe(expected.toString('hex'));
    expect(out.length).toBe(24);
  });

  it('puts all sizes before all data', () => {
    const out = encodePairs(['a', 'bb'], ['ccc', '']);
    expect(out.toString('hex')).toBe(
      [
        '02000000', // count
        '01000000', '03000000', // a / ccc
        '02000000', '00000000', // bb / ''
        Buffer.from('a\0ccc\0bb\0\0', 'latin1').toString('hex'),
      ].join(''),
    );
  });

  it('encodes an empty map as a bare zero count', () => {
    expect(encodePairs([], []).toString('hex')).toBe('00000000');
    expect(encodePairList([]).toString('hex')).toBe('00000000');
  });

  it('pairsByteLength matches 4 + Σ(8 + key + 1 + value + 1)', () => {
    const names = [':path', 'x-long-header', ''];
    const values = ['/abc', 'v'.repeat(300), ''];
    const expected = 4 + (8 + 5 + 1 + 4 + 1) + (8 + 13 + 1 + 300 + 1) + (8 + 0 + 1 + 0 + 1);
    expect(pairsByteLength(names, values)).toBe(expected);
    expect(encodePairs(names, values).length).toBe(expected);
  });

  it('encodePairList produces the same bytes as encodePairs', () => {
    const list: Pair[] = [['a', '1'], ['b', '2'], ['a', '3']];
    expect(encodePairList(list).equals(encodePairs(['a', 'b', 'a'], ['1', '2', '3']))).toBe(true);
  });
});

describe('decodePairs', () => {
  it('round-trips maps with duplicates, empty keys/values and order preserved', () => {
    const pairs: Pair[] = [
      [':method', 'POST'],
      [':path', '/upload?x=1'],
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
      ['', 'empty-key'],
      ['empty-value', ''],
    ];
    const encoded = encodePairList(pairs);
    expect(decodePairs(encoded)).toEqual(pairs);
  });

  it('decodes hand-built bytes', () => {
    const bytes = handBuilt([[':status', '200'], ['content-type', 'text/plain']]);
    expect(decodePairs(bytes)).toEqual([
      [':status', '200'],
      ['content-type', 'text/plain'],
    ]);
  });

  it('decodes a zero count as an empty map', () => {
    expect(decodePairs(Buffer.from([0, 0, 0, 0]))).toEqual([]);
  });

  it('treats 0 bytes, a lone NUL and anything under 4 bytes as an empty map', () => {
    expect(decodePairs(new Uint8Array(0))).toEqual([]);
    expect(decodePairs(Uint8Array.of(0))).toEqual([]);
    expect(decodePairs(Uint8Array.of(1, 0))).toEqual([]);
    expect(decodePairs(Uint8Array.of(1, 0, 0))).toEqual([]);
  });

  it('honours byteOffset of a view into a larger buffer', () => {
    const encoded = encodePairs(['k'], ['v']);
    const backing = Buffer.alloc(encoded.length + 10, 0xee);
    encoded.copy(backing, 5);
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 5, encoded.length);
    expect(decodePairs(view)).toEqual([['k', 'v']]);
  });

  it('rejects a count whose size table overruns the buffer', () => {
    // count 2 but only one size entry and its data
    const one = handBuilt([['a', 'b']]);
    one.writeUInt32LE(2, 0);
    expect(decodePairs(one)).toBeNull();
    // count 1 with no size table at all
    expect(decodePairs(Buffer.from([1, 0, 0, 0]))).toBeNull();
  });

  it('rejects a key size that runs past the end', () => {
    const bytes = handBuilt([['abc', 'def']]);
    bytes.writeUInt32LE(100, 4);
    expect(decodePairs(bytes)).toBeNull();
  });

  it('rejects a value size that runs past the end', () => {
    const bytes = handBuilt([['abc', 'def']]);
    bytes.writeUInt32LE(100, 8);
    expect(decodePairs(bytes)).toBeNull();
  });

  it('rejects a huge (u32 max) size without throwing', () => {
    const bytes = handBuilt([['abc', 'def']]);
    bytes.writeUInt32LE(0xffffffff, 8);
    expect(decodePairs(bytes)).toBeNull();
  });

  it('rejects a missing NUL after the key', () => {
    const bytes = handBuilt([['abc', 'def']]);
    const keyStart = 4 + 8;
    bytes[keyStart + 3] = 0x41; // the NUL after "abc"
    expect(decodePairs(bytes)).toBeNull();
  });

  it('rejects a missing NUL after the value', () => {
    const bytes = handBuilt([['abc', 'def']]);
    bytes[bytes.length - 1] = 0x41;
    expect(decodePairs(bytes)).toBeNull();
  });

  it('rejects sizes that disagree with the NUL positions', () => {
    // key length says 2 for "abc": byte at index 2 of the key is 'c', not NUL
    const bytes = handBuilt([['abc', 'def']]);
    bytes.writeUInt32LE(2, 4);
    expect(decodePairs(bytes)).toBeNull();
  });

  it('rejects trailing garbage after the last pair', () => {
    const bytes = Buffer.concat([handBuilt([['a', 'b']]), Buffer.from([0])]);
    expect(decodePairs(bytes)).toBeNull();
    const zeroCount = Buffer.from([0, 0, 0, 0, 0x78]);
    expect(decodePairs(zeroCount)).toBeNull();
  });

  it('rejects a truncated encoding', () => {
    const bytes = handBuilt([['abc', 'def']]);
    expect(decodePairs(bytes.subarray(0, bytes.length - 1))).toBeNull();
  });

  it(`accepts exactly ${MAX_PAIRS_COUNT} pairs and rejects one more`, () => {
    const names = Array.from({ length: MAX_PAIRS_COUNT }, (_, i) => `h${i}`);
    const values = names.map(() => 'v');
    const ok = decodePairs(encodePairs(names, values));
    expect(ok).not.toBeNull();
    expect(ok!.length).toBe(1024);
    expect(ok![1023]).toEqual(['h1023', 'v']);

    const over = decodePairs(encodePairs([...names, 'extra'], [...values, 'v']));
    expect(over).toBeNull();
  });

  it('rejects a count above the limit even before looking at the data', () => {
    const bytes = Buffer.alloc(16);
    bytes.writeUInt32LE(MAX_PAIRS_COUNT + 1, 0);
    expect(decodePairs(bytes)).toBeNull();
  });

  it('accepts exactly 1 MiB and rejects one byte more', () => {
    // one pair: 4 + 8 + key(1) + NUL + valueLen + NUL = 1 MiB
    const valueLen = MAX_PAIRS_BYTES - 15;
    const exact = encodePairs(['k'], ['x'.repeat(valueLen)]);
    expect(exact.length).toBe(MAX_PAIRS_BYTES);
    const decoded = decodePairs(exact);
    expect(decoded).not.toBeNull();
    expect(decoded![0]![1].length).toBe(valueLen);

    const over = encodePairs(['k'], ['x'.repeat(valueLen + 1)]);
    expect(over.length).toBe(MAX_PAIRS_BYTES + 1);
    expect(decodePairs(over)).toBeNull();
  });

  it('keeps non-UTF-8 bytes unchanged through a latin1 round trip', () => {
    const raw = Buffer.concat([
      Buffer.from([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]),
      Buffer.from([0xff, 0xfe, 0x00]),
      Buffer.from([0x80, 0xc3, 0x28, 0x00]),
    ]);
    const decoded = decodePairs(raw);
    expect(decoded).toEqual([['\u00ff\u00fe', '\u0080\u00c3(']]);
    const reencoded = encodePairList(decoded!);
    expect(reencoded.toString('hex')).toBe(raw.toString('hex'));
  });
});

describe('property paths', () => {
  it('joins segments with a single NUL and no trailing NUL', () => {
    const out = encodePropertyPath(['request', 'path']);
    expect(out.length).toBe(12);
    expect(out.toString('hex')).toBe(Buffer.from('request\0path', 'latin1').toString('hex'));
  });

  it('splits on NUL only; dots stay inside a segment', () => {
    expect(decodePropertyPath(Buffer.from('request\0headers\0x.y', 'latin1'))).toEqual(['request', 'headers', 'x.y']);
    expect(decodePropertyPath(Buffer.from('request.path', 'latin1'))).toEqual(['request.path']);
  });

  it('tolerates one trailing NUL', () => {
    expect(decodePropertyPath(Buffer.from('request\0path\0', 'latin1'))).toEqual(['request', 'path']);
  });

  it('keeps an empty inner segment', () => {
    expect(decodePropertyPath(Buffer.from('a\0\0b', 'latin1'))).toEqual(['a', '', 'b']);
  });

  it('round-trips segments with high bytes', () => {
    const segments = ['metadata', '\u00ff\u0080key'];
    const encoded = encodePropertyPath(segments);
    expect([...encoded.subarray(9)]).toEqual([0xff, 0x80, 0x6b, 0x65, 0x79]);
    expect(decodePropertyPath(encoded)).toEqual(segments);
  });

  it('honours byteOffset of a view', () => {
    const backing = Buffer.from('XXXsource\0portYYY', 'latin1');
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 3, 11);
    expect(decodePropertyPath(view)).toEqual(['source', 'port']);
  });
});
