import { describe, expect, it } from 'vitest';
import { propertyPathFromBytes as fromBytesAndView } from '../../src/abi/property-paths.ts';

/** Reads through a DataView over the same bytes, as the host call does over guest memory. */
const propertyPathFromBytes = (bytes: Buffer, start: number, len: number) =>
  fromBytesAndView(bytes, new DataView(bytes.buffer, bytes.byteOffset, bytes.length), start, len);

const memoryWith = (path: string, at = 5): Buffer => {
  const buf = Buffer.alloc(at + path.length + 3, 0x78);
  buf.write(path, at, 'latin1');
  return buf;
};

describe('property paths read from guest memory', () => {
  it('splits a path into its segments, with or without a trailing NUL', () => {
    expect(propertyPathFromBytes(memoryWith('request\0path'), 5, 12)).toEqual(['request', 'path']);
    expect(propertyPathFromBytes(memoryWith('request\0headers\0x.y\0'), 5, 20)).toEqual(['request', 'headers', 'x.y']);
    expect(propertyPathFromBytes(memoryWith('plugin_name'), 5, 11)).toEqual(['plugin_name']);
    expect(propertyPathFromBytes(memoryWith(''), 5, 0)).toEqual(['']);
  });

  it('hands back the same segments for the same bytes, and never a stale path once memory changes', () => {
    const memory = memoryWith('request\0path');
    const first = propertyPathFromBytes(memory, 5, 12);
    expect(propertyPathFromBytes(memoryWith('request\0path', 9), 9, 12)).toBe(first);
    // The guest reuses the same bytes for another path of the same length.
    memory.write('request\0host', 5, 'latin1');
    expect(propertyPathFromBytes(memory, 5, 12)).toEqual(['request', 'host']);
    memory.write('request\0path', 5, 'latin1');
    expect(propertyPathFromBytes(memory, 5, 12)).toEqual(['request', 'path']);
    // Paths whose length is not a multiple of four differ in their last, partial word.
    const odd = memoryWith('request\0hosts');
    expect(propertyPathFromBytes(odd, 5, 13)).toEqual(['request', 'hosts']);
    odd.write('X', 17, 'latin1');
    expect(propertyPathFromBytes(odd, 5, 13)).toEqual(['request', 'hostX']);
    // Case matters in paths.
    expect(propertyPathFromBytes(memoryWith('Request\0path'), 5, 12)).toEqual(['Request', 'path']);
  });

  it('a slot taken by a colliding path never returns the wrong segments', () => {
    // 2000 distinct paths through a 256-slot cache: many share slots.
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 2000; i++) {
        const path = `metadata\0k${i}`;
        expect(propertyPathFromBytes(memoryWith(path), 5, path.length)).toEqual(['metadata', `k${i}`]);
      }
    }
  });

  it('decodes paths longer than the cache keeps', () => {
    const long = `request\0headers\0x-${'a'.repeat(200)}`;
    expect(propertyPathFromBytes(memoryWith(long), 5, long.length)).toEqual(['request', 'headers', `x-${'a'.repeat(200)}`]);
  });
});
