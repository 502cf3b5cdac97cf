import { describe, expect, it } from 'vitest';
import { HeaderMap } from '../../src/abi/header-map.ts';
import { decodePairs, encodePairs } from '../../src/abi/pairs.ts';

describe('HeaderMap', () => {
  it('lower-cases names on add and keeps insertion order and duplicates', () => {
    const map = new HeaderMap();
    map.add('Set-Cookie', 'a=1');
    map.add('X-Trace', 't');
    map.add('SET-COOKIE', 'b=2');
    expect(map.pairs()).toEqual([
      ['set-cookie', 'a=1'],
      ['x-trace', 't'],
      ['set-cookie', 'b=2'],
    ]);
    expect(map.size).toBe(3);
  });

  it('fromPairs lower-cases and keeps order', () => {
    const map = HeaderMap.fromPairs([
      [':Path', '/'],
      ['Accept', '*/*'],
      ['accept', 'text/html'],
    ]);
    expect(map.names).toEqual([':path', 'accept', 'accept']);
    expect(map.values).toEqual(['/', '*/*', 'text/html']);
  });

  it('get returns the first value; getJoined joins all with ", "', () => {
    const map = HeaderMap.fromPairs([
      ['accept', 'a'],
      ['other', 'x'],
      ['accept', 'b'],
      ['accept', 'c'],
    ]);
    expect(map.get('accept')).toBe('a');
    expect(map.getJoined('accept')).toBe('a,b,c');
    expect(map.getJoined('other')).toBe('x');
    expect(map.get('missing')).toBeUndefined();
    expect(map.getJoined('missing')).toBeUndefined();
    expect(map.has('other')).toBe(true);
    expect(map.has('missing')).toBe(false);
  });

  it('getJoined keeps an empty first value', () => {
    const map = HeaderMap.fromPairs([
      ['x', ''],
      ['x', 'b'],
    ]);
    expect(map.getJoined('x')).toBe(',b');
  });

  it('set overwrites the first entry in place and removes later duplicates', () => {
    const map = HeaderMap.fromPairs([
      ['a', '1'],
      ['x', 'old1'],
      ['b', '2'],
      ['x', 'old2'],
      ['c', '3'],
      ['x', 'old3'],
    ]);
    map.set('X', 'new');
    expect(map.pairs()).toEqual([
      ['a', '1'],
      ['x', 'new'],
      ['b', '2'],
      ['c', '3'],
    ]);
  });

  it('addLowerCase and setLowerCase act like add and set for a lower-case name, and count as edits', () => {
    const map = HeaderMap.fromPairs([['x-forwarded-for', '10.0.0.1'], ['x-forwarded-for', '10.0.0.2']]);
    const version = map.version;
    map.setLowerCase('x-forwarded-for', '10.0.0.1, 10.0.0.2, 127.0.0.1');
    map.addLowerCase('x-request-id', 'id-1');
    expect(map.pairs()).toEqual([
      ['x-forwarded-for', '10.0.0.1, 10.0.0.2, 127.0.0.1'],
      ['x-request-id', 'id-1'],
    ]);
    expect(map.version).toBe(version + 2);
  });

  it('set appends when the name is absent', () => {
    const map = HeaderMap.fromPairs([['a', '1']]);
    map.set('New-Header', 'v');
    expect(map.pairs()).toEqual([
      ['a', '1'],
      ['new-header', 'v'],
    ]);
  });

  it('remove drops every entry of the name (case-insensitively) and keeps the rest in order', () => {
    const map = HeaderMap.fromPairs([
      ['x', '1'],
      ['a', 'A'],
      ['x', '2'],
      ['b', 'B'],
    ]);
    map.remove('X');
    expect(map.pairs()).toEqual([
      ['a', 'A'],
      ['b', 'B'],
    ]);
  });

  it('remove keeps names of the same length, and empties a map of one name', () => {
    const map = HeaderMap.fromPairs([
      ['x-b', 'B'],
      ['x-a', '1'],
      ['x-c', 'C'],
      ['x-a', '2'],
    ]);
    map.removeLowerCase('x-a');
    expect(map.pairs()).toEqual([
      ['x-b', 'B'],
      ['x-c', 'C'],
    ]);
    const single = HeaderMap.fromPairs([['x', '1'], ['x', '2']]);
    single.remove('x');
    expect(single.size).toBe(0);
    expect(single.values).toEqual([]);
  });

  it('removeNamedAt removes every entry named like the one at the index, and counts as an edit', () => {
    const map = HeaderMap.fromPairs([['a', '1'], ['x-a', '1'], ['b', '2'], ['x-a', '2']]);
    const version = map.version;
    map.removeNamedAt(1);
    expect(map.pairs()).toEqual([['a', '1'], ['b', '2']]);
    expect(map.version).toBeGreaterThan(version);
  });

  it('replaceAll swaps the whole content and lower-cases names', () => {
    const map = HeaderMap.fromPairs([['a', '1']]);
    map.replaceAll([
      ['B', '2'],
      ['C', '3'],
    ]);
    expect(map.pairs()).toEqual([
      ['b', '2'],
      ['c', '3'],
    ]);
  });

  it('byteSize sums name and value lengths', () => {
    const map = HeaderMap.fromPairs([
      [':path', '/abc'],
      ['x', ''],
    ]);
    expect(map.byteSize).toBe(5 + 4 + 1 + 0);
  });

  it('encode produces the pairs layout', () => {
    const map = HeaderMap.fromPairs([
      [':method', 'GET'],
      ['X', 'y'],
    ]);
    const bytes = map.encode();
    expect(bytes.equals(encodePairs([':method', 'x'], ['GET', 'y']))).toBe(true);
    expect(decodePairs(bytes)).toEqual([
      [':method', 'GET'],
      ['x', 'y'],
    ]);
  });

  it('caches encode() until the map changes', () => {
    const map = HeaderMap.fromPairs([['a', '1']]);
    const first = map.encode();
    expect(map.encode()).toBe(first);
    // reads do not invalidate
    map.get('a');
    map.getJoined('a');
    map.pairs();
    expect(map.encode()).toBe(first);

    map.add('b', '2');
    const second = map.encode();
    expect(second).not.toBe(first);
    expect(decodePairs(second)).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
  });

  it.each([
    ['add', (m: HeaderMap) => m.add('z', '9')],
    ['set', (m: HeaderMap) => m.set('a', 'changed')],
    ['remove', (m: HeaderMap) => m.remove('a')],
    ['replaceAll', (m: HeaderMap) => m.replaceAll([['q', 'r']])],
  ] as const)('%s invalidates the cached encoding and bumps version', (_name, mutate) => {
    const map = HeaderMap.fromPairs([['a', '1']]);
    const before = map.encode();
    const version = map.version;
    mutate(map);
    expect(map.version).toBe(version + 1);
    const after = map.encode();
    expect(after).not.toBe(before);
    expect(decodePairs(after)).toEqual(map.pairs());
  });

  it('remove of an absent name changes nothing and keeps the cache', () => {
    const map = HeaderMap.fromPairs([['a', '1']]);
    const before = map.encode();
    const version = map.version;
    map.remove('absent');
    expect(map.version).toBe(version);
    expect(map.encode()).toBe(before);
  });

  it('counts one version per modification', () => {
    const map = new HeaderMap();
    expect(map.version).toBe(0);
    map.add('a', '1');
    map.add('b', '2');
    map.set('a', '3');
    expect(map.version).toBe(3);
    // fromPairs counts its own adds
    expect(HeaderMap.fromPairs([['a', '1'], ['b', '2']]).version).toBe(2);
    // the constructor does not
    expect(new HeaderMap(['a'], ['1']).version).toBe(0);
  });

  it('encodedLength matches the encoded size before and after caching', () => {
    const map = HeaderMap.fromPairs([
      [':status', '200'],
      ['server', 'sluice'],
    ]);
    const expected = 4 + (8 + 7 + 1 + 3 + 1) + (8 + 6 + 1 + 6 + 1);
    expect(map.encodedLength).toBe(expected);
    map.encode();
    expect(map.encodedLength).toBe(expected);
    map.add('x', 'yy');
    expect(map.encodedLength).toBe(expected + 8 + 1 + 1 + 2 + 1);
  });

  it('keeps latin1 header bytes unchanged through encode', () => {
    const map = HeaderMap.fromPairs([['x-bin', '\u00ff\u0080']]);
    const bytes = map.encode();
    expect([...bytes.subarray(bytes.length - 3)]).toEqual([0xff, 0x80, 0x00]);
  });
});
