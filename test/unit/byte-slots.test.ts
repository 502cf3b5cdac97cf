import { describe, expect, it } from 'vitest';
import { sameBytes, sampledSlot, sampledSlotOfString } from '../../src/abi/byte-slots.ts';

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
});

describe('how keys of one family spread over the slots', () => {
  const slotsUsed = (keys: string[], mask: number) => new Set(keys.map((k) => sampledSlotOfString(k, k.length, mask))).size;

  it('numbered names that differ only in their last two characters take a slot each, nearly', () => {
    // Sampling only the last byte of that end put x-header-0 … x-header-99 in 20 of 1024 slots.
    const names = Array.from({ length: 100 }, (_, i) => `x-header-${i}`);
    expect(slotsUsed(names, 1023)).toBeGreaterThan(85);
  });

  it('five-digit numbers (values in the response header value cache) spread too', () => {
    const lengths = Array.from({ length: 100 }, (_, i) => String(10000 + i * 7));
    expect(slotsUsed(lengths, 255)).toBeGreaterThan(75);
  });
});
