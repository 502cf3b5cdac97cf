import { describe, expect, it } from 'vitest';
import { HeaderMap } from '../../src/abi/header-map.ts';
import { lowerAscii, lowerNameFromBytes, nameEqualsBytes } from '../../src/abi/header-names.ts';

const bytesOf = (text: string, at = 3): Buffer => {
  const buf = Buffer.alloc(at + text.length + 2, 0x2e);
  buf.write(text, at, 'latin1');
  return buf;
};

describe('header names', () => {
  it('lowerAscii returns the same string when there is nothing to lower-case', () => {
    const name = 'x-request-id';
    expect(lowerAscii(name)).toBe(name);
    expect(lowerAscii('Content-Type')).toBe('content-type');
    expect(lowerAscii('X-ÄB')).toBe('x-äb'); // toLowerCase once any A-Z is present
    expect(lowerAscii('')).toBe('');
  });

  it('nameEqualsBytes compares case-insensitively, within the given range only', () => {
    const buf = bytesOf('User-Agent');
    expect(nameEqualsBytes('user-agent', buf, 3, 10)).toBe(true);
    expect(nameEqualsBytes('user-agenT'.toLowerCase(), buf, 3, 10)).toBe(true);
    expect(nameEqualsBytes('user-agent', buf, 3, 9)).toBe(false);
    expect(nameEqualsBytes('user-agenx', buf, 3, 10)).toBe(false);
    expect(nameEqualsBytes('', buf, 0, 0)).toBe(true);
    // '[' (0x5b) and '{' (0x7b) differ by 0x20 too, but only A-Z fold
    expect(nameEqualsBytes('{', Buffer.from('['), 0, 1)).toBe(false);
  });

  it('lowerNameFromBytes decodes lower-case and returns the cached string for the same bytes', () => {
    const first = lowerNameFromBytes(bytesOf('X-Bench-Cache'), 3, 13);
    expect(first).toBe('x-bench-cache');
    const again = lowerNameFromBytes(bytesOf('x-bench-CACHE', 7), 7, 13);
    expect(again).toBe('x-bench-cache');
    expect(lowerNameFromBytes(bytesOf('x-other'), 3, 7)).toBe('x-other');
    expect(lowerNameFromBytes(bytesOf('x'), 3, 0)).toBe('');
    const long = `x-${'Long'.repeat(30)}`;
    expect(lowerNameFromBytes(bytesOf(long), 3, long.length)).toBe(long.toLowerCase());
  });

  it('a slot reused by a colliding name never returns the wrong name', () => {
    // 3000 distinct names through a 1024-slot cache: many share slots.
    for (let i = 0; i < 3000; i++) {
      const name = `x-h${i}`;
      expect(lowerNameFromBytes(Buffer.from(name.toUpperCase()), 0, name.length)).toBe(name);
    }
    for (let i = 2999; i >= 0; i--) {
      const name = `x-h${i}`;
      expect(lowerNameFromBytes(Buffer.from(name), 0, name.length)).toBe(name);
    }
  });

  it('HeaderMap.indexOfBytes finds the first entry of a name in any case; nameFromBytes reuses it', () => {
    const map = new HeaderMap([':path', 'accept', 'x-a', 'accept'], ['/', 'a', 'b', 'c']);
    const buf = bytesOf('ACCEPT');
    expect(map.indexOfBytes(buf, 3, 6)).toBe(1);
    expect(map.indexOfBytes(buf, 3, 5)).toBe(-1);
    expect(map.nameFromBytes(buf, 3, 6)).toBe(map.names[1]);
    expect(map.nameFromBytes(bytesOf('X-New'), 3, 5)).toBe('x-new');
  });
});
