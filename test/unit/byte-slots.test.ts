import { describe, expect, it } from 'vitest';
import { sameAsWords, sameBytes, sampledSlot, sampledSlotOfString, wordsOf } from '../../src/abi/byte-slots.ts';

describe('cache slots sampled from a key', () => {
  it('a key has the same slot as bytes (at any offset) and as a string, in any ASCII case', () => {
    const keys = ['a', 'te', 'host', 'x-forwarded-for', 'User-Agent', ':authority', 'CONTENT-TYPE', `x-${'q'.repeat(60)}`];
    for (let i = 0; i < 200; i++) keys.push(`x-h${i * 7919}`);
    for (const key of keys) {
      for (const mask of [255, 1023]) {
        const slot = sampledSlotOfString(key, key.length, mask);
        expect(slot, key).toBeLessThanOrEqual(mask);
        const padded = Buffer.from(`..${key}.`, 'latin1');
        expect(sampledSlot(padded, 2, key.length, mask), key).toBe(slot);
        expect(sampledSlotOfString(key.toUpperCase(), key.length, mask), key).toBe(slot);
        expect(sampledSlotOfString(key.toLowerCase(), key.length, mask), key).toBe(slot);
      }
    }
  });

  it('sameBytes compares exactly, within the range only', () => {
    const bytes = Buffer.from('..abc.');
    expect(sameBytes(Buffer.from('abc'), bytes, 2, 3)).toBe(true);
    expect(sameBytes(Buffer.from('ABC'), bytes, 2, 3)).toBe(false);
    expect(sameBytes(Buffer.from('ab'), bytes, 2, 3)).toBe(false);
    expect(sameBytes(Buffer.from('bc.'), bytes, 2, 3)).toBe(false);
  });

  it('sameAsWords compares a key four bytes at a time, its partial last word included', () => {
    const bytes = Buffer.from('..content-type..x-a.');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    for (const key of ['content-type', 'content-typ', 'content-ty', 'content-t']) {
      expect(sameAsWords(wordsOf(key), view, 2, key.length), key).toBe(true);
      expect(sameAsWords(wordsOf(Buffer.from(key)), view, 2, key.length), `${key} as bytes`).toBe(true);
    }
    expect(sameAsWords(wordsOf('x-a'), view, 16, 3)).toBe(true);
    expect(sameAsWords(wordsOf('x-b'), view, 16, 3)).toBe(false);
    expect(sameAsWords(wordsOf('Content-type'), view, 2, 12)).toBe(false);
    expect(sameAsWords(wordsOf('content-typf'), view, 2, 12)).toBe(false);
    expect(sameAsWords(wordsOf('content-tyqe'), view, 2, 11)).toBe(false);
  });
});
