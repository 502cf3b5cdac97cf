// The bundled AssemblyScript filters keep their stream contexts in filters/lib/abi.ts by address,
// with one reference taken at on_context_create and given back after on_delete. These tests
// catch both ways that can go wrong: a context never freed (guest memory grows with every
// request) and a context freed too early (a later callback of a live stream finds its memory
// reused, and the filter stops doing its work).

import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { compileModule } from '../../src/abi/module.ts';
import { LogLevel, MapType } from '../../src/abi/types.ts';
import { bundledFilter } from '../helpers/proxy.ts';
import { harnessFor, MemoryHost, type Harness } from './helpers.ts';

const REQUEST: Array<[string, string]> = [
  [':method', 'GET'],
  [':path', '/'],
  [':authority', 'example.com'],
  ['authorization', 'Bearer ok'],
];
const RESPONSE: Array<[string, string]> = [
  [':status', '200'],
  ['content-type', 'text/plain'],
];

const FILTERS = {
  headers: { request: { add: { 'x-added': 'yes' } }, response: { add: { 'x-proxy': 'sluice' } } },
  auth: { allow: { header: 'authorization', values: ['Bearer ok'] } },
  'body-rewrite': { response: { replace: [['colour', 'color']] }, content_types: ['text/'] },
};

async function load(name: keyof typeof FILTERS, configuration: object = FILTERS[name]): Promise<Harness> {
  const module = compileModule(await readFile(bundledFilter(name)), `${name}.wasm`);
  return harnessFor(module, { config: { name, rootId: name, configuration: JSON.stringify(configuration), logLevel: LogLevel.WARN } });
}

function newHost(): MemoryHost {
  return new MemoryHost()
    .withHeaders(MapType.HTTP_REQUEST_HEADERS, REQUEST)
    .withHeaders(MapType.HTTP_RESPONSE_HEADERS, RESPONSE)
    .withBody(1, 'my favourite colour');
}

/** One GET through the filter, as FilterSlot drives it; returns the host and what each callback answered. */
function request(h: Harness): { host: MemoryHost; answers: number[] } {
  const { ctx, host } = h.stream(newHost());
  const e = h.vm.exports;
  const answers = [
    h.vm.call(ctx, 'proxy_on_request_headers', e.proxy_on_request_headers!, ctx.id, REQUEST.length, 1),
    h.vm.call(ctx, 'proxy_on_response_headers', e.proxy_on_response_headers!, ctx.id, RESPONSE.length, 0),
    h.vm.call(ctx, 'proxy_on_response_body', e.proxy_on_response_body!, ctx.id, host.bodies.get(1)!.length, 1),
  ];
  h.plugin.finishStream(ctx);
  return { host, answers };
}

describe('bundled filters free their stream contexts', () => {
  for (const name of Object.keys(FILTERS) as Array<keyof typeof FILTERS>) {
    it(`${name}: guest memory stays the same over 20 000 requests`, async () => {
      const h = await load(name);
      for (let i = 0; i < 1000; i++) request(h);
      const before = h.mem.size;
      let last = request(h);
      for (let i = 0; i < 20_000; i++) last = request(h);
      expect(last.answers).toEqual([0, 0, 0]);
      // A leak of even one small object per request would take more than 64 KiB (a page) here.
      expect(h.mem.size).toBe(before);
      expect(h.vm.contexts.size).toBe(1); // the root context only
      expect(h.vm.failure).toBeNull();
    });
  }

  it('headers: a live stream keeps its context while others come and go around it', async () => {
    const h = await load('headers');
    const e = h.vm.exports;
    const first = h.stream(newHost());
    const second = h.stream(newHost());
    expect(h.vm.call(first.ctx, 'proxy_on_request_headers', e.proxy_on_request_headers!, first.ctx.id, REQUEST.length, 1)).toBe(0);
    expect(h.vm.call(second.ctx, 'proxy_on_request_headers', e.proxy_on_request_headers!, second.ctx.id, REQUEST.length, 1)).toBe(0);
    h.plugin.finishStream(first.ctx);
    // Whatever the guest allocates now may reuse the first context's memory, never the second's.
    for (let i = 0; i < 100; i++) request(h);
    expect(h.vm.call(second.ctx, 'proxy_on_response_headers', e.proxy_on_response_headers!, second.ctx.id, RESPONSE.length, 0)).toBe(0);
    h.plugin.finishStream(second.ctx);
    expect(second.host.maps.get(MapType.HTTP_REQUEST_HEADERS)!.get('x-added')).toBe('yes');
    expect(second.host.maps.get(MapType.HTTP_RESPONSE_HEADERS)!.get('x-proxy')).toBe('sluice');
    expect(h.vm.failure).toBeNull();
  });

  it('body-rewrite: each stream keeps its own decision about its body', async () => {
    const h = await load('body-rewrite');
    const e = h.vm.exports;
    const text = h.stream(newHost());
    const binary = h.stream(new MemoryHost()
      .withHeaders(MapType.HTTP_REQUEST_HEADERS, REQUEST)
      .withHeaders(MapType.HTTP_RESPONSE_HEADERS, [[':status', '200'], ['content-type', 'application/octet-stream']])
      .withBody(1, 'my favourite colour'));
    for (const s of [text, binary]) {
      h.vm.call(s.ctx, 'proxy_on_request_headers', e.proxy_on_request_headers!, s.ctx.id, REQUEST.length, 1);
      h.vm.call(s.ctx, 'proxy_on_response_headers', e.proxy_on_response_headers!, s.ctx.id, 2, 0);
    }
    for (let i = 0; i < 100; i++) request(h);
    for (const s of [binary, text]) {
      h.vm.call(s.ctx, 'proxy_on_response_body', e.proxy_on_response_body!, s.ctx.id, s.host.bodies.get(1)!.length, 1);
      h.plugin.finishStream(s.ctx);
    }
    expect(text.host.bodies.get(1)!.bytes().toString()).toBe('my favourite color');
    expect(binary.host.bodies.get(1)!.bytes().toString()).toBe('my favourite colour');
  });

  it('headers: an edit the host refuses is logged by name, and the edits after it still apply', async () => {
    const h = await load('headers', { request: { remove: ['x-gone'], set: { 'x-set-me': 'v' }, add: { 'x-odd-length-name': 'abc' } } });
    const host = newHost().withHeaders(MapType.HTTP_REQUEST_HEADERS, [...REQUEST, ['x-gone', '1']]);
    host.readOnly.add(MapType.HTTP_RESPONSE_HEADERS);
    const { ctx } = h.stream(host);
    const e = h.vm.exports;
    expect(h.vm.call(ctx, 'proxy_on_request_headers', e.proxy_on_request_headers!, ctx.id, REQUEST.length + 1, 1)).toBe(0);
    const request = host.maps.get(MapType.HTTP_REQUEST_HEADERS)!;
    expect([request.get('x-gone'), request.get('x-set-me'), request.get('x-odd-length-name')]).toEqual([undefined, 'v', 'abc']);
    h.plugin.finishStream(ctx);

    const refused = await load('headers'); // adds x-proxy to the response
    const other = refused.stream(newHost());
    other.host.readOnly.add(MapType.HTTP_RESPONSE_HEADERS);
    const ee = refused.vm.exports;
    expect(refused.vm.call(other.ctx, 'proxy_on_response_headers', ee.proxy_on_response_headers!, other.ctx.id, RESPONSE.length, 0)).toBe(0);
    expect(refused.guestLogs()).toEqual(['headers: could not add response header x-proxy (result 2)']);
  });
});
