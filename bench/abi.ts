// `npm run bench:abi`: the cost of the hot host calls and of one filter callback, measured on a
// real VM (src/abi: PluginSet, Plugin, a stream context on an in-memory StreamHost).
//
// Host calls: a WAT guest exports one loop per host function that calls it N times, so the
// only JS↔wasm crossings measured are the host calls themselves (plus the allocator callback
// the call makes, which is part of its cost). Callbacks: proxy_on_request_headers of a WAT filter
// that reads 10 headers with proxy_get_header_map_value and replaces one, and of the bundled
// headers.wasm (AssemblyScript SDK) for comparison, timed per call through Vm.call as the
// stream driver makes it. Lifecycles: everything one GET costs a filter in the ABI layer
// (on_context_create with on_request_headers, on_response_headers, one on_response_body,
// on_log/on_done/on_delete), for an empty WAT filter (the host's own share), the hand-written
// header edit of bench/filters and the three bundled filters as `npm run bench` configures them.
//
// Flags: --n N (calls per round, default 500000), --rounds R (default 5), --json.
// `--count ROW --calls K` serves bench/abi-instructions.ts (see there).

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { BodyBuffer } from '../src/abi/body-buffer.ts';
import type { LocalReply, PropertyValue, StreamContext, StreamHost } from '../src/abi/context.ts';
import { HeaderMap } from '../src/abi/header-map.ts';
import { MetricsRegistry } from '../src/abi/metrics.ts';
import { PluginSet, type PluginSpec } from '../src/abi/plugin-set.ts';
import type { Plugin, PluginServices } from '../src/abi/plugin.ts';
import { SharedDataStore } from '../src/abi/shared-data.ts';
import { SharedQueues } from '../src/abi/shared-queues.ts';
import { LogLevel, MapType, Status } from '../src/abi/types.ts';
import { headersProperty } from '../src/proxy/stream-properties.ts';
import { setServingV8Flags, setStartupV8Flags } from '../src/supervisor/v8-flags.ts';
import { watToWasm } from '../test/helpers/wat.ts';
import { AUTH_FILTER, BODY_FILTER, filterPath, HEADERS_FILTER, type BenchFilter } from './configs.ts';
import { benchFlags, numberFlag } from './flags.ts';
import { REQUEST_HEADERS as BENCH_REQUEST_HEADERS } from './load.ts';

// The host runs here with the V8 flags the proxy's workers get (src/supervisor/v8-flags.ts).
setStartupV8Flags();
setServingV8Flags();

const flags = benchFlags(
  'bench:abi',
  {
    n: { type: 'string' },
    rounds: { type: 'string' },
    json: { type: 'boolean', default: false },
    // Used by bench/abi-instructions.ts: make `--calls` calls of one row after a warm-up, untimed.
    count: { type: 'string' },
    calls: { type: 'string' },
  },
  () => `Usage: npm run bench:abi -- [flags]
  --n N          calls per round of each host-call row (default 500000; callback rows a tenth)
  --rounds R     rounds per row; the median is reported (default 5)
  --json         print the results as JSON
  --count ROW --calls K
                 make K calls of one row after its warm-up, untimed (for bench:abi:instructions)
`,
);
const N = numberFlag('bench:abi', 'n', flags.n, 500_000, 1, true);
const ROUNDS = numberFlag('bench:abi', 'rounds', flags.rounds, 5, 1, true);

/** The request headers every measurement starts from (10 entries, like a browser request). */
const REQUEST_HEADERS: Array<[string, string]> = [
  [':authority', 'api.example.com'],
  [':path', '/v1/orders?limit=20'],
  [':method', 'GET'],
  [':scheme', 'http'],
  ['user-agent', 'Mozilla/5.0 (X11; Linux x86_64) bench'],
  ['accept', 'application/json'],
  ['accept-encoding', 'gzip, deflate, br'],
  ['authorization', 'Bearer 0123456789abcdef'],
  ['x-request-id', '5b8e2c1a-6f0d-4c53-9a57-3f5c0e2d7b11'],
  ['x-forwarded-for', '203.0.113.7'],
];

// The host calls measured, each as [loop name, the call with its arguments]. Guest memory:
// 0x00/0x04 the out slots; 0x80 the loop to run; inputs from 0x100; the allocator hands out one
// scratch area at 0x10000 (the value is never kept, so reusing it is fine and costs nothing).
const LOOPS: Array<[string, string]> = [
  ['log_level', '(call $log_level (i32.const 8))'],
  ['get_value', '(call $get_value (i32.const 0) (i32.const 0x100) (i32.const 10) (i32.const 0) (i32.const 4))'],
  ['get_pairs', '(call $get_pairs (i32.const 0) (i32.const 0) (i32.const 4))'],
  ['add', '(call $add (i32.const 0) (i32.const 0x120) (i32.const 7) (i32.const 0x140) (i32.const 11))'],
  ['replace', '(call $replace (i32.const 0) (i32.const 0x100) (i32.const 10) (i32.const 0x140) (i32.const 11))'],
  ['get_property', '(call $get_property (i32.const 0x160) (i32.const 12) (i32.const 0) (i32.const 4))'],
  ['get_buffer', '(call $get_buffer (i32.const 0) (i32.const 0) (i32.const 1024) (i32.const 0) (i32.const 4))'],
];

// Only proxy_* exports are called by the host, so proxy_on_request_headers(ctx, n, _) runs loop
// number mem[0x80] n times; each loop returns the OR of every status, so one non-OK call shows.
const HOSTCALLS_WAT = String.raw`
(module
  (import "env" "proxy_get_log_level" (func $log_level (param i32) (result i32)))
  (import "env" "proxy_get_header_map_value" (func $get_value (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_header_map_pairs" (func $get_pairs (param i32 i32 i32) (result i32)))
  (import "env" "proxy_add_header_map_value" (func $add (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_replace_header_map_value" (func $replace (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_property" (func $get_property (param i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_get_buffer_bytes" (func $get_buffer (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 4)
  (data (i32.const 0x100) "user-agent")
  (data (i32.const 0x120) "x-bench")
  (data (i32.const 0x140) "bench-value")
  (data (i32.const 0x160) "request\00path")
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 0x10000))
  (func (export "proxy_on_context_create") (param i32 i32))
${LOOPS.map(
  ([name, call]) => `  (func $loop_${name} (param $n i32) (result i32) (local $i i32) (local $r i32)
    (block $done (loop $next (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $r (i32.or (local.get $r) ${call}))
      (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $next)))
    (local.get $r))`,
).join('\n')}
  (func (export "proxy_on_request_headers") (param $ctx i32) (param $n i32) (param $eos i32) (result i32)
${LOOPS.map(([name], i) => `    (if (i32.eq (i32.load (i32.const 0x80)) (i32.const ${i})) (then (return (call $loop_${name} (local.get $n)))))`).join('\n')}
    (unreachable))
)`;

// A filter in the shape SDKs compile to: on_request_headers reads the 10 headers one by one
// (get_header_map_value, the allocator called for each value) and replaces one of them.
const FILTER10_WAT = String.raw`
(module
  (import "env" "proxy_get_header_map_value" (func $get_value (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "proxy_replace_header_map_value" (func $replace (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 4)
  ;; name table at 0x200: 10 x (ptr u32, len u32); names from 0x300
  (data (i32.const 0x300) ":authority:path:method:schemeuser-agentacceptaccept-encodingauthorizationx-request-idx-forwarded-for")
  (data (i32.const 0x200)
    "\00\03\00\00\0a\00\00\00" "\0a\03\00\00\05\00\00\00" "\0f\03\00\00\07\00\00\00" "\16\03\00\00\07\00\00\00"
    "\1d\03\00\00\0a\00\00\00" "\27\03\00\00\06\00\00\00" "\2d\03\00\00\0f\00\00\00" "\3c\03\00\00\0d\00\00\00"
    "\49\03\00\00\0c\00\00\00" "\55\03\00\00\0f\00\00\00")
  (data (i32.const 0x400) "edited-by-filter")
  (global $heap (mut i32) (i32.const 0x10000))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_memory_allocate") (param $size i32) (result i32) (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (local.get $p) (local.get $size)))
    (local.get $p))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_request_headers") (param $ctx i32) (param $n i32) (param $eos i32) (result i32)
    (local $i i32) (local $entry i32)
    (global.set $heap (i32.const 0x10000)) ;; an arena per callback
    (block $done (loop $next (br_if $done (i32.ge_u (local.get $i) (i32.const 10)))
      (local.set $entry (i32.add (i32.const 0x200) (i32.shl (local.get $i) (i32.const 3))))
      (if (call $get_value (i32.const 0) (i32.load (local.get $entry)) (i32.load offset=4 (local.get $entry)) (i32.const 0) (i32.const 4))
        (then unreachable))
      (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $next)))
    ;; replace x-request-id (entry 8)
    (if (call $replace (i32.const 0) (i32.const 0x349) (i32.const 12) (i32.const 0x400) (i32.const 16)) (then unreachable))
    (i32.const 0))
)`;

// A filter that exports every callback a GET reaches and does nothing in them: its lifecycle is
// what the host spends per filter per request before the filter does any work.
const EMPTY_FILTER_WAT = String.raw`
(module
  (memory (export "memory") 1)
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_memory_allocate") (param i32) (result i32) (i32.const 2048))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "proxy_on_response_body") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "proxy_on_log") (param i32))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_delete") (param i32))
)`;

/** A StreamHost with a request header map, a 1 KiB request body and one stream property. */
class BenchHost implements StreamHost {
  headers = HeaderMap.fromPairs(REQUEST_HEADERS);
  readonly requestBody = new BodyBuffer(Buffer.alloc(1024, 0x61));
  // A string, as the real stream host answers string attributes (src/proxy/stream-properties.ts).
  readonly path = '/v1/orders?limit=20';

  headerMap(type: number): HeaderMap | undefined {
    return type === MapType.HTTP_REQUEST_HEADERS ? this.headers : undefined;
  }
  body(type: number): BodyBuffer | undefined {
    return type === 0 ? this.requestBody : undefined;
  }
  property(path: readonly string[]): PropertyValue | undefined {
    return path.length === 2 && path[0] === 'request' && path[1] === 'path' ? this.path : undefined;
  }
  setProperty(): boolean {
    return true;
  }
  continueStream(): void {}
  closeStream(): void {}
  sendLocalResponse(_reply: LocalReply): void {}
}

function services(): PluginServices {
  const logger = pino({ level: 'silent' });
  return {
    httpCall: () => 'http_call is not available in bench:abi',
    metrics: new MetricsRegistry(),
    sharedData: new SharedDataStore({ logger }),
    queues: new SharedQueues({ logger }),
  };
}

function spec(name: string, modulePath: string, configuration = ''): PluginSpec {
  return {
    name,
    rootId: '',
    vmId: '',
    configuration: Buffer.from(configuration),
    vmConfiguration: Buffer.alloc(0),
    logLevel: LogLevel.WARN,
    failOpen: false,
    modulePath,
    environ: [],
  };
}

interface Loaded {
  plugin: Plugin;
  ctx: StreamContext;
  host: BenchHost;
}

function load(name: string, modulePath: string, configuration = ''): Loaded {
  const set = new PluginSet([spec(name, modulePath, configuration)], services(), pino({ level: 'silent' }));
  set.start();
  const plugin = set.get(name)!;
  const host = new BenchHost();
  return { plugin, ctx: plugin.createStream(host), host };
}

export interface AbiResult {
  name: string;
  /** Median over the rounds, nanoseconds per call. */
  ns: number;
  minNs: number;
  /** The target from the issue, or null for reference rows. */
  targetNs: number | null;
}

/**
 * Times `batch(k)` (which makes k calls) over ROUNDS rounds of `calls` calls, in batches of
 * `batchSize` with `reset()` run untimed between batches. Returns ns per call (median and min).
 */
function time(calls: number, batch: (k: number) => void, batchSize: number, reset: () => void = () => {}): { ns: number; minNs: number } {
  const roundNs = (count: number): number => {
    let elapsed = 0;
    for (let done = 0; done < count; done += batchSize) {
      const k = Math.min(batchSize, count - done);
      reset();
      const t0 = performance.now();
      batch(k);
      elapsed += performance.now() - t0;
    }
    return (elapsed * 1e6) / count;
  };
  roundNs(Math.max(1, Math.floor(calls / 5))); // warm-up: let V8 optimise the host functions
  const rounds = Array.from({ length: ROUNDS }, () => roundNs(calls)).sort((a, b) => a - b);
  return { ns: rounds[rounds.length >> 1]!, minNs: rounds[0]! };
}

/** Runs loop `name` of the host-call guest k times, in one guest call. */
function loopRunner({ plugin, ctx }: Loaded, name: string): (k: number) => void {
  const vm = plugin.vm;
  const fn = vm.exports.proxy_on_request_headers!;
  const index = LOOPS.findIndex(([n]) => n === name);
  if (index === -1) throw new Error(`no host-call loop named ${name}`);
  return (k: number) => {
    vm.memory.refresh();
    vm.memory.view.setUint32(0x80, index, true);
    const status = vm.call(ctx, 'proxy_on_request_headers', fn, ctx.id, k, 0);
    if (status !== Status.OK) throw new Error(`${name}: a host call answered status ${status}`);
  };
}

function hostCalls(file: string): AbiResult[] {
  const loaded = load('hostcalls', file);
  const { plugin, host } = loaded;
  const loop = (name: string) => loopRunner(loaded, name);
  const fresh = () => {
    host.headers = HeaderMap.fromPairs(REQUEST_HEADERS);
  };
  const rows: Array<[string, () => { ns: number; minNs: number }, number | null]> = [
    ['proxy_get_log_level (the cheapest call: crossing + context lookup)', () => time(N, loop('log_level'), 10_000), null],
    ['proxy_get_header_map_value', () => time(N, loop('get_value'), 10_000), 150],
    ['proxy_get_header_map_pairs (10 headers)', () => time(N, loop('get_pairs'), 10_000), 150],
    // A map that only grows would measure a different map each time: start from 10 headers every 100 adds.
    ['proxy_add_header_map_value', () => time(N, loop('add'), 100, fresh), 150],
    ['proxy_replace_header_map_value', () => time(N, loop('replace'), 10_000), 150],
    ['proxy_get_property (request.path)', () => time(N, loop('get_property'), 10_000), 150],
    ['proxy_get_buffer_bytes (1 KiB)', () => time(N, loop('get_buffer'), 10_000), 150],
  ];
  const results = rows.map(([name, run, targetNs]) => {
    fresh();
    return { name, ...run(), targetNs };
  });
  checkEffects(plugin, host);
  return results;
}

/** One more call of a few loops, checking they did what they claim (a broken loop would time nothing). */
function checkEffects(plugin: Plugin, host: BenchHost): void {
  const vm = plugin.vm;
  const ctx = [...vm.contexts.all()].find((c) => c.stream === host)!;
  const run = (name: string): Buffer => {
    vm.memory.refresh();
    vm.memory.view.setUint32(0x80, LOOPS.findIndex(([n]) => n === name), true);
    vm.call(ctx, 'proxy_on_request_headers', vm.exports.proxy_on_request_headers!, ctx.id, 1, 0);
    vm.memory.refresh();
    const view = vm.memory.view;
    return Buffer.from(vm.memory.bytes.subarray(view.getUint32(0, true), view.getUint32(0, true) + view.getUint32(4, true)));
  };
  host.headers = HeaderMap.fromPairs(REQUEST_HEADERS);
  const expect = (what: string, ok: boolean) => {
    if (!ok) throw new Error(`bench:abi self-check failed: ${what}`);
  };
  expect('get_header_map_value reads user-agent', run('get_value').toString('latin1') === REQUEST_HEADERS[4]![1]);
  expect('get_header_map_pairs reads 10 pairs', run('get_pairs').readUInt32LE(0) === 10);
  expect('get_property reads request.path', run('get_property').toString('latin1') === '/v1/orders?limit=20');
  expect('get_buffer_bytes reads 1 KiB', run('get_buffer').length === 1024);
  run('replace');
  expect('replace_header_map_value replaces user-agent', host.headers.get('user-agent') === 'bench-value');
  run('add');
  expect('add_header_map_value adds x-bench', host.headers.get('x-bench') === 'bench-value' && host.headers.size === 11);
}

/** Makes k calls of the filter's proxy_on_request_headers, as the stream driver would. */
function requestHeadersRunner({ plugin, ctx, host }: Loaded, name: string): (k: number) => void {
  const vm = plugin.vm;
  const fn = vm.exports.proxy_on_request_headers!;
  return (k: number) => {
    for (let i = 0; i < k; i++) {
      if (vm.call(ctx, 'proxy_on_request_headers', fn, ctx.id, host.headers.size, 1) !== 0) throw new Error(`${name}: on_request_headers did not continue`);
    }
  };
}

function callback(
  name: string,
  file: string,
  configuration: string,
  targetNs: number | null,
  resetEvery: number,
  effect: [header: string, value: string],
): AbiResult {
  const loaded = load(name, file, configuration);
  const { host } = loaded;
  const batch = requestHeadersRunner(loaded, name);
  // A callback makes about ten host calls: a tenth of the calls keeps the rounds short.
  const calls = Math.max(1, Math.floor(N / 10));
  const timed = time(calls, batch, resetEvery, () => (host.headers = HeaderMap.fromPairs(REQUEST_HEADERS)));
  if (host.headers.get(effect[0]) !== effect[1]) throw new Error(`bench:abi self-check failed: ${name} did not set ${effect[0]}`);
  return { name, ...timed, targetNs };
}

// The request `npm run bench` sends, as the proxy hands it to filters, and the upstream's answer.
const LIFECYCLE_REQUEST: Array<[string, string]> = [
  [':authority', '127.0.0.1:8080'],
  [':path', '/'],
  [':method', 'GET'],
  [':scheme', 'http'],
  ...Object.entries(BENCH_REQUEST_HEADERS),
  ['x-request-id', '5b8e2c1a-6f0d-4c53-9a57-3f5c0e2d7b11'],
  ['x-forwarded-for', '127.0.0.1'],
  ['x-forwarded-proto', 'http'],
];
const LIFECYCLE_RESPONSE: Array<[string, string]> = [
  [':status', '200'],
  ['content-type', 'application/json'],
  ['content-length', '100'],
  ['date', 'Tue, 01 Dec 2026 00:00:00 GMT'],
  ['keep-alive', 'timeout=5'],
];
const LIFECYCLE_BODY = Buffer.alloc(100, 0x61);

/** One GET's stream as a filter sees it: fresh header maps, a 100-byte response body. */
class LifecycleHost implements StreamHost {
  readonly request = HeaderMap.fromPairs(LIFECYCLE_REQUEST);
  readonly response = HeaderMap.fromPairs(LIFECYCLE_RESPONSE);
  readonly responseBody = new BodyBuffer(LIFECYCLE_BODY);

  headerMap(type: number): HeaderMap | undefined {
    if (type === MapType.HTTP_REQUEST_HEADERS) return this.request;
    return type === MapType.HTTP_RESPONSE_HEADERS ? this.response : undefined;
  }
  body(type: number): BodyBuffer | undefined {
    return type === 1 ? this.responseBody : undefined;
  }
  property(path: readonly string[]): PropertyValue | undefined {
    // The static auth filter reads its header as request.headers.<name>.
    return path[0] === 'request' && path[1] === 'headers' ? headersProperty(this.request, path[2], path.length - 2) : undefined;
  }
  setProperty(): boolean {
    return true;
  }
  continueStream(): void {}
  closeStream(): void {}
  sendLocalResponse(reply: LocalReply): void {
    throw new Error(`bench:abi: the filter answered locally (${reply.status}) instead of letting the request through`);
  }
}

/**
 * ns per stream lifecycle of one filter, made the way FilterSlot makes it for a GET: context
 * creation with on_request_headers (one guarded call), on_response_headers, on_response_body
 * with the whole body and end of stream, then on_log/on_done/on_delete. Hosts are built between
 * the timed batches. Checks that every callback continued, that no context outlived its stream
 * and that the filter did its work (`check`, on the last stream's host).
 */
function lifecycle(name: string, file: string, configuration: string, check: (host: LifecycleHost) => boolean): AbiResult {
  const { plugin } = load(name, file, configuration);
  const vm = plugin.vm;
  const e = vm.exports;
  const rootId = plugin.root.id;
  const contextsBefore = vm.contexts.size;
  const BATCH = 1000;
  let hosts: LifecycleHost[] = [];
  const reset = () => {
    hosts = Array.from({ length: BATCH }, () => new LifecycleHost());
  };
  let continued = true;
  let last: LifecycleHost | null = null;
  const batch = (k: number) => {
    for (let i = 0; i < k; i++) {
      const host = hosts[i]!;
      last = host;
      const ctx = plugin.newStream(host);
      const id = ctx.id;
      let r = vm.createStream(ctx, rootId, 'proxy_on_request_headers', e.proxy_on_request_headers, host.request.size, 1);
      if (e.proxy_on_response_headers !== undefined) r |= vm.call(ctx, 'proxy_on_response_headers', e.proxy_on_response_headers, id, host.response.size, 0);
      if (e.proxy_on_response_body !== undefined) r |= vm.call(ctx, 'proxy_on_response_body', e.proxy_on_response_body, id, LIFECYCLE_BODY.length, 1);
      plugin.finishStream(ctx);
      if (r !== 0) continued = false;
    }
  };
  const calls = Math.max(1, Math.floor(N / 10));
  const timed = time(calls, batch, BATCH, reset);
  const expect = (what: string, ok: boolean) => {
    if (!ok) throw new Error(`bench:abi self-check failed: ${name}: ${what}`);
  };
  expect('every callback continued', continued);
  expect('no stream context left behind', vm.contexts.size === contextsBefore);
  expect('the filter did its work', last !== null && check(last));
  return { name, ...timed, targetNs: null };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-abi-'));
  try {
    const hostcallsFile = join(dir, 'hostcalls.wasm');
    writeFileSync(hostcallsFile, await watToWasm(HOSTCALLS_WAT, 'bench-hostcalls.wat'));
    const filter10File = join(dir, 'filter10.wasm');
    writeFileSync(filter10File, await watToWasm(FILTER10_WAT, 'bench-filter10.wat'));
    if (flags.count !== undefined) return countRow(flags.count, numberFlag('bench:abi', 'calls', flags.calls, 0, 0, true), hostcallsFile, filter10File);
    const results = hostCalls(hostcallsFile);
    results.push(callback('on_request_headers, 10-header WAT filter (10 reads, 1 replace)', filter10File, '', 1000, 10_000, ['x-request-id', 'edited-by-filter']));
    const headersWasm = join(import.meta.dirname, '..', 'filters', 'build', 'headers.wasm');
    if (existsSync(headersWasm)) {
      // The filter adds a header per call: start from the 10 request headers every 100 calls.
      const config = '{"request":{"add":{"x-bench":"1"}}}';
      results.push(callback('on_request_headers, bundled headers.wasm (AssemblyScript SDK, 1 add)', headersWasm, config, null, 100, ['x-bench', '1']));
    }
    results.push(...(await lifecycles(dir)));
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ n: N, rounds: ROUNDS, node: process.version, results }, null, 2)}\n`);
      return;
    }
    const width = Math.max(...results.map((r) => r.name.length));
    process.stdout.write(`ns per call, median of ${ROUNDS} rounds (min in brackets); Node ${process.version}\n\n`);
    for (const r of results) {
      const verdict = r.targetNs === null ? '' : r.ns <= r.targetNs ? `  met (≤ ${r.targetNs})` : `  MISSED (target ≤ ${r.targetNs})`;
      process.stdout.write(`${r.name.padEnd(width)}  ${r.ns.toFixed(0).padStart(6)} ns  [${r.minNs.toFixed(0)}]${verdict}\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `--count`: `calls` calls of one host-call loop (by its LOOPS name) or of the 10-header filter
 * (`filter10`), after the timed rows' warm-up, untimed. Run under callgrind at two call counts,
 * the difference is the instructions of the calls alone (bench/abi-instructions.ts). As in the
 * timed rows, the header map is rebuilt every 100 adds and every 10 000 filter calls.
 */
function countRow(row: string, calls: number, hostcallsFile: string, filter10File: string): void {
  if (!Number.isInteger(calls) || calls < 1) throw new Error('--count needs --calls K, a positive integer');
  const filter = row === 'filter10';
  const loaded = filter ? load(row, filter10File) : load('hostcalls', hostcallsFile);
  const run = filter ? requestHeadersRunner(loaded, row) : loopRunner(loaded, row);
  const every = filter ? 10_000 : row === 'add' ? 100 : 10_000;
  const batches = (count: number) => {
    for (let done = 0; done < count; done += every) {
      loaded.host.headers = HeaderMap.fromPairs(REQUEST_HEADERS);
      run(Math.min(every, count - done));
    }
  };
  batches(filter ? Math.floor(N / 50) : Math.floor(N / 5)); // the timed rows' warm-up
  batches(calls);
}

/** The lifecycle rows: the host's share, a hand-written filter, and the bundled filters of `npm run bench`. */
async function lifecycles(dir: string): Promise<AbiResult[]> {
  const emptyFile = join(dir, 'empty.wasm');
  writeFileSync(emptyFile, await watToWasm(EMPTY_FILTER_WAT, 'bench-empty.wat'));
  const minimalFile = join(dir, 'minimal-headers.wasm');
  writeFileSync(minimalFile, await watToWasm(readFileSync(join(import.meta.dirname, 'filters', 'minimal-headers.wat'), 'utf8'), 'minimal-headers.wat'));
  const untouched = (host: LifecycleHost) => host.request.size === LIFECYCLE_REQUEST.length && host.response.size === LIFECYCLE_RESPONSE.length;
  const addsBoth = (host: LifecycleHost) => host.request.get('x-bench') === '1' && host.response.get('x-proxy') === 'sluice';
  const rows = [
    lifecycle('stream lifecycle, empty WAT filter (the host per filter)', emptyFile, '', untouched),
    lifecycle('stream lifecycle, WAT header edit (bench/filters, 2 adds)', minimalFile, '', addsBoth),
  ];
  const bundled: Array<[BenchFilter, string, (host: LifecycleHost) => boolean]> = [
    [HEADERS_FILTER, '2 adds', addsBoth],
    [AUTH_FILTER, 'static allow', (host) => host.request.get('authorization') === BENCH_REQUEST_HEADERS.authorization],
    [BODY_FILTER, 'body pass-through', (host) => host.responseBody.length === LIFECYCLE_BODY.length && untouched(host)],
  ];
  for (const [filter, what, check] of bundled) {
    const file = filterPath(filter);
    if (!existsSync(file)) continue;
    rows.push(lifecycle(`stream lifecycle, bundled ${filter.module} (${what})`, file, JSON.stringify(filter.configuration), check));
  }
  return rows;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:abi: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
