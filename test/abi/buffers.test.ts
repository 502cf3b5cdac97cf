// Buffer host functions: get_buffer_bytes range semantics, set_buffer_bytes splice patterns,
// configuration buffers, type checks, and ABI 0.1.0's proxy_get_configuration (reference §4.3, §4.5).

import { describe, expect, it } from 'vitest';
import { BufferType, Status } from '../../src/abi/types.ts';
import { harness, MemoryHost, SCRATCH, type Harness } from './helpers.ts';

const REQ_BODY = BufferType.HTTP_REQUEST_BODY;
const RESP_BODY = BufferType.HTTP_RESPONSE_BODY;
const I32_MAX = 0x7fffffff;
const U32_MAX = 0xffffffff;

async function setup(body = 'hello world') {
  const h = await harness('abi-buffers', { config: { vmConfiguration: 'vm-config', configuration: 'plugin-config' } });
  const { ctx, host } = h.stream(new MemoryHost().withBody(REQ_BODY, body));
  return { h, ctx, host };
}

function read(h: Harness, ctx: { id: number }, type: number, start: number, max: number): { status: number; text: string; out: [number, number] } {
  h.mem.poisonOut();
  const status = h.call('get_bytes', ctx, type, start, max);
  const out = h.mem.out();
  return { status, text: status === Status.OK ? h.mem.outString() : '', out };
}

function write(h: Harness, ctx: { id: number }, type: number, start: number, size: number, data: string): number {
  const [ptr, len] = h.mem.write(SCRATCH, data);
  return h.call('set_bytes', ctx, type, start, size, ptr, len);
}

describe('proxy_get_buffer_bytes', () => {
  it('reads the whole body with max = i32::MAX or u32::MAX', async () => {
    const { h, ctx } = await setup();
    expect(read(h, ctx, REQ_BODY, 0, I32_MAX)).toMatchObject({ status: Status.OK, text: 'hello world' });
    expect(read(h, ctx, REQ_BODY, 0, U32_MAX)).toMatchObject({ status: Status.OK, text: 'hello world' });
  });

  it('reads [start, start+max) and clamps max to what is left', async () => {
    const { h, ctx } = await setup();
    expect(read(h, ctx, REQ_BODY, 6, 3).text).toBe('wor');
    expect(read(h, ctx, REQ_BODY, 6, 100).text).toBe('world');
    expect(read(h, ctx, REQ_BODY, 10, 1).text).toBe('d');
  });

  it('answers OK with (0,0) when start is at or past the end, or max is 0', async () => {
    const { h, ctx } = await setup();
    const before = h.mem.allocations(); // start-up read the configurations
    expect(read(h, ctx, REQ_BODY, 11, 5)).toMatchObject({ status: Status.OK, out: [0, 0] });
    expect(read(h, ctx, REQ_BODY, 1000, 5)).toMatchObject({ status: Status.OK, out: [0, 0] });
    expect(read(h, ctx, REQ_BODY, U32_MAX, U32_MAX)).toMatchObject({ status: Status.OK, out: [0, 0] });
    expect(read(h, ctx, REQ_BODY, 0, 0)).toMatchObject({ status: Status.OK, out: [0, 0] });
    expect(h.mem.allocations()).toBe(before);
  });

  it('answers NOT_FOUND for a buffer the context does not have', async () => {
    const { h, ctx } = await setup();
    expect(read(h, ctx, RESP_BODY, 0, I32_MAX).status).toBe(Status.NOT_FOUND);
    expect(read(h, ctx, BufferType.HTTP_CALL_RESPONSE_BODY, 0, I32_MAX).status).toBe(Status.NOT_FOUND);
    expect(read(h, ctx, BufferType.GRPC_CALL_MESSAGE, 0, I32_MAX).status).toBe(Status.NOT_FOUND);
    expect(read(h, ctx, BufferType.FOREIGN_FUNCTION_ARGUMENTS, 0, I32_MAX).status).toBe(Status.NOT_FOUND);
    expect(read(h, ctx, BufferType.DOWNSTREAM_DATA, 0, I32_MAX).status).toBe(Status.NOT_FOUND);
    // A root context has no stream, hence no bodies.
    expect(read(h, h.plugin.root, REQ_BODY, 0, I32_MAX).status).toBe(Status.NOT_FOUND);
  });

  it('answers BAD_ARGUMENT for buffer types above 8', async () => {
    const { h, ctx } = await setup();
    expect(read(h, ctx, 9, 0, I32_MAX).status).toBe(Status.BAD_ARGUMENT);
    expect(read(h, ctx, -1, 0, I32_MAX).status).toBe(Status.BAD_ARGUMENT);
  });

  it('reads the VM configuration (6) from any context', async () => {
    const { h, ctx } = await setup();
    expect(read(h, ctx, BufferType.VM_CONFIGURATION, 0, I32_MAX)).toMatchObject({ status: Status.OK, text: 'vm-config' });
    expect(read(h, h.plugin.root, BufferType.VM_CONFIGURATION, 3, 3)).toMatchObject({ status: Status.OK, text: 'con' });
  });
});

describe('configuration buffers during start-up', () => {
  it('on_vm_start reads the VM configuration and on_configure the plugin configuration', async () => {
    const { h } = await setup();
    // Trace: get_buffer_bytes status in on_vm_start (buffer 6), then on_configure (buffer 7).
    expect(h.mem.trace()).toEqual([[Status.OK], [Status.OK]]);
    expect(h.guestLogs()).toEqual(['vm-config', 'plugin-config']);
  });

  it('an empty configuration reads as OK (0,0) without calling the allocator', async () => {
    const h = await harness('abi-buffers');
    expect(h.mem.trace()).toEqual([[Status.OK], [Status.OK]]);
    expect(h.guestLogs()).toEqual(['', '']);
    expect(h.mem.allocations()).toBe(0);
  });
});

describe('proxy_set_buffer_bytes', () => {
  it('(0, 0) prepends', async () => {
    const { h, ctx, host } = await setup();
    expect(write(h, ctx, REQ_BODY, 0, 0, '>> ')).toBe(Status.OK);
    expect(host.bodies.get(REQ_BODY)!.bytes().toString()).toBe('>> hello world');
  });

  it('start at or past the end with size 0 appends (Go SDK uses start = i32::MAX)', async () => {
    const { h, ctx, host } = await setup();
    expect(write(h, ctx, REQ_BODY, 11, 0, '!')).toBe(Status.OK);
    expect(write(h, ctx, REQ_BODY, I32_MAX, 0, '?')).toBe(Status.OK);
    expect(host.bodies.get(REQ_BODY)!.bytes().toString()).toBe('hello world!?');
  });

  it('(0, len) and (0, i32::MAX) replace everything', async () => {
    const { h, ctx, host } = await setup();
    expect(write(h, ctx, REQ_BODY, 0, 11, 'bye')).toBe(Status.OK);
    expect(host.bodies.get(REQ_BODY)!.bytes().toString()).toBe('bye');
    expect(write(h, ctx, REQ_BODY, 0, I32_MAX, 'replaced')).toBe(Status.OK);
    expect(host.bodies.get(REQ_BODY)!.bytes().toString()).toBe('replaced');
  });

  it('splices in the middle and replaces a prefix', async () => {
    const { h, ctx, host } = await setup();
    expect(write(h, ctx, REQ_BODY, 6, 5, 'there')).toBe(Status.OK);
    expect(host.bodies.get(REQ_BODY)!.bytes().toString()).toBe('hello there');
    expect(write(h, ctx, REQ_BODY, 0, 5, 'HOWDY')).toBe(Status.OK);
    expect(host.bodies.get(REQ_BODY)!.bytes().toString()).toBe('HOWDY there');
    expect(write(h, ctx, REQ_BODY, 5, 1, '')).toBe(Status.OK);
    expect(host.bodies.get(REQ_BODY)!.bytes().toString()).toBe('HOWDYthere');
    // The next read sees the edited body.
    expect(read(h, ctx, REQ_BODY, 0, I32_MAX).text).toBe('HOWDYthere');
  });

  it('with (0,0) data and size = len empties the body', async () => {
    const { h, ctx, host } = await setup();
    expect(h.call('set_bytes', ctx, REQ_BODY, 0, 11, 0, 0)).toBe(Status.OK);
    expect(host.bodies.get(REQ_BODY)!.length).toBe(0);
    expect(read(h, ctx, REQ_BODY, 0, I32_MAX)).toMatchObject({ status: Status.OK, out: [0, 0] });
  });

  it('configuration buffers are immutable: BAD_ARGUMENT and unchanged', async () => {
    const { h, ctx } = await setup();
    expect(write(h, ctx, BufferType.VM_CONFIGURATION, 0, 0, 'x')).toBe(Status.BAD_ARGUMENT);
    expect(write(h, h.plugin.root, BufferType.PLUGIN_CONFIGURATION, 0, I32_MAX, 'x')).toBe(Status.BAD_ARGUMENT);
    expect(read(h, ctx, BufferType.VM_CONFIGURATION, 0, I32_MAX).text).toBe('vm-config');
    expect(h.plugin.config.configuration.toString()).toBe('plugin-config');
  });

  it('answers BAD_ARGUMENT for types above 8 and NOT_FOUND for an absent buffer', async () => {
    const { h, ctx } = await setup();
    expect(write(h, ctx, 9, 0, 0, 'x')).toBe(Status.BAD_ARGUMENT);
    expect(write(h, ctx, RESP_BODY, 0, 0, 'x')).toBe(Status.NOT_FOUND);
    expect(write(h, ctx, BufferType.HTTP_CALL_RESPONSE_BODY, 0, 0, 'x')).toBe(Status.NOT_FOUND);
  });
});

describe('proxy_get_buffer_status', () => {
  it('writes the length and flags 0', async () => {
    const { h, ctx } = await setup();
    h.mem.poisonOut();
    h.mem.setU32(0x0c, 0xdeadbeef);
    expect(h.call('get_status', ctx, REQ_BODY)).toBe(Status.OK);
    expect([h.mem.u32(0x08), h.mem.u32(0x0c)]).toEqual([11, 0]);
  });

  it('answers NOT_FOUND for an absent buffer and BAD_ARGUMENT for type 9', async () => {
    const { h, ctx } = await setup();
    expect(h.call('get_status', ctx, RESP_BODY)).toBe(Status.NOT_FOUND);
    expect(h.call('get_status', ctx, 9)).toBe(Status.BAD_ARGUMENT);
  });
});

describe('proxy_get_configuration (ABI 0.1.0)', () => {
  it('returns the plugin configuration during on_configure and the VM configuration otherwise', async () => {
    const h = await harness('abi-config-v010', { config: { vmConfiguration: 'vm-config', configuration: 'plugin-config' } });
    expect(h.module.abi).toBe('0.1.0');
    // on_vm_start, then on_configure.
    expect(h.guestLogs()).toEqual(['vm-config', 'plugin-config']);
    expect(h.call('read_config', h.plugin.root)).toBe(Status.OK);
    const { ctx } = h.stream();
    expect(h.call('read_config', ctx)).toBe(Status.OK);
    expect(h.guestLogs()).toEqual(['vm-config', 'plugin-config', 'vm-config', 'vm-config']);
  });
});
