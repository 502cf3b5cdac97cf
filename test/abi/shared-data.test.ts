// proxy_get_shared_data / proxy_set_shared_data through a real module: the Go SDK `shared_data`
// pattern (get → increment → set with CAS, retry on CAS_MISMATCH), sharing across VMs by vm_id,
// the full-store answer, and bad pointers (reference §4.11, §7.10).

import { describe, expect, it } from 'vitest';
import { SharedDataStore } from '../../src/abi/shared-data.ts';
import { Status } from '../../src/abi/types.ts';
import { CallServices, compileFixture, harnessFor, MemoryHost, OUT_PTR, OUT_SIZE, OUT_U32, SCRATCH, type Harness } from './helpers.ts';

const KEY = 'shared_data_key';
const END = 2 * 65536; // the fixture's memory size
const VALUE_AT = SCRATCH + 0x100;

const fixture = compileFixture('abi-shared-data');

async function setup(options: { vmId?: string; services?: CallServices } = {}): Promise<Harness> {
  return harnessFor(await fixture, { config: { vmId: options.vmId ?? 'vm' }, services: options.services ?? new CallServices() });
}

/** Runs proxy_on_request_headers on a fresh stream context, the way a request would. */
function request(h: Harness): void {
  const { ctx } = h.stream(new MemoryHost());
  expect(h.call('proxy_on_request_headers', ctx, ctx.id, 0, 1)).toBe(0);
}

function counter(services: CallServices, vmId = 'vm'): bigint | undefined {
  return services.sharedData.get(vmId, KEY)?.value.readBigUInt64LE(0);
}

function set(h: Harness, key: string, value: string, cas: number): number {
  const [kp, kl] = h.mem.write(SCRATCH, key);
  const [vp, vl] = h.mem.write(VALUE_AT, value);
  return h.call('set', h.plugin.root, kp, kl, vp, vl, cas);
}

function get(h: Harness, key: string): { status: number; value: string; cas: number } {
  const [kp, kl] = h.mem.write(SCRATCH, key);
  h.mem.poisonOut();
  const status = h.call('get', h.plugin.root, kp, kl, OUT_PTR, OUT_SIZE, OUT_U32);
  return { status, value: status === Status.OK ? h.mem.outString() : '', cas: h.mem.u32(OUT_U32) };
}

/** A store where "another worker" completes a write between the guest's get and set, `times` times. */
class ContendedStore extends SharedDataStore {
  interfere = 0;
  override set(vmId: string, key: string, value: Buffer, cas: number, logger?: Parameters<SharedDataStore['set']>[4]): Status {
    if (this.interfere > 0 && cas !== 0) {
      this.interfere--;
      const current = this.get(vmId, key)!.value.readBigUInt64LE(0);
      const theirs = Buffer.alloc(8);
      theirs.writeBigUInt64LE(current + 100n);
      super.set(vmId, key, theirs, 0);
    }
    return super.set(vmId, key, value, cas, logger);
  }
}

class ContendedServices extends CallServices {
  override readonly sharedData = new ContendedStore();
}

function servicesWith(store: SharedDataStore): CallServices {
  return new (class extends CallServices {
    override readonly sharedData = store;
  })();
}

describe('the Go SDK shared_data pattern', () => {
  it('counts 10 stream contexts to 10', async () => {
    const h = await setup();
    for (let i = 0; i < 10; i++) request(h);
    expect(counter(h.services)).toBe(10n);
    expect(h.guestLogs()).toEqual(Array.from({ length: 10 }, (_, i) => `shared value: ${i + 1}`));
    // The first get finds nothing (NOT_FOUND), every later one finds the counter; every set is OK.
    expect(h.mem.trace(2)).toEqual([[Status.NOT_FOUND, Status.OK], ...Array.from({ length: 9 }, () => [Status.OK, Status.OK])]);
    expect(h.services.sharedData.get('vm', KEY)!.cas).toBe(10);
  });

  it('retries after CAS_MISMATCH when another writer got in between, losing no increment', async () => {
    const services = new ContendedServices();
    const h = await setup({ services });
    request(h);
    request(h);
    services.sharedData.interfere = 1;
    request(h);
    // The other writer turned 2 into 102; the guest's set with the old CAS was refused, it read
    // again and wrote 103.
    expect(counter(services)).toBe(103n);
    expect(h.guestLogs()).toEqual(['shared value: 1', 'shared value: 2', 'shared value: 103']);
    expect(h.mem.trace(2).slice(2)).toEqual([
      [Status.OK, Status.CAS_MISMATCH],
      [Status.OK, Status.OK],
    ]);
  });

  it('shares the counter between VMs with the same vm_id, and only between them', async () => {
    const services = new CallServices();
    const one = await setup({ services });
    const two = await setup({ services });
    const elsewhere = await setup({ services, vmId: 'other' });
    request(one);
    request(two);
    request(one);
    request(elsewhere);
    expect(counter(services, 'vm')).toBe(3n);
    expect(counter(services, 'other')).toBe(1n);
    expect(two.guestLogs()).toEqual(['shared value: 2']);
    expect(elsewhere.guestLogs()).toEqual(['shared value: 1']);
  });
});

describe('get and set from a guest', () => {
  it('set then get returns the value and the CAS', async () => {
    const h = await setup();
    expect(set(h, 'k', 'hello', 0)).toBe(Status.OK);
    expect(get(h, 'k')).toEqual({ status: Status.OK, value: 'hello', cas: 1 });
    expect(set(h, 'k', 'again', 1)).toBe(Status.OK);
    expect(get(h, 'k')).toEqual({ status: Status.OK, value: 'again', cas: 2 });
  });

  it('a stale CAS is CAS_MISMATCH; a non-zero CAS on a new key creates it', async () => {
    const h = await setup();
    set(h, 'k', 'v1', 0);
    set(h, 'k', 'v2', 0);
    expect(set(h, 'k', 'lost', 1)).toBe(Status.CAS_MISMATCH);
    expect(get(h, 'k')).toMatchObject({ value: 'v2', cas: 2 });
    expect(set(h, 'fresh', 'made', 42)).toBe(Status.OK);
    expect(get(h, 'fresh')).toEqual({ status: Status.OK, value: 'made', cas: 3 });
  });

  it('passes a CAS above 2^31 (negative as i32) through as u32', async () => {
    const h = await setup({ services: servicesWith(new SharedDataStore({ firstCas: 0x80000001 })) });
    set(h, 'k', 'v1', 0);
    expect(get(h, 'k').cas).toBe(0x80000001);
    expect(set(h, 'k', 'v2', 0x80000001)).toBe(Status.OK);
    expect(get(h, 'k')).toEqual({ status: Status.OK, value: 'v2', cas: 0x80000002 });
  });

  it('a missing key is NOT_FOUND and leaves the out slots alone', async () => {
    const h = await setup();
    expect(get(h, 'missing').status).toBe(Status.NOT_FOUND);
    expect([h.mem.u32(OUT_PTR), h.mem.u32(OUT_SIZE), h.mem.u32(OUT_U32)]).toEqual([0xdeadbeef, 0xdeadbeef, 0xdeadbeef]);
    expect(h.mem.allocations()).toBe(0);
  });

  it('an empty value reads back as (0, 0) with its CAS, without calling the allocator', async () => {
    const h = await setup();
    set(h, 'k', 'value', 0);
    expect(set(h, 'k', '', 1)).toBe(Status.OK);
    const before = h.mem.allocations();
    expect(get(h, 'k')).toEqual({ status: Status.OK, value: '', cas: 2 });
    expect(h.mem.out()).toEqual([0, 0]);
    expect(h.mem.allocations()).toBe(before);
  });

  it('the store keeps its own copy: later guest writes to the source bytes change nothing', async () => {
    const h = await setup();
    set(h, 'k', 'original', 0);
    h.mem.write(VALUE_AT, 'XXXXXXXX');
    expect(get(h, 'k').value).toBe('original');
  });

  it('works from stream contexts and root contexts alike', async () => {
    const h = await setup();
    const { ctx } = h.stream(new MemoryHost());
    const [kp, kl] = h.mem.write(SCRATCH, 'k');
    const [vp, vl] = h.mem.write(VALUE_AT, 'from stream');
    expect(h.call('set', ctx, kp, kl, vp, vl, 0)).toBe(Status.OK);
    expect(get(h, 'k').value).toBe('from stream');
  });

  it('a write over the size cap answers OK, is dropped, and warns naming the filter', async () => {
    const h = await setup({ services: servicesWith(new SharedDataStore({ maxBytes: 8 })) });
    expect(set(h, 'k', '1234', 0)).toBe(Status.OK);
    expect(set(h, 'k', '12345678', 1)).toBe(Status.OK);
    expect(get(h, 'k')).toEqual({ status: Status.OK, value: '1234', cas: 1 });
    const warning = h.lines.find((l) => l.msg === 'shared data is full: write dropped (the filter was told OK)');
    expect(warning).toMatchObject({ level: 40, plugin: 'test-filter', vm_id: 'vm', key: 'k', bytes: 9, max_bytes: 8 });
    expect(h.vm.failure).toBeNull();
  });

  it('before any plugin exists (VM start-up) get is NOT_FOUND and set BAD_ARGUMENT', async () => {
    const h = harnessFor(await fixture, { start: false });
    const [kp, kl] = h.mem.write(SCRATCH, 'k');
    expect(h.call('set', null, kp, kl, kp, kl, 0)).toBe(Status.BAD_ARGUMENT);
    expect(h.call('get', null, kp, kl, OUT_PTR, OUT_SIZE, OUT_U32)).toBe(Status.NOT_FOUND);
    expect(h.services.sharedData.stats().keys).toBe(0);
  });
});

describe('bad pointers answer INVALID_MEMORY_ACCESS (6)', () => {
  const BAD_RANGES: Array<[string, number, number]> = [
    ['past the end', END, 1],
    ['straddling the end', END - 1, 2],
    ['at 0xFFFFFFFF', 0xffffffff, 1],
    ['wrapping past 2^32', 16, 0xfffffff8],
  ];
  const BAD_SLOTS: Array<[string, number]> = [
    ['past the end', END],
    ['straddling the end', END - 2],
    ['at 0xFFFFFFFC', 0xfffffffc],
  ];

  it.each(BAD_RANGES)('set with a key %s writes nothing', async (_label, ptr, len) => {
    const h = await setup();
    const [vp, vl] = h.mem.write(VALUE_AT, 'v');
    expect(h.call('set', h.plugin.root, ptr, len, vp, vl, 0)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(h.services.sharedData.stats().keys).toBe(0);
  });

  it.each(BAD_RANGES)('set with a value %s writes nothing', async (_label, ptr, len) => {
    const h = await setup();
    const [kp, kl] = h.mem.write(SCRATCH, 'k');
    expect(h.call('set', h.plugin.root, kp, kl, ptr, len, 0)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(h.services.sharedData.get('vm', 'k')).toBeUndefined();
  });

  it.each(BAD_RANGES)('get with a key %s', async (_label, ptr, len) => {
    const h = await setup();
    expect(h.call('get', h.plugin.root, ptr, len, OUT_PTR, OUT_SIZE, OUT_U32)).toBe(Status.INVALID_MEMORY_ACCESS);
  });

  it.each(BAD_SLOTS)('get with an out slot %s allocates nothing', async (_label, bad) => {
    const h = await setup();
    set(h, 'k', 'value', 0);
    const [kp, kl] = h.mem.write(SCRATCH, 'k');
    for (const slots of [
      [bad, OUT_SIZE, OUT_U32],
      [OUT_PTR, bad, OUT_U32],
      [OUT_PTR, OUT_SIZE, bad],
    ]) {
      expect(h.call('get', h.plugin.root, kp, kl, slots[0]!, slots[1]!, slots[2]!)).toBe(Status.INVALID_MEMORY_ACCESS);
    }
    expect(h.mem.allocations()).toBe(0);
    expect(h.vm.failure).toBeNull();
  });
});
