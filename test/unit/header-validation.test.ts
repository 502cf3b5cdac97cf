import { describe, expect, it } from 'vitest';
import { isHeaderName, isHeaderNameBytes, isHeaderValue, isHeaderValueBytes } from '../../src/abi/header-validation.ts';

const latin1 = (bytes: ArrayLike<number>) => String.fromCharCode(...Array.from(bytes));

describe('header validation', () => {
  it('values: every control but HTAB and DEL are refused, obs-text passes', () => {
    expect(isHeaderValue('text/html; q=0.9\tx')).toBe(true);
    expect(isHeaderValue('caf\xe9 \x80\xff')).toBe(true);
    for (const bad of ['a\rb', 'a\nb', 'a\0', '\x1f', 'x\x7f']) expect(isHeaderValue(bad), JSON.stringify(bad)).toBe(false);
  });

  it('values in memory, read four bytes at a time, agree with the string check for every mix of edge bytes', () => {
    // Each of a word's four bytes from the values where the word-wide tests could go wrong.
    const edge = [0x00, 0x01, 0x09, 0x0a, 0x1f, 0x20, 0x21, 0x5f, 0x60, 0x7e, 0x7f, 0x80, 0x81, 0xa0, 0xfe, 0xff];
    const memory = new Uint8Array(16);
    const view = new DataView(memory.buffer);
    let checked = 0;
    for (const a of edge) for (const b of edge) for (const c of edge) for (const d of edge) {
      memory.set([0x41, a, b, c, d, 0x41, 0x41], 3);
      // At an unaligned offset, as one word, and as one word plus a tail of 3 bytes.
      const word = memory.subarray(4, 8);
      expect(isHeaderValueBytes(view, 4, 4)).toBe(isHeaderValue(latin1(word)));
      expect(isHeaderValueBytes(view, 3, 7)).toBe(isHeaderValue(latin1(memory.subarray(3, 10))));
      checked++;
    }
    expect(checked).toBe(edge.length ** 4);
  });

  it('values in memory: the tail after the last whole word is checked, and nothing past the end', () => {
    const memory = new Uint8Array(12).fill(0x61);
    const view = new DataView(memory.buffer);
    memory[9] = 0x0a;
    expect(isHeaderValueBytes(view, 0, 9)).toBe(true);
    expect(isHeaderValueBytes(view, 0, 10)).toBe(false);
    expect(isHeaderValueBytes(view, 6, 4)).toBe(false);
    expect(isHeaderValueBytes(view, 0, 0)).toBe(true);
  });

  it('names: tokens and pseudo-headers, as strings and as bytes', () => {
    for (const good of ['x-a', ':path', "!#$%&'*+-.^_`|~09AZaz"]) {
      expect(isHeaderName(good), good).toBe(true);
      expect(isHeaderNameBytes(Buffer.from(good, 'latin1'), 0, good.length), good).toBe(true);
    }
    for (const bad of ['', ':', 'a b', 'a:b', 'x\r', '(a)', 'caf\xe9']) {
      expect(isHeaderName(bad), JSON.stringify(bad)).toBe(false);
      expect(isHeaderNameBytes(Buffer.from(bad, 'latin1'), 0, bad.length), JSON.stringify(bad)).toBe(false);
    }
  });
});
