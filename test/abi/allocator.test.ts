// The guest allocator: which export is used, zero-length values never allocate, and allocator
// failures reach the guest as INVALID_MEMORY_ACCESS (reference §2.3, §2.4, §10 items 1 and 8).

import { describe, expect, it } from 'vitest';
import { GuestTrap } from '../../src/abi/errors.ts';
import { BufferType, MapType, Status } from '../../src/abi/types.ts';
import { harness, MemoryHost, SCRATCH } from './helpers.ts';

const VM_CONFIG = 'the vm configuration';

describe('allocator choice', () => {
  it('prefers proxy_on_memory_allocate over malloc when both are exported', async () => {
    const h = await harness('abi-alloc-both', { config: { vmConfiguration: VM_CONFIG } });
    h.mem.poisonOut();
    expect(h.call('get_vm_config', h.plugin.root)).toBe(Status.OK);
    const [ptr, size] = h.mem.out();
    expect(ptr).toBe(0x10000); // proxy_on_memory_allocate's region
    expect(size).toBe(VM_CONFIG.length);
    expect(h.mem.outString()).toBe(VM_CONFIG);
    expect([h.mem.allocations(), h.mem.mallocs()]).toEqual([1, 0]);
  });

  it('uses malloc when it is the only allocator', async () => {
    const h = await harness('abi-alloc-malloc', { config: { vmConfiguration: VM_CONFIG } });
    expect(h.call('get_vm_config', h.plugin.root)).toBe(Status.OK);
    expect(h.mem.out()).toEqual([0x20000, VM_CONFIG.length]);
    expect(h.mem.outString()).toBe(VM_CONFIG);
    expect(h.mem.mallocs()).toBe(1);
  });

  it('re-reads memory after an allocator that grew it', async () => {
    const config = 'g'.repeat(70_000); // needs a second page of its own
    const h = await harness('abi-alloc-grow', { config: { vmConfiguration: config } });
    const before = h.mem.size;
    expect(h.call('get_vm_config', h.plugin.root)).toBe(Status.OK);
    const [ptr, size] = h.mem.out();
    expect(ptr).toBe(before);
    expect(size).toBe(config.length);
    expect(h.mem.size).toBe(before + 2 * 65536);
    expect(h.mem.outString()).toBe(config);
  });
});

describe('zero-length values', () => {
  async function setup() {
    const h = await harness('abi-alloc-both');
    const host = new MemoryHost()
      .withHeaders(MapType.HTTP_REQUEST_HEADERS, [['x-empty', '']])
      .withHeaders(MapType.HTTP_RESPONSE_HEADERS, [])
      .withBody(BufferType.HTTP_REQUEST_BODY, '');
    host.properties.set('empty_prop', Buffer.alloc(0));
    const { ctx } = h.stream(host);
    return { h, ctx };
  }

  it('an empty header value is OK (0,0) without calling the allocator', async () => {
    const { h, ctx } = await setup();
    const [k, kl] = h.mem.write(SCRATCH, 'x-empty');
    h.mem.poisonOut();
    expect(h.call('get_value', ctx, MapType.HTTP_REQUEST_HEADERS, k, kl)).toBe(Status.OK);
    expect(h.mem.out()).toEqual([0, 0]);
    expect([h.mem.allocations(), h.mem.mallocs()]).toEqual([0, 0]);
  });

  it('an empty body read with get_buffer_bytes is OK (0,0) without calling the allocator', async () => {
    const { h, ctx } = await setup();
    h.mem.poisonOut();
    expect(h.call('get_body', ctx, BufferType.HTTP_REQUEST_BODY)).toBe(Status.OK);
    expect(h.mem.out()).toEqual([0, 0]);
    expect([h.mem.allocations(), h.mem.mallocs()]).toEqual([0, 0]);
  });

  it('empty pairs (empty or unavailable map) are OK (0,0) without calling the allocator', async () => {
    const { h, ctx } = await setup();
    for (const type of [MapType.HTTP_RESPONSE_HEADERS, MapType.HTTP_REQUEST_TRAILERS]) {
      h.mem.poisonOut();
      expect(h.call('get_pairs', ctx, type)).toBe(Status.OK);
      expect(h.mem.out()).toEqual([0, 0]);
    }
    expect([h.mem.allocations(), h.mem.mallocs()]).toEqual([0, 0]);
  });

  it('an empty property value and an empty VM configuration are OK (0,0)', async () => {
    const { h, ctx } = await setup();
    const [p, pl] = h.mem.write(SCRATCH, 'empty_prop');
    h.mem.poisonOut();
    expect(h.call('get_property', ctx, p, pl)).toBe(Status.OK);
    expect(h.mem.out()).toEqual([0, 0]);
    h.mem.poisonOut();
    expect(h.call('get_vm_config', ctx)).toBe(Status.OK);
    expect(h.mem.out()).toEqual([0, 0]);
    expect([h.mem.allocations(), h.mem.mallocs()]).toEqual([0, 0]);
  });
});

describe('allocator failures', () => {
  it('an allocator returning 0 yields INVALID_MEMORY_ACCESS to the guest, not a host exception', async () => {
    const h = await harness('abi-alloc-failing', { config: { vmConfiguration: VM_CONFIG } });
    h.mem.setU32(0x48, 0);
    expect(h.call('get_vm_config', h.plugin.root)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(h.mem.allocations()).toBe(1);
    expect(h.vm.failure).toBeNull();
  });

  it('an allocator returning an out-of-bounds address yields INVALID_MEMORY_ACCESS', async () => {
    const h = await harness('abi-alloc-failing', { config: { vmConfiguration: VM_CONFIG } });
    for (const bogus of [h.mem.size, h.mem.size - 4, 0xfffffff0]) {
      h.mem.setU32(0x48, bogus);
      expect(h.call('get_vm_config', h.plugin.root)).toBe(Status.INVALID_MEMORY_ACCESS);
    }
    expect(h.vm.failure).toBeNull();
  });

  it('no allocator export at all yields INVALID_MEMORY_ACCESS for non-empty values', async () => {
    const h = await harness('abi-alloc-none', { config: { vmConfiguration: VM_CONFIG } });
    expect(h.call('get_vm_config', h.plugin.root)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(h.vm.failure).toBeNull();
  });

  it('an allocator that traps fails the VM with a GuestTrap for the outer callback', async () => {
    const h = await harness('abi-alloc-failing', { config: { vmConfiguration: VM_CONFIG } });
    h.mem.setU32(0x4c, 1);
    expect(() => h.call('get_vm_config', h.plugin.root)).toThrow(GuestTrap);
    expect(h.vm.failure).toBeInstanceOf(GuestTrap);
    expect(h.vm.failure!.callback).toBe('get_vm_config');
    expect(h.vm.failure!.message).toContain('unreachable');
  });
});
