// Properties: NUL-joined paths (with or without a trailing NUL, dots inside segments kept),
// plugin_* attributes, NOT_FOUND for unknown names, and set_property from root and stream
// contexts (reference §2.7 "Property path", §4.7, §7.13, §10 items 5 and 21).

import { describe, expect, it } from 'vitest';
import { MAX_PROPERTY_BYTES } from '../../src/abi/limits.ts';
import { Status } from '../../src/abi/types.ts';
import { harness, MemoryHost, SCRATCH, type Harness } from './helpers.ts';

function get(h: Harness, ctx: { id: number } | null, path: string): { status: number; value: string | null } {
  const [ptr, len] = h.mem.write(SCRATCH, path);
  h.mem.poisonOut();
  const status = h.call('get_property', ctx, ptr, len);
  return { status, value: status === Status.OK ? h.mem.outString() : null };
}

function set(h: Harness, ctx: { id: number }, path: string, value: string): number {
  const [p, pl] = h.mem.write(SCRATCH, path);
  const [v, vl] = h.mem.write(SCRATCH + 0x400, value);
  return h.call('set_property', ctx, p, pl, v, vl);
}

async function setup() {
  return harness('abi-properties', { config: { name: 'my-filter', rootId: 'my-root', vmId: 'my-vm' } });
}

describe('plugin attributes', () => {
  it('plugin_name, plugin_root_id and plugin_vm_id from the root context', async () => {
    const h = await setup();
    expect(get(h, h.plugin.root, 'plugin_name')).toEqual({ status: Status.OK, value: 'my-filter' });
    expect(get(h, h.plugin.root, 'plugin_root_id')).toEqual({ status: Status.OK, value: 'my-root' });
    expect(get(h, h.plugin.root, 'plugin_vm_id')).toEqual({ status: Status.OK, value: 'my-vm' });
  });

  it('are readable from stream contexts too', async () => {
    const h = await setup();
    const { ctx } = h.stream();
    expect(get(h, ctx, 'plugin_name')).toEqual({ status: Status.OK, value: 'my-filter' });
  });

  it('accept a trailing NUL after the path (Envoy tolerates it)', async () => {
    const h = await setup();
    expect(get(h, h.plugin.root, 'plugin_root_id\0')).toEqual({ status: Status.OK, value: 'my-root' });
  });

  it('do not match when extra segments follow', async () => {
    const h = await setup();
    expect(get(h, h.plugin.root, 'plugin_name\0x').status).toBe(Status.NOT_FOUND);
  });
});

describe('paths', () => {
  it('are split on NUL only: dots stay inside segments', async () => {
    const h = await setup();
    const host = new MemoryHost();
    host.properties.set('metadata\0filter_metadata\0envoy.filters.http.wasm\0auth', Buffer.from('cookie'));
    const { ctx } = h.stream(host);
    expect(get(h, ctx, 'metadata\0filter_metadata\0envoy.filters.http.wasm\0auth')).toEqual({ status: Status.OK, value: 'cookie' });
    expect(host.propertyLookups).toEqual([['metadata', 'filter_metadata', 'envoy.filters.http.wasm', 'auth']]);
  });

  it('with and without a trailing NUL reach the stream host as the same segments', async () => {
    const h = await setup();
    const host = new MemoryHost();
    host.properties.set('request\0path', Buffer.from('/a?b=c'));
    const { ctx } = h.stream(host);
    expect(get(h, ctx, 'request\0path')).toEqual({ status: Status.OK, value: '/a?b=c' });
    expect(get(h, ctx, 'request\0path\0')).toEqual({ status: Status.OK, value: '/a?b=c' });
    expect(host.propertyLookups).toEqual([
      ['request', 'path'],
      ['request', 'path'],
    ]);
  });

  it('values are raw bytes (e.g. an 8-byte little-endian integer)', async () => {
    const h = await setup();
    const host = new MemoryHost();
    const port = Buffer.alloc(8);
    port.writeBigUInt64LE(8080n);
    host.properties.set('source\0port', port);
    const { ctx } = h.stream(host);
    expect(h.call('get_property', ctx, ...h.mem.write(SCRATCH, 'source\0port'))).toBe(Status.OK);
    const [ptr, size] = h.mem.out();
    expect(size).toBe(8);
    expect(h.mem.bytes(ptr, size).readBigUInt64LE()).toBe(8080n);
  });
});

describe('unknown properties', () => {
  it('answer NOT_FOUND from root and stream contexts', async () => {
    const h = await setup();
    const { ctx } = h.stream();
    expect(get(h, h.plugin.root, 'no_such_thing').status).toBe(Status.NOT_FOUND);
    expect(get(h, ctx, 'request\0nope').status).toBe(Status.NOT_FOUND);
    expect(get(h, ctx, '').status).toBe(Status.NOT_FOUND);
    expect(h.mem.allocations()).toBe(0);
  });

  it('answer NOT_FOUND outside any context (e.g. from _initialize)', async () => {
    const h = await setup();
    expect(get(h, null, 'plugin_name').status).toBe(Status.NOT_FOUND);
  });
});

describe('proxy_set_property', () => {
  it('from a root context is OK and readable back from that root', async () => {
    const h = await setup();
    expect(set(h, h.plugin.root, 'my_state\0counter', '42')).toBe(Status.OK);
    expect(get(h, h.plugin.root, 'my_state\0counter')).toEqual({ status: Status.OK, value: '42' });
    // A trailing NUL names the same property.
    expect(get(h, h.plugin.root, 'my_state\0counter\0')).toEqual({ status: Status.OK, value: '42' });
    expect(set(h, h.plugin.root, 'my_state\0counter', '43')).toBe(Status.OK);
    expect(get(h, h.plugin.root, 'my_state\0counter').value).toBe('43');
  });

  it('an empty value is stored and reads back as OK (0,0)', async () => {
    const h = await setup();
    expect(h.call('set_property', h.plugin.root, ...h.mem.write(SCRATCH, 'flag'), 0, 0)).toBe(Status.OK);
    const r = get(h, h.plugin.root, 'flag');
    expect(r).toEqual({ status: Status.OK, value: '' });
    expect(h.mem.out()).toEqual([0, 0]);
  });

  it('from a stream context goes to the stream host, segment by segment', async () => {
    const h = await setup();
    const { ctx, host } = h.stream();
    expect(set(h, ctx, 'wasm_state\0user', 'alice')).toBe(Status.OK);
    expect(host.events).toEqual([{ kind: 'set-property', path: ['wasm_state', 'user'], value: 'alice' }]);
    expect(get(h, ctx, 'wasm_state\0user')).toEqual({ status: Status.OK, value: 'alice' });
    // Not stored on the plugin: another stream does not see it.
    const other = h.stream().ctx;
    expect(get(h, other, 'wasm_state\0user').status).toBe(Status.NOT_FOUND);
  });

  it('from a root context keeps at most MAX_PROPERTY_BYTES: past it a write is dropped, answered OK and warned about', async () => {
    const h = await setup();
    const value = 'v'.repeat(200_000);
    const [v, vl] = h.mem.write(SCRATCH + 0x400, value);
    const writes = Math.ceil(MAX_PROPERTY_BYTES / 200_000) + 5;
    for (let i = 0; i < writes; i++) {
      const [p, pl] = h.mem.write(SCRATCH, `k${i}`);
      expect(h.call('set_property', h.plugin.root, p, pl, v, vl)).toBe(Status.OK);
    }
    // A value already stored can still be rewritten in its place (read first: the fixture's bump
    // allocator has no room left for the 200 KB values once asked for one).
    expect(set(h, h.plugin.root, 'k0', 'small')).toBe(Status.OK);
    expect(get(h, h.plugin.root, 'k0').value).toBe('small');
    const kept = Array.from({ length: writes }, (_, i) => get(h, h.plugin.root, `k${i}`).status !== Status.NOT_FOUND).filter(Boolean).length;
    let fit = 0;
    for (let used = 0; used + 200_000 + `k${fit}`.length <= MAX_PROPERTY_BYTES; fit++) used += 200_000 + `k${fit}`.length;
    expect(kept).toBe(fit);
    expect(get(h, h.plugin.root, `k${writes - 1}`).status).toBe(Status.NOT_FOUND);
    expect(h.lines.filter((l) => l.msg === 'property store is full: proxy_set_property dropped (the filter was told OK)')).toHaveLength(1);
  });
});
