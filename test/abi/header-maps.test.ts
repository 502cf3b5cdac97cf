// Header-map host functions against an in-memory StreamHost: get/add/replace/remove/pairs/size,
// the per-version missing-key rule, and the exact pairs serialization (reference §2.7, §4.6).

import { describe, expect, it } from 'vitest';
import { MapType, Status } from '../../src/abi/types.ts';
import { compileFixture, harness, harnessFor, MemoryHost, pairsBytes, PINO, SCRATCH, type Harness } from './helpers.ts';

const REQ = MapType.HTTP_REQUEST_HEADERS;
const RESP = MapType.HTTP_RESPONSE_HEADERS;

/** Writes `key` to the scratch area and calls get_value as the stream context. */
function getValue(h: Harness, ctx: { id: number }, type: number, key: string): number {
  const [ptr, len] = h.mem.write(SCRATCH, key);
  h.mem.poisonOut();
  return h.call('get_value', ctx, type, ptr, len);
}

function edit(h: Harness, ctx: { id: number }, op: 'add' | 'replace', type: number, key: string, value: string): number {
  const [k, kl] = h.mem.write(SCRATCH, key);
  const [v, vl] = h.mem.write(SCRATCH + 0x100, value);
  return h.call(op, ctx, type, k, kl, v, vl);
}

function remove(h: Harness, ctx: { id: number }, type: number, key: string): number {
  const [k, kl] = h.mem.write(SCRATCH, key);
  return h.call('remove', ctx, type, k, kl);
}

async function setup(pairs: ReadonlyArray<readonly [string, string]> = [[':method', 'GET'], ['x-a', '1']]) {
  const h = await harness('abi-header-maps');
  const { ctx, host } = h.stream(new MemoryHost().withHeaders(REQ, pairs));
  return { h, ctx, host };
}

describe('proxy_get_header_map_value', () => {
  it('returns the value through the guest allocator', async () => {
    const { h, ctx } = await setup();
    expect(getValue(h, ctx, REQ, ':method')).toBe(Status.OK);
    expect(h.mem.outString()).toBe('GET');
    expect(h.mem.allocations()).toBe(1);
  });

  it('looks keys up case-insensitively and returns the first of repeated values', async () => {
    const { h, ctx } = await setup([['set-cookie', 'a=1'], ['Set-Cookie', 'b=2']]);
    expect(getValue(h, ctx, REQ, 'SET-Cookie')).toBe(Status.OK);
    expect(h.mem.outString()).toBe('a=1');
  });

  it('tells apart names of the same length, in either case, however often they are read', async () => {
    const { h, ctx } = await setup([[':authority', 'a'], ['user-agent', 'u'], ['x-forwarded', 'f']]);
    for (let round = 0; round < 3; round++) {
      for (const [key, value] of [['user-agent', 'u'], ['User-Agent', 'u'], [':authority', 'a'], ['x-forwarded', 'f']] as const) {
        expect(getValue(h, ctx, REQ, key), key).toBe(Status.OK);
        expect(h.mem.outString()).toBe(value);
      }
      // Same length as present names, but different: the tail byte, one middle byte.
      for (const key of ['user-agenx', 'user_agent', 'x-forwardee']) expect(getValue(h, ctx, REQ, key), key).toBe(Status.NOT_FOUND);
    }
  });

  it('answers NOT_FOUND for a key that is not a header name, and remove leaves the map alone', async () => {
    const { h, ctx, host } = await setup([['x-a', '1']]);
    for (const key of ['x a', 'x-\r', 'x:a']) {
      expect(getValue(h, ctx, REQ, key), key).toBe(Status.NOT_FOUND);
      expect(remove(h, ctx, REQ, key), key).toBe(Status.OK);
    }
    expect(host.maps.get(REQ)!.pairs()).toEqual([['x-a', '1']]);
  });

  it('passes non-UTF-8 value bytes through unchanged', async () => {
    const { h, ctx } = await setup([['x-bin', '\xff\xfe']]);
    expect(getValue(h, ctx, REQ, 'x-bin')).toBe(Status.OK);
    const [ptr, size] = h.mem.out();
    expect([...h.mem.bytes(ptr, size)]).toEqual([0xff, 0xfe]);
  });

  it('answers NOT_FOUND for a missing key in ABI 0.2.x', async () => {
    const { h, ctx } = await setup();
    expect(getValue(h, ctx, REQ, 'x-missing')).toBe(Status.NOT_FOUND);
    expect(h.mem.allocations()).toBe(0);
  });

  it('answers OK with (0,0) for a missing key in ABI 0.1.0', async () => {
    const module = await compileFixture('abi-header-maps', (s) => s.replace('proxy_abi_version_0_2_1', 'proxy_abi_version_0_1_0'));
    expect(module.abi).toBe('0.1.0');
    const h = harnessFor(module);
    const { ctx } = h.stream(new MemoryHost().withHeaders(REQ, [['x-a', '1']]));
    expect(getValue(h, ctx, REQ, 'x-missing')).toBe(Status.OK);
    expect(h.mem.out()).toEqual([0, 0]);
    expect(h.mem.allocations()).toBe(0);
    // A present key still reads normally in 0.1.0.
    expect(getValue(h, ctx, REQ, 'x-a')).toBe(Status.OK);
    expect(h.mem.outString()).toBe('1');
  });

  it('answers OK with (0,0) for a present but empty value, without allocating', async () => {
    const { h, ctx } = await setup([['x-empty', '']]);
    expect(getValue(h, ctx, REQ, 'x-empty')).toBe(Status.OK);
    expect(h.mem.out()).toEqual([0, 0]);
    expect(h.mem.allocations()).toBe(0);
  });

  it('answers BAD_ARGUMENT for map types above 7 (including negative i32)', async () => {
    const { h, ctx } = await setup();
    expect(getValue(h, ctx, 8, ':method')).toBe(Status.BAD_ARGUMENT);
    expect(getValue(h, ctx, -1, ':method')).toBe(Status.BAD_ARGUMENT);
    expect(getValue(h, ctx, 0x7fffffff, ':method')).toBe(Status.BAD_ARGUMENT);
  });

  it('answers NOT_FOUND (0.2.x) when the map does not exist on the stream', async () => {
    const { h, ctx } = await setup();
    expect(getValue(h, ctx, RESP, ':status')).toBe(Status.NOT_FOUND);
  });

  it('reads nothing from a root context, which has no stream', async () => {
    const { h } = await setup();
    expect(getValue(h, h.plugin.root, REQ, ':method')).toBe(Status.NOT_FOUND);
  });
});

describe('proxy_get_header_map_pairs', () => {
  it('serializes {":method":"GET"} byte for byte', async () => {
    const { h, ctx } = await setup([[':method', 'GET']]);
    h.mem.poisonOut();
    expect(h.call('get_pairs', ctx, REQ)).toBe(Status.OK);
    const [ptr, size] = h.mem.out();
    expect(h.mem.bytes(ptr, size).toString('hex')).toBe(
      '01000000' + '07000000' + '03000000' + Buffer.from(':method\0GET\0', 'latin1').toString('hex'),
    );
  });

  it('lists every entry in order, duplicates separately, with lower-cased keys', async () => {
    const { h, ctx } = await setup([[':path', '/x'], ['Accept', 'a'], ['accept', 'b']]);
    expect(h.call('get_pairs', ctx, REQ)).toBe(Status.OK);
    const [ptr, size] = h.mem.out();
    expect(h.mem.bytes(ptr, size)).toEqual(pairsBytes([[':path', '/x'], ['accept', 'a'], ['accept', 'b']]));
  });

  it('returns OK (0,0) for an unavailable map and for an empty one, without allocating', async () => {
    const { h, ctx, host } = await setup();
    h.mem.poisonOut();
    expect(h.call('get_pairs', ctx, MapType.HTTP_RESPONSE_TRAILERS)).toBe(Status.OK);
    expect(h.mem.out()).toEqual([0, 0]);
    // Maps 6/7 exist only while an http_call response is delivered.
    h.mem.poisonOut();
    expect(h.call('get_pairs', ctx, MapType.HTTP_CALL_RESPONSE_HEADERS)).toBe(Status.OK);
    expect(h.mem.out()).toEqual([0, 0]);
    host.withHeaders(REQ, []);
    h.mem.poisonOut();
    expect(h.call('get_pairs', ctx, REQ)).toBe(Status.OK);
    expect(h.mem.out()).toEqual([0, 0]);
    expect(h.mem.allocations()).toBe(0);
  });

  it('answers BAD_ARGUMENT for map type 8', async () => {
    const { h, ctx } = await setup();
    expect(h.call('get_pairs', ctx, 8)).toBe(Status.BAD_ARGUMENT);
  });
});

describe('proxy_set_header_map_pairs', () => {
  it('replaces the whole map and lower-cases keys', async () => {
    const { h, ctx, host } = await setup();
    const [ptr, len] = h.mem.write(SCRATCH, pairsBytes([['X-New', 'v1'], ['x-new', 'v2'], [':method', 'POST']]));
    expect(h.call('set_pairs', ctx, REQ, ptr, len)).toBe(Status.OK);
    expect(host.maps.get(REQ)!.pairs()).toEqual([['x-new', 'v1'], ['x-new', 'v2'], [':method', 'POST']]);
  });

  it('accepts (0,0), a lone NUL and a zero count as an empty map', async () => {
    const { h, ctx, host } = await setup();
    expect(h.call('set_pairs', ctx, REQ, 0, 0)).toBe(Status.OK);
    expect(host.maps.get(REQ)!.size).toBe(0);
    host.withHeaders(REQ, [['a', 'b']]);
    const [p1] = h.mem.write(SCRATCH, '\0');
    expect(h.call('set_pairs', ctx, REQ, p1, 1)).toBe(Status.OK);
    expect(host.maps.get(REQ)!.size).toBe(0);
    host.withHeaders(REQ, [['a', 'b']]);
    const [p2, l2] = h.mem.write(SCRATCH, pairsBytes([]));
    expect(h.call('set_pairs', ctx, REQ, p2, l2)).toBe(Status.OK);
    expect(host.maps.get(REQ)!.size).toBe(0);
  });

  it('refuses malformed pairs with BAD_ARGUMENT and leaves the map alone', async () => {
    const { h, ctx, host } = await setup([['a', 'b']]);
    const good = pairsBytes([['k', 'v']]);
    const noNul = Buffer.from(good);
    noNul[noNul.length - 1] = 0x41; // value terminator is not NUL
    const truncated = good.subarray(0, good.length - 1);
    const trailing = Buffer.concat([good, Buffer.from('xx')]);
    for (const bad of [noNul, truncated, trailing]) {
      const [ptr, len] = h.mem.write(SCRATCH, bad);
      expect(h.call('set_pairs', ctx, REQ, ptr, len)).toBe(Status.BAD_ARGUMENT);
    }
    expect(host.maps.get(REQ)!.pairs()).toEqual([['a', 'b']]);
  });

  it('refuses a map with a name or value HTTP cannot carry, leaving the map alone', async () => {
    const { h, ctx, host } = await setup([['a', 'b']]);
    for (const pairs of [[['k', 'v'], ['x-bad', 'a\r\nb']], [['bad name', 'v']], [['', 'v']]] as Array<Array<[string, string]>>) {
      const [ptr, len] = h.mem.write(SCRATCH, pairsBytes(pairs));
      expect(h.call('set_pairs', ctx, REQ, ptr, len), JSON.stringify(pairs)).toBe(Status.BAD_ARGUMENT);
    }
    expect(host.maps.get(REQ)!.pairs()).toEqual([['a', 'b']]);
  });

  it('answers BAD_ARGUMENT when the map is not writable now', async () => {
    const { h, ctx, host } = await setup([['a', 'b']]);
    host.readOnly.add(REQ);
    const [ptr, len] = h.mem.write(SCRATCH, pairsBytes([['k', 'v']]));
    expect(h.call('set_pairs', ctx, REQ, ptr, len)).toBe(Status.BAD_ARGUMENT);
    expect(h.call('set_pairs', ctx, MapType.HTTP_CALL_RESPONSE_HEADERS, ptr, len)).toBe(Status.BAD_ARGUMENT);
    expect(h.call('set_pairs', ctx, 8, ptr, len)).toBe(Status.BAD_ARGUMENT);
    expect(host.maps.get(REQ)!.pairs()).toEqual([['a', 'b']]);
  });
});

describe('add / replace / remove', () => {
  it('add appends another entry and lower-cases the key', async () => {
    const { h, ctx, host } = await setup([['x-a', '1']]);
    expect(edit(h, ctx, 'add', REQ, 'X-A', '2')).toBe(Status.OK);
    expect(host.maps.get(REQ)!.pairs()).toEqual([['x-a', '1'], ['x-a', '2']]);
  });

  it('values of every length keep their bytes (short ones are decoded without Buffer)', async () => {
    const { h, ctx, host } = await setup([]);
    // Lengths around the short-string cut-over (8), with bytes that are not ASCII.
    const values = Array.from({ length: 11 }, (_, n) => Array.from({ length: n }, (_, i) => String.fromCharCode(0xf5 + i)).join(''));
    for (const value of values) expect(edit(h, ctx, 'add', REQ, 'x-v', value)).toBe(Status.OK);
    expect(host.maps.get(REQ)!.values).toEqual(values);
    expect(edit(h, ctx, 'replace', REQ, 'x-w', '\ta\x80\xff')).toBe(Status.OK);
    expect(host.maps.get(REQ)!.get('x-w')).toBe('\ta\x80\xff');
  });

  it('refuses names and values HTTP cannot carry with BAD_ARGUMENT, leaving the map alone', async () => {
    const { h, ctx, host } = await setup([['x-a', '1']]);
    // Controls other than HTAB (CR and LF above all: they would split the header) and DEL.
    for (const value of ['a\r\nx-evil: 1', 'a\nb', '\x00', 'a\x1fb', '\x7f']) {
      expect(edit(h, ctx, 'add', REQ, 'x-v', value), JSON.stringify(value)).toBe(Status.BAD_ARGUMENT);
      expect(edit(h, ctx, 'replace', REQ, 'x-a', value), JSON.stringify(value)).toBe(Status.BAD_ARGUMENT);
    }
    // A name is a token, or ':' and a token.
    for (const name of ['', 'x bad', 'x:bad', 'x-a\r\n', '(x)', ':', '::path', '\xe9t\xe9']) {
      expect(edit(h, ctx, 'add', REQ, name, 'v'), JSON.stringify(name)).toBe(Status.BAD_ARGUMENT);
      expect(edit(h, ctx, 'replace', REQ, name, 'v'), JSON.stringify(name)).toBe(Status.BAD_ARGUMENT);
    }
    expect(host.maps.get(REQ)!.pairs()).toEqual([['x-a', '1']]);
    expect(edit(h, ctx, 'replace', REQ, ':path', '/p?q=1')).toBe(Status.OK);
    expect(edit(h, ctx, 'add', REQ, "x-!#$%&'*+.^_`|~09", '')).toBe(Status.OK);
    expect(host.maps.get(REQ)!.pairs()).toEqual([['x-a', '1'], [':path', '/p?q=1'], ["x-!#$%&'*+.^_`|~09", '']]);
  });

  it("quotes a long refused name in the warning as other warnings do: 100 characters and the name's length", async () => {
    const long = `x y${'z'.repeat(297)}`; // 300 characters, not a token
    const shown = `${long.slice(0, 100)}… (300 characters)`;
    const warned = (h: Harness) => h.lines.filter((l) => l.level === PINO.warn).map((l) => l['name']);
    const one = await setup([]);
    const [k, kl] = one.h.mem.write(SCRATCH, long);
    const [v, vl] = one.h.mem.write(SCRATCH + 0x200, 'v');
    expect(one.h.call('add', one.ctx, REQ, k, kl, v, vl)).toBe(Status.BAD_ARGUMENT);
    expect(warned(one.h)).toEqual([shown]);
    const two = await setup([]);
    const [p, pl] = two.h.mem.write(SCRATCH, pairsBytes([[long, 'v']]));
    expect(two.h.call('set_pairs', two.ctx, REQ, p, pl)).toBe(Status.BAD_ARGUMENT);
    expect(warned(two.h)).toEqual([shown]);
  });

  it('replace collapses repeated entries to one value, or adds the key', async () => {
    const { h, ctx, host } = await setup([['x-a', '1'], ['y', 'y'], ['x-a', '2']]);
    expect(edit(h, ctx, 'replace', REQ, 'x-a', '3')).toBe(Status.OK);
    expect(edit(h, ctx, 'replace', REQ, 'X-New', 'n')).toBe(Status.OK);
    expect(host.maps.get(REQ)!.pairs()).toEqual([['x-a', '3'], ['y', 'y'], ['x-new', 'n']]);
  });

  it('replace with an empty value keeps the key with an empty value', async () => {
    const { h, ctx, host } = await setup([['x-a', '1']]);
    expect(edit(h, ctx, 'replace', REQ, 'x-a', '')).toBe(Status.OK);
    expect(host.maps.get(REQ)!.pairs()).toEqual([['x-a', '']]);
  });

  it('remove drops every entry of the key and is OK for an absent key', async () => {
    const { h, ctx, host } = await setup([['x-a', '1'], ['y', 'y'], ['X-A', '2']]);
    expect(remove(h, ctx, REQ, 'X-a')).toBe(Status.OK);
    expect(remove(h, ctx, REQ, 'never-there')).toBe(Status.OK);
    expect(host.maps.get(REQ)!.pairs()).toEqual([['y', 'y']]);
  });

  it('edits of a read-only or missing map answer BAD_ARGUMENT', async () => {
    const { h, ctx, host } = await setup([['x-a', '1']]);
    host.readOnly.add(REQ);
    expect(edit(h, ctx, 'add', REQ, 'k', 'v')).toBe(Status.BAD_ARGUMENT);
    expect(edit(h, ctx, 'replace', REQ, 'k', 'v')).toBe(Status.BAD_ARGUMENT);
    expect(remove(h, ctx, REQ, 'x-a')).toBe(Status.BAD_ARGUMENT);
    expect(edit(h, ctx, 'add', RESP, 'k', 'v')).toBe(Status.BAD_ARGUMENT);
    expect(host.maps.get(REQ)!.pairs()).toEqual([['x-a', '1']]);
  });

  it('edits with map type 8 answer BAD_ARGUMENT', async () => {
    const { h, ctx } = await setup();
    expect(edit(h, ctx, 'add', 8, 'k', 'v')).toBe(Status.BAD_ARGUMENT);
    expect(edit(h, ctx, 'replace', 8, 'k', 'v')).toBe(Status.BAD_ARGUMENT);
    expect(remove(h, ctx, 8, 'k')).toBe(Status.BAD_ARGUMENT);
  });
});

describe('proxy_get_header_map_size', () => {
  it("reports the map's byte size (sum of key and value lengths, as Envoy does)", async () => {
    const { h, ctx } = await setup([[':method', 'GET'], ['x-a', '12']]);
    h.mem.poisonOut();
    expect(h.call('get_size', ctx, REQ)).toBe(Status.OK);
    expect(h.mem.u32(0x08)).toBe(7 + 3 + 3 + 2);
  });

  it('reports 0 for an unavailable map and BAD_ARGUMENT for type 8', async () => {
    const { h, ctx } = await setup();
    h.mem.poisonOut();
    expect(h.call('get_size', ctx, RESP)).toBe(Status.OK);
    expect(h.mem.u32(0x08)).toBe(0);
    expect(h.call('get_size', ctx, 8)).toBe(Status.BAD_ARGUMENT);
  });
});
