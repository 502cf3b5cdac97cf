import { describe, expect, it } from 'vitest';
import { HeaderMap } from '../../src/abi/header-map.ts';
import { cachedNamesAt, guestHeaderName, headerNameFromBytes, headerNameFromString, lowerNameFromBytes, nameEqualsBytes } from '../../src/abi/header-names.ts';
import { sampledSlotOfString } from '../../src/abi/byte-slots.ts';

const bytesOf = (text: string, at = 3): Buffer => {
  const buf = Buffer.alloc(at + text.length + 2, 0x2e);
  buf.write(text, at, 'latin1');
  return buf;
};

describe('header names matched as bytes', () => {
  it('nameEqualsBytes compares case-insensitively, within the given range only', () => {
    const buf = bytesOf('User-Agent');
    expect(nameEqualsBytes('user-agent', buf, 3, 10)).toBe(true);
    expect(nameEqualsBytes('user-agent', buf, 3, 9)).toBe(false);
    expect(nameEqualsBytes('user-agen', buf, 3, 9)).toBe(true);
    expect(nameEqualsBytes('user-agenx', buf, 3, 10)).toBe(false);
    expect(nameEqualsBytes('', buf, 0, 0)).toBe(true);
    // '[' (0x5b) and '{' (0x7b) differ by 0x20 too, but only A-Z fold
    expect(nameEqualsBytes('{', Buffer.from('['), 0, 1)).toBe(false);
  });

  it('HeaderMap.indexOf finds the first entry of a lower-case name from a position; firstOfLength narrows where to look', () => {
    const map = new HeaderMap([':path', 'accept', 'x-a', 'accept'], ['/', 'a', 'b', 'c']);
    expect(map.indexOf('accept')).toBe(1);
    expect(map.indexOf('accept', 2)).toBe(3);
    expect(map.indexOf('accept', 4)).toBe(-1);
    expect(map.indexOf('x-b')).toBe(-1);
    expect(map.indexOf('ACCEPT')).toBe(-1);
    expect(map.firstOfLength(6)).toBe(1);
    expect(map.firstOfLength(3)).toBe(2);
    expect(map.firstOfLength(7)).toBe(-1);
    expect(new HeaderMap().indexOf('x')).toBe(-1);
  });

  it('guestHeaderName matches a cached name word by word at any offset and length, and falls back for other spellings', () => {
    // Lengths 1-9 cover a tail of 0-3 bytes after the whole words; offsets 0-3 cover every alignment.
    for (const name of ['a', 'ab', 'abc', 'abcd', 'x-abc', 'x-abcd', 'x-abcde', 'x-abcdef', 'x-abcdefg']) {
      for (let at = 0; at < 4; at++) {
        const buf = bytesOf(name, at);
        const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
        const first = guestHeaderName(buf, view, at, name.length);
        expect(first).toBe(name);
        expect(guestHeaderName(buf, view, at, name.length)).toBe(first);
        // The same name in upper case, and a name differing only in its last byte.
        const upper = bytesOf(name.toUpperCase(), at);
        expect(guestHeaderName(upper, new DataView(upper.buffer, upper.byteOffset, upper.length), at, name.length)).toBe(name);
        const other = `${name.slice(0, -1)}z`;
        const otherBytes = bytesOf(other, at);
        expect(guestHeaderName(otherBytes, new DataView(otherBytes.buffer, otherBytes.byteOffset, otherBytes.length), at, name.length)).toBe(other);
        // Shorter than the cached name: the bytes after the key are not part of it.
        if (name.length > 1) expect(guestHeaderName(buf, view, at, name.length - 1)).toBe(name.slice(0, -1));
      }
    }
    const bad = bytesOf('x bad');
    expect(guestHeaderName(bad, new DataView(bad.buffer, bad.byteOffset, bad.length), 3, 5)).toBeNull();
    expect(guestHeaderName(bad, new DataView(bad.buffer, bad.byteOffset, bad.length), 3, 0)).toBeNull();
  });

  it('headerNameFromBytes hands back the cached lower-case name, or null for bytes that are not a name', () => {
    expect(headerNameFromBytes(bytesOf('X-Guest-Name'), 3, 12)).toBe('x-guest-name');
    expect(headerNameFromBytes(bytesOf(':Path'), 3, 5)).toBe(':path');
    for (const bad of ['x bad', 'x:y', 'x\r\n', '\u00e9', ':', '(a)']) expect(headerNameFromBytes(bytesOf(bad), 3, bad.length), JSON.stringify(bad)).toBeNull();
    expect(headerNameFromBytes(bytesOf('x'), 3, 0)).toBeNull();
    const long = `X-${'Long'.repeat(30)}`;
    expect(headerNameFromBytes(bytesOf(long), 3, long.length)).toBe(long.toLowerCase());
    expect(headerNameFromBytes(bytesOf(`${long} `), 3, long.length + 1)).toBeNull();
  });

  it('tells apart names in the same slot (bytes the slot does not sample), in any case', () => {
    // Length 8: the slot samples bytes 0, 7, 4 and 2; these differ only at byte 3.
    expect(headerNameFromBytes(bytesOf('X-AAAA-B'), 3, 8)).toBe('x-aaaa-b');
    expect(headerNameFromBytes(bytesOf('x-abaa-b'), 3, 8)).toBe('x-abaa-b');
    expect(headerNameFromBytes(bytesOf('X-ABAA-B'), 3, 8)).toBe('x-abaa-b');
    expect(lowerNameFromBytes(bytesOf('x-aaaa-b'), 3, 8)).toBe('x-aaaa-b');
  });

  it('the cache never holds a name that is not a token, whoever decoded it first', () => {
    // lowerNameFromBytes decodes anything (it also reads names undici parsed), but caches only names.
    expect(lowerNameFromBytes(bytesOf('Odd Name'), 3, 8)).toBe('odd name');
    expect(headerNameFromBytes(bytesOf('Odd Name'), 3, 8)).toBeNull();
    expect(headerNameFromBytes(bytesOf('odd name'), 3, 8)).toBeNull();
  });

  it('lowerNameFromBytes decodes lower-case and hands back the cached string for the same bytes', () => {
    const first = lowerNameFromBytes(bytesOf('X-Bench-Cache'), 3, 13);
    expect(first).toBe('x-bench-cache');
    expect(lowerNameFromBytes(bytesOf('x-bench-CACHE', 7), 7, 13)).toBe('x-bench-cache');
    expect(lowerNameFromBytes(bytesOf('x'), 3, 0)).toBe('');
    const long = `X-${'Long'.repeat(30)}`;
    expect(lowerNameFromBytes(bytesOf(long), 3, long.length)).toBe(long.toLowerCase());
  });

  it('a cache slot taken by a colliding name never returns the wrong name', () => {
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

  it('headerNameFromString lower-cases through the same cache, and caches only names', () => {
    expect(headerNameFromString('User-Agent')).toBe('user-agent');
    expect(headerNameFromString('user-agent')).toBe('user-agent');
    expect(headerNameFromString('USER-AGENT')).toBe('user-agent');
    // A name cached from a string answers byte lookups in any spelling, and the other way round.
    expect(headerNameFromString('X-From-String')).toBe('x-from-string');
    expect(headerNameFromBytes(bytesOf('x-FROM-string'), 3, 13)).toBe('x-from-string');
    expect(headerNameFromBytes(bytesOf('X-From-Bytes'), 3, 12)).toBe('x-from-bytes');
    expect(headerNameFromString('x-from-BYTES')).toBe('x-from-bytes');
    // Keys that are special as object properties come back as themselves.
    for (const name of ['__proto__', 'constructor', '123', '0', '-1', '1e3', 'tostring', 'hasownproperty', ':authority']) {
      expect(headerNameFromString(name), name).toBe(name);
      expect(headerNameFromString(name.toUpperCase()), name).toBe(name.toLowerCase());
    }
    // Not names: lower-cased as given, and never cached for the byte lookups to find.
    expect(headerNameFromString('Odd Name')).toBe('odd name');
    expect(headerNameFromBytes(bytesOf('odd name'), 3, 8)).toBeNull();
    expect(headerNameFromString('Caf\u00c9')).toBe('caf\u00e9');
    expect(headerNameFromBytes(bytesOf('caf\u00e9'), 3, 4)).toBeNull();
    expect(headerNameFromString('')).toBe('');
    const long = `X-${'Long'.repeat(30)}`;
    expect(headerNameFromString(long)).toBe(long.toLowerCase());
  });

  /** `count` names of `like`'s length other than it whose sampled slot is `slot`. */
  const namesOfSlot = (like: string, slot: number, count: number): string[] => {
    const found: string[] = [];
    let seed = 1;
    const letter = () => String.fromCharCode(97 + ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) % 26);
    for (let i = 0; found.length < count && i < 400_000; i++) {
      const name = `x-${Array.from({ length: like.length - 2 }, letter).join('')}`;
      if (name !== like && sampledSlotOfString(name, name.length, 1023) === slot) found.push(name);
    }
    expect(found).toHaveLength(count);
    return found;
  };

  it('two names of one slot both stay cached when used in turn (the slot and its neighbour)', () => {
    const first = 'x-first-of-slot';
    const slot = sampledSlotOfString(first, first.length, 1023);
    const [second, third] = namesOfSlot(first, slot, 2) as [string, string];
    const asKey = (name: string) => {
      const buf = bytesOf(name);
      return guestHeaderName(buf, new DataView(buf.buffer, buf.byteOffset, buf.length), 3, name.length);
    };
    expect(asKey(first)).toBe(first);
    expect(asKey(second)).toBe(second);
    // Cached in turn: the second in the slot, the first beside it. From now on every lookup hits
    // where the name is; a miss would move it back into the slot.
    for (let round = 0; round < 3; round++) {
      expect(asKey(first)).toBe(first);
      expect(cachedNamesAt(slot)).toEqual([second, first]);
      expect(asKey(second)).toBe(second);
      expect(cachedNamesAt(slot)).toEqual([second, first]);
    }
    expect(headerNameFromString(first.toUpperCase())).toBe(first);
    expect(headerNameFromBytes(bytesOf(second.toUpperCase()), 3, second.length)).toBe(second);
    // A third name of the slot takes it; the one cached before it stays beside it.
    expect(asKey(third)).toBe(third);
    expect(cachedNamesAt(slot)).toEqual([third, second]);
    expect(asKey(first)).toBe(first);
  });

  it('a name given as a string takes only a free slot: a client cannot evict the names filters ask for', () => {
    const kept = 'x-kept-by-filter';
    const slot = sampledSlotOfString(kept, kept.length, 1023);
    expect(headerNameFromBytes(bytesOf(kept), 3, kept.length)).toBe(kept);
    expect(cachedNamesAt(slot)).toContain(kept);
    // Other names of the same slot, sent as strings (as a client's request names arrive).
    for (const rival of namesOfSlot(kept, slot, 5)) {
      expect(headerNameFromString(rival.toUpperCase())).toBe(rival);
      expect(cachedNamesAt(slot)).toContain(kept);
    }
    // A name that comes as bytes (a filter's key, an upstream's name) still takes the slot.
    expect(headerNameFromBytes(bytesOf('X-Rival-Bytes'), 3, 13)).toBe('x-rival-bytes');
  });

  it('headerNameFromString never returns a colliding name', () => {
    for (let i = 0; i < 3000; i++) expect(headerNameFromString(`X-S${i}`)).toBe(`x-s${i}`);
    for (let i = 2999; i >= 0; i--) {
      expect(headerNameFromString(`x-s${i}`)).toBe(`x-s${i}`);
      expect(lowerNameFromBytes(Buffer.from(`X-s${i}`), 0, `x-s${i}`.length)).toBe(`x-s${i}`);
    }
  });
});
