// The bundled AssemblyScript filters keep their stream contexts in filters/lib/stream-table.ts by address,
// with one reference taken at on_context_create and given back after on_delete. These tests
// catch both ways that can go wrong: a context never freed (guest memory grows with every
// request) and a context freed too early (a later callback of a live stream finds its memory
// reused, and the filter stops doing its work).

import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { StreamContext } from '../../src/abi/context.ts';
import { compileModule } from '../../src/abi/module.ts';
import { LogLevel, MapType } from '../../src/abi/types.ts';
import { bundledFilter } from '../helpers/proxy.ts';
import { PluginSet } from '../../src/abi/plugin-set.ts';
import { CallServices, harnessFor, memoryLogger, MemoryHost, type Harness } from './helpers.ts';

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

/** A host whose response has `contentType` and the body `body` (for body-rewrite). */
function responseHost(contentType: string, body: string): MemoryHost {
  return new MemoryHost()
    .withHeaders(MapType.HTTP_REQUEST_HEADERS, REQUEST)
    .withHeaders(MapType.HTTP_RESPONSE_HEADERS, [[':status', '200'], ['content-type', contentType]])
    .withBody(1, body);
}

/** The stream's whole response body in one last chunk, then the end of the stream. */
function endWithBody(h: Harness, s: { ctx: StreamContext; host: MemoryHost }): void {
  const e = h.vm.exports;
  h.vm.call(s.ctx, 'proxy_on_response_body', e.proxy_on_response_body!, s.ctx.id, s.host.bodies.get(1)!.length, 1);
  h.plugin.finishStream(s.ctx);
}

/**
 * Every stream's body rewritten exactly when its own content type said so (a callback that
 * reached another stream's context shows here), and no context or VM failure left behind.
 */
function expectOwnDecisions(h: Harness, streams: Array<{ host: MemoryHost; rewritten: boolean; n: number }>): void {
  for (const s of streams) {
    expect(s.host.bodies.get(1)!.bytes().toString()).toBe(s.rewritten ? `color ${s.n}` : `colour ${s.n}`);
  }
  expect(h.vm.failure).toBeNull();
  expect(h.vm.contexts.size).toBe(1);
}

/**
 * One GET through the filter, as FilterSlot drives it (a callback the filter does not export is
 * skipped); returns the host and what each exported callback answered.
 */
function request(h: Harness): { host: MemoryHost; answers: number[] } {
  const { ctx, host } = h.stream(newHost());
  const e = h.vm.exports;
  const answers: number[] = [];
  if (e.proxy_on_request_headers !== undefined) answers.push(h.vm.call(ctx, 'proxy_on_request_headers', e.proxy_on_request_headers, ctx.id, REQUEST.length, 1));
  if (e.proxy_on_response_headers !== undefined) answers.push(h.vm.call(ctx, 'proxy_on_response_headers', e.proxy_on_response_headers, ctx.id, RESPONSE.length, 0));
  if (e.proxy_on_response_body !== undefined) answers.push(h.vm.call(ctx, 'proxy_on_response_body', e.proxy_on_response_body, ctx.id, host.bodies.get(1)!.length, 1));
  h.plugin.finishStream(ctx);
  return { host, answers };
}

/** The stream callbacks each bundled filter implements, and so exports (the host skips the rest). */
const CALLBACKS = {
  headers: ['proxy_on_request_headers', 'proxy_on_response_headers'],
  auth: ['proxy_on_request_headers'],
  'body-rewrite': ['proxy_on_request_headers', 'proxy_on_response_headers', 'proxy_on_request_body', 'proxy_on_response_body'],
};
const STREAM_CALLBACK = /^proxy_on_(request|response)_|^proxy_on_(log|done)$/;

describe('bundled filters free their stream contexts', () => {
  for (const name of Object.keys(FILTERS) as Array<keyof typeof FILTERS>) {
    it(`${name}: guest memory stays the same over 20 000 requests`, async () => {
      const h = await load(name);
      for (let i = 0; i < 1000; i++) request(h);
      const before = h.mem.size;
      let last = request(h);
      for (let i = 0; i < 20_000; i++) last = request(h);
      expect(last.answers).toEqual(CALLBACKS[name].filter((c) => c !== 'proxy_on_request_body').map(() => 0));
      // A leak of even one small object per request would take more than 64 KiB (a page) here.
      expect(h.mem.size).toBe(before);
      expect(h.vm.contexts.size).toBe(1); // the root context only
      expect(h.vm.failure).toBeNull();
    });
  }

  it('each exports the stream callbacks it implements and no others', async () => {
    for (const name of Object.keys(FILTERS) as Array<keyof typeof FILTERS>) {
      const h = await load(name);
      const exported = Object.keys(h.vm.exports).filter((n) => STREAM_CALLBACK.test(n) && h.vm.exports[n as keyof typeof h.vm.exports] !== undefined);
      expect({ name, exported: exported.sort() }).toEqual({ name, exported: [...CALLBACKS[name]].sort() });
      expect(h.vm.exports.proxy_on_context_create).toBeDefined();
      expect(h.vm.exports.proxy_on_delete).toBeDefined();
    }
  });

  it('body-rewrite: 300 streams live at once, called and ended in shuffled order, each reach their own context', async () => {
    const h = await load('body-rewrite');
    const e = h.vm.exports;
    // Every third stream's body is binary, so a callback reaching another stream's context
    // shows as a body rewritten that should not be, or the reverse.
    const streams = Array.from({ length: 300 }, (_, i) => {
      const type = i % 3 === 0 ? 'application/octet-stream' : 'text/plain';
      return { ...h.stream(responseHost(type, `colour ${i}`)), rewritten: type === 'text/plain', n: i };
    });
    let seed = 7;
    const shuffled = <T>(items: T[]): T[] => {
      const out = [...items];
      for (let i = out.length - 1; i > 0; i--) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        const j = seed % (i + 1);
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    };
    for (const s of shuffled(streams)) h.vm.call(s.ctx, 'proxy_on_request_headers', e.proxy_on_request_headers!, s.ctx.id, REQUEST.length, 1);
    for (const s of shuffled(streams)) h.vm.call(s.ctx, 'proxy_on_response_headers', e.proxy_on_response_headers!, s.ctx.id, 2, 0);
    // End half of them first, with short-lived streams in between, then the rest.
    const order = shuffled(streams);
    for (const s of order.slice(0, 150)) {
      endWithBody(h, s);
      request(h);
    }
    for (const s of order.slice(150)) h.vm.call(s.ctx, 'proxy_on_response_body', e.proxy_on_response_body!, s.ctx.id, s.host.bodies.get(1)!.length, 1);
    for (const s of shuffled(order.slice(150))) h.plugin.finishStream(s.ctx);
    expectOwnDecisions(h, streams);
  });

  it('body-rewrite: streams whose ids share slots in the guest\'s table keep their own contexts', async () => {
    const h = await load('body-rewrite');
    const e = h.vm.exports;
    // Hosts hand out consecutive ids, which the guest's table spreads apart; these ids are
    // picked to land on three neighbouring home slots of its initial 64, so lookups probe past
    // each other and every removal has to close a gap in a run.
    const home = (id: number) => Math.imul(id, 0x9e3779b1) >>> 26;
    const ids: number[] = [];
    for (let id = 1000; ids.length < 24; id++) if ([5, 6, 7].includes(home(id))) ids.push(id);
    const streams = ids.map((id, i) => {
      const type = i % 2 === 0 ? 'application/octet-stream' : 'text/plain';
      const host = responseHost(type, `colour ${id}`);
      const ctx = new StreamContext(h.vm, h.plugin, id, host);
      h.vm.contexts.addStream(ctx);
      h.vm.createStream(ctx, h.plugin.root.id);
      return { ctx, host, n: id, rewritten: type === 'text/plain' };
    });
    for (const s of streams) h.vm.call(s.ctx, 'proxy_on_response_headers', e.proxy_on_response_headers!, s.ctx.id, 2, 0);
    // Remove every third first, then answer the rest (each lookup now crosses closed gaps).
    for (const s of streams.filter((_, i) => i % 3 === 1)) endWithBody(h, s);
    for (const s of streams.filter((_, i) => i % 3 !== 1).reverse()) endWithBody(h, s);
    expectOwnDecisions(h, streams);
  });

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
    const binary = h.stream(responseHost('application/octet-stream', 'my favourite colour'));
    for (const s of [text, binary]) {
      h.vm.call(s.ctx, 'proxy_on_request_headers', e.proxy_on_request_headers!, s.ctx.id, REQUEST.length, 1);
      h.vm.call(s.ctx, 'proxy_on_response_headers', e.proxy_on_response_headers!, s.ctx.id, 2, 0);
    }
    for (let i = 0; i < 100; i++) request(h);
    for (const s of [binary, text]) endWithBody(h, s);
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

describe('bundled filters recycle stream contexts only within their own root', () => {
  it('two headers filters sharing one VM: every stream gets its own root\'s edits, streams alternating', () => {
    const base = { environ: [], vmConfiguration: Buffer.alloc(0), logLevel: LogLevel.WARN, failOpen: false, vmId: 'shared', modulePath: bundledFilter('headers') };
    const configuration = (value: string) => Buffer.from(JSON.stringify({ request: { add: { 'x-root': value } } }));
    const set = new PluginSet(
      [
        // The bundled filters register their root under '' and their own name (lib/register.ts).
        { ...base, name: 'a', rootId: '', configuration: configuration('a') },
        { ...base, name: 'b', rootId: 'headers', configuration: configuration('b') },
      ],
      new CallServices(),
      memoryLogger().logger,
    );
    try {
      set.start();
      const a = set.get('a')!;
      const b = set.get('b')!;
      expect(a.vm).toBe(b.vm);
      const seen: string[] = [];
      // a a b a b b ...: recycled contexts wait under one root while the other creates streams.
      for (const plugin of [a, a, b, a, b, b, a, a, a, b, a, b]) {
        const host = newHost();
        const ctx = plugin.createStream(host);
        const e = plugin.vm.exports;
        plugin.vm.call(ctx, 'proxy_on_request_headers', e.proxy_on_request_headers!, ctx.id, REQUEST.length, 1);
        seen.push(`${plugin.config.name}:${host.maps.get(MapType.HTTP_REQUEST_HEADERS)!.get('x-root')}`);
        plugin.finishStream(ctx);
      }
      expect(seen).toEqual(['a:a', 'a:a', 'b:b', 'a:a', 'b:b', 'b:b', 'a:a', 'a:a', 'a:a', 'b:b', 'a:a', 'b:b']);
      expect(a.vm.failure).toBeNull();
    } finally {
      set.stop();
    }
  });
});
