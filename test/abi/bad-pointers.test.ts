// Out-of-bounds guest pointers: every host function answers INVALID_MEMORY_ACCESS (6) instead of
// throwing, including pointers near 2^32 (negative as i32) and ptr+len overflowing 32 bits
// (reference §2.1, §2.2, §2.6).

import { describe, expect, it } from 'vitest';
import { BufferType, MapType, Status } from '../../src/abi/types.ts';
import { harness, MemoryHost, pairsBytes, SCRATCH, type Harness } from './helpers.ts';

const PAGE = 65536;
const END = 2 * PAGE; // the fixture's memory size

/** (ptr, len) ranges that do not fit in memory. */
const BAD_RANGES: Array<[string, number, number]> = [
  ['starting at the end', END, 1],
  ['straddling the end', END - 1, 2],
  ['at 0xFFFFFFFF (-1 as i32)', 0xffffffff, 1],
  ['at 0x80000000 (negative as i32)', 0x80000000, 4],
  ['whose ptr+len wraps past 2^32', 16, 0xfffffff8],
  ['longer than memory', 0, END + 1],
];

/** Out pointers (u32 slots) that cannot take a 4-byte write. */
const BAD_OUT: Array<[string, number]> = [
  ['past the end', END],
  ['straddling the end', END - 2],
  ['at 0xFFFFFFFC', 0xfffffffc],
  ['at 0x80000000', 0x80000000],
];

async function setup(): Promise<{ h: Harness; ctx: { id: number }; host: MemoryHost }> {
  const h = await harness('abi-bad-pointers');
  const host = new MemoryHost()
    .withHeaders(MapType.HTTP_REQUEST_HEADERS, [['x-a', 'value']])
    .withBody(BufferType.HTTP_REQUEST_BODY, 'body');
  host.properties.set('known', Buffer.from('v'));
  const { ctx } = h.stream(host);
  return { h, ctx, host };
}

function expectNoDamage(h: Harness, host: MemoryHost): void {
  expect(h.vm.failure).toBeNull();
  expect(h.mem.allocations()).toBe(0);
  expect(host.maps.get(MapType.HTTP_REQUEST_HEADERS)!.pairs()).toEqual([['x-a', 'value']]);
  expect(host.bodies.get(BufferType.HTTP_REQUEST_BODY)!.bytes().toString()).toBe('body');
  expect(host.events).toEqual([]);
}

describe.each(BAD_RANGES)('an input range %s', (_label, ptr, len) => {
  it('proxy_log → INVALID_MEMORY_ACCESS, nothing logged', async () => {
    const { h, ctx, host } = await setup();
    expect(h.call('log', ctx, ptr, len)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(h.guestLogs()).toEqual([]);
    expectNoDamage(h, host);
  });

  it('proxy_get_header_map_value key → INVALID_MEMORY_ACCESS', async () => {
    const { h, ctx, host } = await setup();
    expect(h.call('get_value_key', ctx, ptr, len)).toBe(Status.INVALID_MEMORY_ACCESS);
    expectNoDamage(h, host);
  });

  it('proxy_add_header_map_value key or value → INVALID_MEMORY_ACCESS', async () => {
    const { h, ctx, host } = await setup();
    const [k, kl] = h.mem.write(SCRATCH, 'k');
    expect(h.call('add_value', ctx, ptr, len, k, kl)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(h.call('add_value', ctx, k, kl, ptr, len)).toBe(Status.INVALID_MEMORY_ACCESS);
    expectNoDamage(h, host);
  });

  it('proxy_set_header_map_pairs → INVALID_MEMORY_ACCESS', async () => {
    const { h, ctx, host } = await setup();
    expect(h.call('set_pairs', ctx, ptr, len)).toBe(Status.INVALID_MEMORY_ACCESS);
    expectNoDamage(h, host);
  });

  it('proxy_set_buffer_bytes data → INVALID_MEMORY_ACCESS', async () => {
    const { h, ctx, host } = await setup();
    expect(h.call('set_body', ctx, ptr, len)).toBe(Status.INVALID_MEMORY_ACCESS);
    expectNoDamage(h, host);
  });

  it('proxy_get_property path and proxy_set_property path/value → INVALID_MEMORY_ACCESS', async () => {
    const { h, ctx, host } = await setup();
    expect(h.call('get_property', ctx, ptr, len, 0x00, 0x04)).toBe(Status.INVALID_MEMORY_ACCESS);
    const [p, pl] = h.mem.write(SCRATCH, 'known');
    expect(h.call('set_property', ctx, ptr, len, p, pl)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(h.call('set_property', ctx, p, pl, ptr, len)).toBe(Status.INVALID_MEMORY_ACCESS);
    expectNoDamage(h, host);
  });

  it('proxy_http_call headers → INVALID_MEMORY_ACCESS, nothing dispatched', async () => {
    const { h, ctx, host } = await setup();
    expect(h.call('http_call', ctx, ptr, len, 0x08)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(h.services.requests).toEqual([]);
    expectNoDamage(h, host);
  });

  it('proxy_send_local_response body or headers → INVALID_MEMORY_ACCESS, no reply', async () => {
    const { h, ctx, host } = await setup();
    expect(h.call('send_local_response', ctx, ptr, len, 0, 0)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(h.call('send_local_response', ctx, 0, 0, ptr, len)).toBe(Status.INVALID_MEMORY_ACCESS);
    expectNoDamage(h, host);
  });
});

describe.each(BAD_OUT)('an out pointer %s', (_label, out) => {
  it('proxy_get_header_map_value (either out slot) → INVALID_MEMORY_ACCESS before allocating', async () => {
    const { h, ctx, host } = await setup();
    expect(h.call('get_value_out', ctx, out, 0x04)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(h.call('get_value_out', ctx, 0x00, out)).toBe(Status.INVALID_MEMORY_ACCESS);
    expectNoDamage(h, host);
  });

  it('proxy_get_header_map_pairs and proxy_get_header_map_size → INVALID_MEMORY_ACCESS', async () => {
    const { h, ctx, host } = await setup();
    expect(h.call('get_pairs_out', ctx, out, 0x04)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(h.call('get_pairs_out', ctx, 0x00, out)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(h.call('get_size_out', ctx, out)).toBe(Status.INVALID_MEMORY_ACCESS);
    expectNoDamage(h, host);
  });

  it('proxy_get_buffer_bytes and proxy_get_buffer_status → INVALID_MEMORY_ACCESS', async () => {
    const { h, ctx, host } = await setup();
    expect(h.call('get_body_out', ctx, out, 0x04)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(h.call('get_body_out', ctx, 0x00, out)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(h.call('body_status_out', ctx, out, 0x0c)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(h.call('body_status_out', ctx, 0x08, out)).toBe(Status.INVALID_MEMORY_ACCESS);
    expectNoDamage(h, host);
  });

  it('proxy_get_property → INVALID_MEMORY_ACCESS', async () => {
    const { h, ctx, host } = await setup();
    const [p, pl] = h.mem.write(SCRATCH, 'known');
    expect(h.call('get_property', ctx, p, pl, out, 0x04)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(h.call('get_property', ctx, p, pl, 0x00, out)).toBe(Status.INVALID_MEMORY_ACCESS);
    expectNoDamage(h, host);
  });

  it('proxy_http_call token pointer → INVALID_MEMORY_ACCESS, nothing dispatched', async () => {
    const { h, ctx, host } = await setup();
    const [hp, hl] = h.mem.write(0x200, pairsBytes([[':method', 'GET'], [':path', '/'], [':authority', 'svc']]));
    expect(h.call('http_call', ctx, hp, hl, out)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(h.services.requests).toEqual([]);
    expectNoDamage(h, host);
  });

  it('proxy_get_current_time_nanoseconds, proxy_get_log_level, proxy_get_status → INVALID_MEMORY_ACCESS', async () => {
    const { h, ctx, host } = await setup();
    expect(h.call('now', ctx, out)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(h.call('get_log_level', ctx, out)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(h.call('get_status', ctx, out, 0x00, 0x04)).toBe(Status.INVALID_MEMORY_ACCESS);
    expectNoDamage(h, host);
  });
});

describe('bounds are exact', () => {
  it('the u64 time slot needs 8 bytes: END-8 is fine, END-4 is not', async () => {
    const { h, ctx } = await setup();
    expect(h.call('now', ctx, END - 8)).toBe(Status.OK);
    expect(h.mem.u64(END - 8)).toBeGreaterThan(0n);
    expect(h.call('now', ctx, END - 4)).toBe(Status.INVALID_MEMORY_ACCESS);
  });

  it('a key ending exactly at the end of memory is in bounds, and (END, 0) is an empty range', async () => {
    const { h, ctx } = await setup();
    h.mem.write(END - 3, 'x-a');
    expect(h.call('get_value_key', ctx, END - 3, 3)).toBe(Status.OK);
    expect(h.mem.outString()).toBe('value');
    expect(h.call('log', ctx, END, 0)).toBe(Status.OK);
    expect(h.guestLogs()).toEqual(['']);
  });
});
