// SharedDataStore: CAS rules, one CAS counter for the whole store, namespaces per vm_id, and the
// size cap (reference §4.11, §7.10, trap 24).

import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_SHARED_DATA_MAX_BYTES, SharedDataStore } from '../../src/abi/shared-data.ts';
import { Status } from '../../src/abi/types.ts';
import { memoryLogger } from '../abi/helpers.ts';

const b = (s: string) => Buffer.from(s, 'latin1');

function read(store: SharedDataStore, vmId: string, key: string): { value: string; cas: number } | undefined {
  const entry = store.get(vmId, key);
  return entry === undefined ? undefined : { value: entry.value.toString('latin1'), cas: entry.cas };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('get and set', () => {
  it('get of a key never written is undefined', () => {
    expect(new SharedDataStore().get('vm', 'missing')).toBeUndefined();
  });

  it('cas 0 writes unconditionally; every write gets a new CAS from 1 upwards', () => {
    const store = new SharedDataStore();
    expect(store.set('vm', 'k', b('one'), 0)).toBe(Status.OK);
    expect(read(store, 'vm', 'k')).toEqual({ value: 'one', cas: 1 });
    expect(store.set('vm', 'k', b('two'), 0)).toBe(Status.OK);
    expect(read(store, 'vm', 'k')).toEqual({ value: 'two', cas: 2 });
    expect(store.set('vm', 'k', b('three'), 0)).toBe(Status.OK);
    expect(read(store, 'vm', 'k')).toEqual({ value: 'three', cas: 3 });
  });

  it('one counter serves every key and every namespace', () => {
    const store = new SharedDataStore();
    store.set('vm', 'a', b('1'), 0);
    store.set('vm', 'b', b('1'), 0);
    store.set('other', 'a', b('1'), 0);
    store.set('vm', 'a', b('2'), 0);
    expect([read(store, 'vm', 'b')!.cas, read(store, 'other', 'a')!.cas, read(store, 'vm', 'a')!.cas]).toEqual([2, 3, 4]);
  });

  it('a non-zero cas equal to the current one writes and bumps the CAS', () => {
    const store = new SharedDataStore();
    store.set('vm', 'k', b('v1'), 0);
    expect(store.set('vm', 'k', b('v2'), 1)).toBe(Status.OK);
    expect(read(store, 'vm', 'k')).toEqual({ value: 'v2', cas: 2 });
  });

  it('a stale cas answers CAS_MISMATCH and changes nothing (not even the counter)', () => {
    const store = new SharedDataStore();
    store.set('vm', 'k', b('v1'), 0); // cas 1
    store.set('vm', 'k', b('v2'), 0); // cas 2
    expect(store.set('vm', 'k', b('lost'), 1)).toBe(Status.CAS_MISMATCH);
    expect(store.set('vm', 'k', b('lost'), 99)).toBe(Status.CAS_MISMATCH);
    expect(read(store, 'vm', 'k')).toEqual({ value: 'v2', cas: 2 });
    store.set('vm', 'other', b('x'), 0);
    expect(read(store, 'vm', 'other')!.cas).toBe(3);
  });

  it('a non-zero cas on a missing key creates it', () => {
    const store = new SharedDataStore();
    expect(store.set('vm', 'new', b('created'), 12345)).toBe(Status.OK);
    expect(read(store, 'vm', 'new')).toEqual({ value: 'created', cas: 1 });
  });

  it('of two writers that read the same CAS, only the first write lands; the second retries', () => {
    const store = new SharedDataStore();
    store.set('vm', 'n', b('0'), 0); // cas 1
    const a = store.get('vm', 'n')!;
    const bRead = store.get('vm', 'n')!;
    expect(store.set('vm', 'n', b('1'), bRead.cas)).toBe(Status.OK);
    expect(store.set('vm', 'n', b('1'), a.cas)).toBe(Status.CAS_MISMATCH);
    const again = store.get('vm', 'n')!;
    expect(store.set('vm', 'n', b(String(Number(again.value.toString()) + 1)), again.cas)).toBe(Status.OK);
    expect(read(store, 'vm', 'n')).toEqual({ value: '2', cas: 3 });
  });

  it('empty values and empty keys are legal', () => {
    const store = new SharedDataStore();
    expect(store.set('vm', '', b('v'), 0)).toBe(Status.OK);
    expect(store.set('vm', 'k', Buffer.alloc(0), 0)).toBe(Status.OK);
    expect(read(store, 'vm', '')).toEqual({ value: 'v', cas: 1 });
    expect(read(store, 'vm', 'k')).toEqual({ value: '', cas: 2 });
  });

  it('keys are byte strings: every byte value round-trips', () => {
    const store = new SharedDataStore();
    const key = Buffer.from([0, 0xff, 0x80, 0x0a]).toString('latin1');
    store.set('vm', key, b('bin'), 0);
    expect(read(store, 'vm', key)?.value).toBe('bin');
    expect(store.get('vm', '\u0000\u00ff\u0080')).toBeUndefined();
  });
});

describe('CAS wrap-around', () => {
  it('wraps from 0xFFFFFFFF to 1, never handing out 0', () => {
    const store = new SharedDataStore({ firstCas: 0xfffffffe });
    store.set('vm', 'k', b('a'), 0);
    expect(store.get('vm', 'k')!.cas).toBe(0xfffffffe);
    store.set('vm', 'k', b('b'), 0);
    expect(store.get('vm', 'k')!.cas).toBe(0xffffffff);
    store.set('vm', 'k', b('c'), 0xffffffff);
    expect(read(store, 'vm', 'k')).toEqual({ value: 'c', cas: 1 });
    store.set('vm', 'k', b('d'), 1);
    expect(read(store, 'vm', 'k')).toEqual({ value: 'd', cas: 2 });
  });

  it('compares the cas as u32: -1 from an i32 argument matches 0xFFFFFFFF', () => {
    const store = new SharedDataStore({ firstCas: 0xffffffff });
    store.set('vm', 'k', b('a'), 0);
    expect(store.set('vm', 'k', b('b'), -1)).toBe(Status.OK);
    expect(read(store, 'vm', 'k')).toEqual({ value: 'b', cas: 1 });
  });
});

describe('namespaces', () => {
  it('the same key in two vm_ids is two entries', () => {
    const store = new SharedDataStore();
    store.set('vm-a', 'k', b('from a'), 0);
    expect(store.get('vm-b', 'k')).toBeUndefined();
    store.set('vm-b', 'k', b('from b'), 0);
    expect(read(store, 'vm-a', 'k')).toEqual({ value: 'from a', cas: 1 });
    expect(read(store, 'vm-b', 'k')).toEqual({ value: 'from b', cas: 2 });
  });

  it('a CAS from one namespace does not authorize a write in another', () => {
    const store = new SharedDataStore();
    store.set('vm-a', 'k', b('a'), 0); // cas 1
    store.set('vm-b', 'k', b('b'), 0); // cas 2
    expect(store.set('vm-b', 'k', b('x'), 1)).toBe(Status.CAS_MISMATCH);
  });

  it('the empty vm_id is a namespace of its own', () => {
    const store = new SharedDataStore();
    store.set('', 'k', b('default'), 0);
    expect(store.get('vm', 'k')).toBeUndefined();
    expect(read(store, '', 'k')?.value).toBe('default');
  });

  it('separate stores (separate proxies) share nothing', () => {
    const one = new SharedDataStore();
    const two = new SharedDataStore();
    one.set('vm', 'k', b('v'), 0);
    expect(two.get('vm', 'k')).toBeUndefined();
  });
});

describe('stats', () => {
  it('counts keys and the bytes of keys plus values, in total and per vm_id', () => {
    const store = new SharedDataStore();
    expect(store.stats()).toEqual({ keys: 0, bytes: 0, maxBytes: DEFAULT_SHARED_DATA_MAX_BYTES, droppedWrites: 0, byVmId: new Map() });
    store.set('a', 'key', b('value'), 0); // 3 + 5
    store.set('a', 'k2', b('v'), 0); // 2 + 1
    store.set('b', 'key', b('12345678'), 0); // 3 + 8
    store.set('a', 'key', b('v'), 0); // shrinks by 4
    const stats = store.stats();
    expect([stats.keys, stats.bytes]).toEqual([3, 4 + 3 + 11]);
    expect(stats.byVmId).toEqual(
      new Map([
        ['a', { keys: 2, bytes: 7, droppedWrites: 0 }],
        ['b', { keys: 1, bytes: 11, droppedWrites: 0 }],
      ]),
    );
  });

  it('a refused CAS write changes no statistic', () => {
    const store = new SharedDataStore();
    store.set('a', 'k', b('v'), 0);
    store.set('a', 'k', b('much longer value'), 77);
    expect(store.stats()).toMatchObject({ keys: 1, bytes: 2, droppedWrites: 0 });
  });
});

describe('the size cap', () => {
  it('accepts writes up to the cap exactly', () => {
    const store = new SharedDataStore({ maxBytes: 10 });
    expect(store.set('vm', 'k1', b('12345678'), 0)).toBe(Status.OK); // 10 bytes
    expect(store.stats()).toMatchObject({ bytes: 10, droppedWrites: 0 });
    expect(read(store, 'vm', 'k1')?.value).toBe('12345678');
  });

  it('a write that would grow the store past the cap answers OK, stores nothing and counts the drop', () => {
    const store = new SharedDataStore({ maxBytes: 10 });
    store.set('vm', 'k1', b('1234'), 0); // 6 bytes, cas 1
    expect(store.set('vm', 'k2', b('12345'), 0)).toBe(Status.OK); // would be 13
    expect(store.get('vm', 'k2')).toBeUndefined();
    expect(store.set('vm', 'k1', b('123456789'), 1)).toBe(Status.OK); // would be 11
    expect(read(store, 'vm', 'k1')).toEqual({ value: '1234', cas: 1 });
    expect(store.stats()).toMatchObject({ keys: 1, bytes: 6, droppedWrites: 2 });
    // The dropped writes took no CAS.
    store.set('vm', 'k1', b('x'), 0);
    expect(store.get('vm', 'k1')!.cas).toBe(2);
  });

  it('a full store still takes writes that keep or shrink the size, so counters keep working', () => {
    const store = new SharedDataStore({ maxBytes: 10 });
    store.set('vm', 'counter', b('007'), 0); // 10 bytes: full
    expect(store.set('vm', 'counter', b('008'), 1)).toBe(Status.OK);
    expect(read(store, 'vm', 'counter')).toEqual({ value: '008', cas: 2 });
    expect(store.set('vm', 'counter', b(''), 2)).toBe(Status.OK);
    expect(store.stats().bytes).toBe(7);
    expect(store.stats().droppedWrites).toBe(0);
  });

  it('the cap covers every namespace together; drops are counted per vm_id too', () => {
    const store = new SharedDataStore({ maxBytes: 10 });
    store.set('a', 'k', b('123456'), 0); // 7
    store.set('b', 'k', b('123'), 0); // 4 → 11: dropped
    expect(store.get('b', 'k')).toBeUndefined();
    expect(store.stats()).toMatchObject({ keys: 1, bytes: 7, droppedWrites: 1 });
    expect(store.stats().byVmId.get('a')).toEqual({ keys: 1, bytes: 7, droppedWrites: 0 });
    expect(store.stats().byVmId.get('b')).toEqual({ keys: 0, bytes: 0, droppedWrites: 1 });
  });

  it('CAS_MISMATCH wins over the cap (a stale write is reported as stale)', () => {
    const store = new SharedDataStore({ maxBytes: 4 });
    store.set('vm', 'k', b('v'), 0);
    store.set('vm', 'k', b('w'), 0);
    expect(store.set('vm', 'k', b('too long'), 1)).toBe(Status.CAS_MISMATCH);
    expect(store.stats().droppedWrites).toBe(0);
  });

  it('warns on a dropped write, at most once per 10 s, with the number suppressed meanwhile', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { logger, lines } = memoryLogger();
    const store = new SharedDataStore({ maxBytes: 4, logger });
    store.set('vm', 'big', b('too big'), 0);
    store.set('vm', 'big', b('too big'), 0);
    store.set('vm', 'big', b('too big'), 0);
    expect(lines.map((l) => l.msg)).toEqual(['shared data is full: write dropped (the filter was told OK)']);
    expect(lines[0]).toMatchObject({ level: 40, vm_id: 'vm', key: 'big', bytes: 10, used_bytes: 0, max_bytes: 4, dropped_writes: 1, suppressed: 0 });
    vi.advanceTimersByTime(10_000);
    store.set('vm', 'big', b('too big'), 0);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ dropped_writes: 4, suppressed: 2 });
  });

  it('warns through the caller’s logger when one is given', () => {
    const own = memoryLogger();
    const caller = memoryLogger();
    const store = new SharedDataStore({ maxBytes: 1, logger: own.logger });
    store.set('vm', 'k', b('v'), 0, caller.logger);
    expect(own.lines).toEqual([]);
    expect(caller.lines.map((l) => l.msg)).toEqual(['shared data is full: write dropped (the filter was told OK)']);
  });

  it('defaults to 64 MiB', () => {
    expect(DEFAULT_SHARED_DATA_MAX_BYTES).toBe(64 * 1024 * 1024);
    const store = new SharedDataStore();
    expect(store.set('vm', 'k', Buffer.alloc(64 * 1024 * 1024 - 1), 0)).toBe(Status.OK);
    expect(store.set('vm', 'k2', b('xy'), 0)).toBe(Status.OK);
    expect(store.get('vm', 'k2')).toBeUndefined();
    expect(store.stats()).toMatchObject({ bytes: 64 * 1024 * 1024, droppedWrites: 1 });
  });
});
