// Response header values decoded from undici's Buffers, with repeats served from a cache.

import { describe, expect, it } from 'vitest';
import { headerValueFromBytes, valueIsShareable } from '../../src/proxy/header-values.ts';

const latin1 = (s: string) => Buffer.from(s, 'latin1');

describe('headerValueFromBytes', () => {
  it('gives the latin1 string of the bytes, the first time and again', () => {
    for (let round = 0; round < 2; round++) {
      expect(headerValueFromBytes('content-type', latin1('application/json'))).toBe('application/json');
      expect(headerValueFromBytes('content-length', latin1('100'))).toBe('100');
      expect(headerValueFromBytes('server', latin1('caf\xe9 \xff'))).toBe('caf\xe9 \xff');
    }
  });

  it('tells apart values that differ only where the slot does not look', () => {
    // Same length, first, last, middle and quarter bytes: the same slot, different seconds.
    const dates = ['Wed, 02 Dec 2026 20:00:01 GMT', 'Wed, 02 Dec 2026 20:00:02 GMT', 'Wed, 02 Dec 2026 20:00:01 GMT'];
    for (const date of dates) expect(headerValueFromBytes('date', latin1(date))).toBe(date);
    for (const n of ['1', '2', '1']) expect(headerValueFromBytes('content-length', latin1(n))).toBe(n);
  });

  it('reads a value inside a larger buffer, an empty one and a long one', () => {
    const pool = latin1('xxno-storeyy');
    expect(headerValueFromBytes('cache-control', pool.subarray(2, 10))).toBe('no-store');
    expect(headerValueFromBytes('cache-control', Buffer.alloc(0))).toBe('');
    const long = `max-age=${'9'.repeat(100)}`;
    expect(headerValueFromBytes('cache-control', latin1(long))).toBe(long);
  });

  it('keeps its own copy of the bytes: undici reuses the buffer a value came in', () => {
    const buffer = latin1('private, max-age=7');
    expect(headerValueFromBytes('cache-control', buffer)).toBe('private, max-age=7');
    buffer[1] = 0x78; // 'pxivate, ...': a byte the slot does not look at
    expect(headerValueFromBytes('cache-control', latin1('pxivate, max-age=7'))).toBe('pxivate, max-age=7');
  });

  it('decodes the values of other names every time, correctly', () => {
    expect(headerValueFromBytes('set-cookie', latin1('session=abc'))).toBe('session=abc');
    expect(headerValueFromBytes('set-cookie', latin1('session=abd'))).toBe('session=abd');
    expect(headerValueFromBytes('x-upstream', latin1('bench'))).toBe('bench');
  });
});

describe('valueIsShareable', () => {
  it('caches descriptions of the response, never credentials or per-client state', () => {
    for (const name of ['content-type', 'content-length', 'cache-control', 'date', 'vary', 'etag', 'server', 'expires', 'last-modified', 'content-encoding']) {
      expect(valueIsShareable(name), name).toBe(true);
    }
    for (const name of ['set-cookie', 'location', 'www-authenticate', 'authorization', 'x-upstream', 'content-md5', 'dat', 'datee', '']) {
      expect(valueIsShareable(name), name).toBe(false);
    }
  });
});
