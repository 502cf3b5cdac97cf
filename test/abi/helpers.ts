// Harness for the ABI-level tests: builds a real Vm (and Plugin) from a WAT fixture with a pino
// logger that writes into an array, an in-memory StreamHost, and small readers/writers for guest
// memory. Nothing here re-implements host behaviour; it only drives src/abi the way the proxy does.
//
// Fixture conventions (see test/fixtures/wat/abi-*.wat):
//   0x00 u32  out data pointer   (the `return_X_data` slot of host calls)
//   0x04 u32  out size           (the `return_X_size` slot)
//   0x08 u32  scalar out (token, level, status code, ...)
//   0x10 u64  u64 out (time)
//   0x40 u32  number of proxy_on_memory_allocate calls, 0x44 u32 number of malloc calls
//   0x400 u32 trace length, 0x404.. i32 trace entries (written by the guest's $trace helper)
//   0x1000..  scratch input area the test writes strings into before a call
//   0x10000.. heap of the guest's bump allocator

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { afterAll } from 'vitest';
import { BodyBuffer } from '../../src/abi/body-buffer.ts';
import type { LocalReply, PropertyValue, StreamContext, StreamHost } from '../../src/abi/context.ts';
import { defer } from '../../src/abi/deferred.ts';
import { HeaderMap } from '../../src/abi/header-map.ts';
import { MetricsRegistry } from '../../src/abi/metrics.ts';
import { buildImports } from '../../src/abi/imports.ts';
import { compileModule, type CompiledModule } from '../../src/abi/module.ts';
import { Plugin, type HttpCallRequest, type HttpCallResponse, type PluginConfig, type PluginServices } from '../../src/abi/plugin.ts';
import { LogLevel, MapType, type StreamType } from '../../src/abi/types.ts';
import { SharedDataStore } from '../../src/abi/shared-data.ts';
import { SharedQueues } from '../../src/abi/shared-queues.ts';
import { Vm } from '../../src/abi/vm.ts';
import { headersProperty } from '../../src/proxy/stream-properties.ts';
import { fixtureWasm, watToWasm } from '../helpers/wat.ts';

export const OUT_PTR = 0x00;
export const OUT_SIZE = 0x04;
export const OUT_U32 = 0x08;
export const OUT_U64 = 0x10;
export const ALLOC_COUNT = 0x40;
export const MALLOC_COUNT = 0x44;
export const TRACE = 0x400;
export const SCRATCH = 0x1000;
export const HEAP = 0x10000;

/** One JSON line pino wrote. */
export interface LogLine {
  level: number;
  msg: string;
  wasm?: { context_id: number };
  [key: string]: unknown;
}

export const PINO = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;

/** A logger at trace level whose lines land in `lines` (synchronously, in order). */
export function memoryLogger(lines: LogLine[] = [], onLine?: (line: LogLine) => void): { logger: Logger; lines: LogLine[] } {
  const logger = pino(
    { level: 'trace', base: null, timestamp: false },
    {
      write(s: string) {
        const line = JSON.parse(s) as LogLine;
        lines.push(line);
        onLine?.(line);
      },
    },
  );
  return { logger, lines };
}

/** Compiles test/fixtures/wat/<name>.wat; `edit` may rewrite the source first (e.g. the marker). */
export async function compileFixture(name: string, edit?: (source: string) => string): Promise<CompiledModule> {
  if (edit === undefined) return compileModule(await fixtureWasm(name), `${name}.wat`);
  const source = await readFile(join(import.meta.dirname, '..', 'fixtures', 'wat', `${name}.wat`), 'utf8');
  return compileModule(await watToWasm(edit(source), `${name}.wat`), `${name}.wat`);
}

export async function compileWat(source: string, name = 'inline.wat'): Promise<CompiledModule> {
  return compileModule(await watToWasm(source, name), name);
}

let tempDir: string | undefined;

// Test workers may be killed rather than exit, so clean up after each test file instead.
afterAll(() => {
  if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
  tempDir = undefined;
});

/** Writes `data` to a file in a temporary directory removed after the test file; returns its path. */
export function tempFile(name: string, data: Uint8Array | string): string {
  tempDir ??= mkdtempSync(join(tmpdir(), 'sluice-abi-'));
  const file = join(tempDir, name);
  writeFileSync(file, data);
  return file;
}

/** Writes a fixture's binary to a temporary file (PluginSet loads modules from paths). */
export async function fixtureFile(name: string): Promise<string> {
  return tempFile(`${name}.wasm`, await fixtureWasm(name));
}

/**
 * Builds a Vm the way PluginSet does (buildImports) and returns the raw instance exports too, so
 * tests can call a fixture's thin wrapper functions through `vm.call`. The Vm keeps only the
 * proxy callbacks, so the instance is captured by briefly wrapping WebAssembly.Instance.
 */
export function createVm(
  module: CompiledModule,
  options: { vmId?: string; vmConfiguration?: string | Buffer; logger: Logger; environ?: string[] },
): { vm: Vm; raw: WebAssembly.Exports } {
  const Original = WebAssembly.Instance;
  let captured: WebAssembly.Instance | undefined;
  class Capturing extends Original {
    constructor(m: WebAssembly.Module, i?: WebAssembly.Imports) {
      super(m, i);
      captured = this;
    }
  }
  WebAssembly.Instance = Capturing;
  try {
    const vmConfiguration = Buffer.from(options.vmConfiguration ?? '');
    const vm = new Vm(module, { vmId: options.vmId ?? 'vm', vmConfiguration, logger: options.logger, environ: options.environ ?? [] }, buildImports);
    return { vm, raw: captured!.exports };
  } finally {
    WebAssembly.Instance = Original;
  }
}

export function pluginConfig(overrides: Partial<Omit<PluginConfig, 'configuration' | 'vmConfiguration'>> & { configuration?: string | Buffer; vmConfiguration?: string | Buffer } = {}): PluginConfig {
  return {
    name: overrides.name ?? 'test-filter',
    rootId: overrides.rootId ?? 'test-root',
    vmId: overrides.vmId ?? 'vm',
    configuration: Buffer.from(overrides.configuration ?? ''),
    vmConfiguration: Buffer.from(overrides.vmConfiguration ?? ''),
    logLevel: overrides.logLevel ?? LogLevel.TRACE,
    failOpen: overrides.failOpen ?? false,
  };
}

/** PluginServices for tests: real registries, and an http_call stub that records requests and lets the test complete them. */
export class CallServices implements PluginServices {
  /** Filter metrics, one registry per services object (i.e. per simulated proxy). */
  readonly metrics = new MetricsRegistry();
  /** Shared data and queues: pass one CallServices to several harnesses to share them. */
  readonly sharedData = new SharedDataStore();
  readonly queues = new SharedQueues();
  readonly requests: Array<{ request: HttpCallRequest; done: (result: HttpCallResponse | Error) => void; cancelled: boolean }> = [];
  /** When set, httpCall refuses with this reason (e.g. an unknown cluster). */
  refuse: string | null = null;
  /** When set, the stub completes the call synchronously, from inside proxy_http_call. */
  completeSynchronously: HttpCallResponse | Error | null = null;

  httpCall(request: HttpCallRequest, done: (result: HttpCallResponse | Error) => void): string | (() => void) {
    if (this.refuse !== null) return this.refuse;
    const entry = { request, done, cancelled: false };
    this.requests.push(entry);
    if (this.completeSynchronously !== null) done(this.completeSynchronously);
    return () => {
      entry.cancelled = true;
    };
  }
}

export interface Harness {
  module: CompiledModule;
  vm: Vm;
  plugin: Plugin;
  raw: WebAssembly.Exports;
  lines: LogLine[];
  logger: Logger;
  services: CallServices;
  mem: GuestView;
  /** Calls a fixture export as the given context (null = no context), through vm.call. */
  call(name: string, ctx: { id: number } | null, ...args: number[]): number;
  /** A new stream context on a fresh in-memory host. */
  stream(host?: MemoryHost): { ctx: StreamContext; host: MemoryHost };
  /** Guest log messages (lines carrying the `wasm` key), in order. */
  guestLogs(): string[];
}

export interface HarnessOptions {
  config?: Parameters<typeof pluginConfig>[0];
  /** Run plugin.start() (default true); pass false to poke flags into guest memory first. */
  start?: boolean;
  services?: CallServices;
  /** Sees every log line as it is written (e.g. to interleave it with host events). */
  onLog?: (line: LogLine) => void;
}

/** Vm + started Plugin from a compiled module, wired like PluginSet wires them. */
export function harnessFor(module: CompiledModule, options: HarnessOptions = {}): Harness {
  const { logger, lines } = memoryLogger([], options.onLog);
  const config = pluginConfig(options.config);
  const { vm, raw } = createVm(module, { vmId: config.vmId, vmConfiguration: config.vmConfiguration, logger });
  const mem = new GuestView(vm);
  vm.start();
  const services = options.services ?? new CallServices();
  const plugin = new Plugin(vm, config, services, logger.child({ plugin: config.name, root_id: config.rootId, vm_id: config.vmId }));
  if (options.start !== false) plugin.start();
  return {
    module,
    vm,
    plugin,
    raw,
    lines,
    logger,
    services,
    mem,
    call(name, ctx, ...args) {
      const fn = raw[name];
      if (typeof fn !== 'function') throw new Error(`fixture has no export ${name}`);
      const context = ctx === null ? null : (vm.contexts.get(ctx.id) ?? null);
      if (ctx !== null && context === null) throw new Error(`no live context ${ctx.id}`);
      const [a = 0, b = 0, c = 0, d = 0, e = 0] = args;
      return vm.call(context, name, fn as (...a: number[]) => number, a, b, c, d, e);
    },
    stream(host = new MemoryHost()) {
      return { ctx: plugin.createStream(host), host };
    },
    guestLogs() {
      return lines.filter((l) => l.wasm !== undefined).map((l) => l.msg);
    },
  };
}

export async function harness(fixture: string, options: HarnessOptions = {}): Promise<Harness> {
  return harnessFor(await compileFixture(fixture), options);
}

/** Reads and writes guest memory (always through the current memory.buffer). */
export class GuestView {
  readonly #vm: Vm;
  constructor(vm: Vm) {
    this.#vm = vm;
  }
  get #buf(): Buffer {
    const b = this.#vm.exports.memory.buffer;
    return Buffer.from(b, 0, b.byteLength);
  }
  get size(): number {
    return this.#vm.exports.memory.buffer.byteLength;
  }
  u32(ptr: number): number {
    return this.#buf.readUInt32LE(ptr);
  }
  u64(ptr: number): bigint {
    return this.#buf.readBigUInt64LE(ptr);
  }
  setU32(ptr: number, value: number): void {
    this.#buf.writeUInt32LE(value >>> 0, ptr);
  }
  bytes(ptr: number, len: number): Buffer {
    return Buffer.from(this.#buf.subarray(ptr, ptr + len));
  }
  /** Writes bytes (a string is taken as latin1) and returns [ptr, length]. */
  write(ptr: number, data: string | Uint8Array): [number, number] {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    this.#buf.set(bytes, ptr);
    return [ptr, bytes.length];
  }
  /** The (ptr, size) pair the host wrote into the out slots. */
  out(): [number, number] {
    return [this.u32(OUT_PTR), this.u32(OUT_SIZE)];
  }
  /** The bytes the out slots point to, as latin1. */
  outString(): string {
    const [ptr, size] = this.out();
    return this.bytes(ptr, size).toString('latin1');
  }
  /** Fills the out slots with a sentinel so "the host wrote (0,0)" is observable. */
  poisonOut(): void {
    this.setU32(OUT_PTR, 0xdeadbeef);
    this.setU32(OUT_SIZE, 0xdeadbeef);
    this.setU32(OUT_U32, 0xdeadbeef);
  }
  /** Calls of proxy_on_memory_allocate / malloc so far. */
  allocations(): number {
    return this.u32(ALLOC_COUNT);
  }
  mallocs(): number {
    return this.u32(MALLOC_COUNT);
  }
  /** The guest's trace, grouped in tuples of `width`. */
  trace(width = 1): number[][] {
    const n = this.u32(TRACE);
    const flat: number[] = [];
    for (let i = 0; i < n; i++) flat.push(this.#buf.readInt32LE(TRACE + 4 + i * 4));
    const out: number[][] = [];
    for (let i = 0; i < flat.length; i += width) out.push(flat.slice(i, i + width));
    return out;
  }
}

/** Serializes a header map the way SDKs do (independent of src/abi/pairs.ts). */
export function pairsBytes(pairs: ReadonlyArray<readonly [string, string]>): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(4 + pairs.length * 8);
  head.writeUInt32LE(pairs.length, 0);
  pairs.forEach(([k, v], i) => {
    head.writeUInt32LE(Buffer.byteLength(k, 'latin1'), 4 + i * 8);
    head.writeUInt32LE(Buffer.byteLength(v, 'latin1'), 8 + i * 8);
    parts.push(Buffer.from(k, 'latin1'), Buffer.from([0]), Buffer.from(v, 'latin1'), Buffer.from([0]));
  });
  return Buffer.concat([head, ...parts]);
}

export type HostEvent =
  | { kind: 'continue'; type: StreamType }
  | { kind: 'close'; type: StreamType }
  | { kind: 'local-reply'; reply: LocalReply }
  | { kind: 'local-reply-refused' }
  | { kind: 'set-property'; path: string[]; value: string }
  | { kind: 'ran'; what: string }
  | { kind: 'log'; msg: string };

/**
 * A tiny in-memory StreamHost. Maps and bodies are whatever the test puts in; `readOnly` map
 * types refuse writes (as a proxy does outside the writable window). With `deferActions`, stream
 * actions are queued with defer() the way src/proxy does, and record a `ran` event when they run.
 */
export class MemoryHost implements StreamHost {
  readonly maps = new Map<number, HeaderMap>();
  readonly readOnly = new Set<number>();
  readonly bodies = new Map<number, BodyBuffer>();
  readonly properties = new Map<string, Buffer>();
  readonly events: HostEvent[];
  readonly propertyLookups: string[][] = [];
  deferActions = false;

  constructor(events: HostEvent[] = []) {
    this.events = events;
  }

  withHeaders(type: number, pairs: ReadonlyArray<readonly [string, string]>): this {
    this.maps.set(type, HeaderMap.fromPairs(pairs.map(([k, v]) => [k, v])));
    return this;
  }

  withBody(type: number, body: string): this {
    this.bodies.set(type, new BodyBuffer(Buffer.from(body, 'latin1')));
    return this;
  }

  headerMap(type: number, write: boolean): HeaderMap | undefined {
    if (write && this.readOnly.has(type)) return undefined;
    return this.maps.get(type);
  }

  body(type: number): BodyBuffer | undefined {
    return this.bodies.get(type);
  }

  property(path: readonly string[]): PropertyValue | undefined {
    this.propertyLookups.push([...path]);
    const set = this.properties.get(path.join('\0'));
    if (set !== undefined || path[1] !== 'headers') return set;
    // The header maps' properties as the proxy answers them (src/proxy/stream-properties.ts).
    const type = path[0] === 'request' ? MapType.HTTP_REQUEST_HEADERS : path[0] === 'response' ? MapType.HTTP_RESPONSE_HEADERS : -1;
    return headersProperty(this.maps.get(type) ?? null, path[2], path.length - 2);
  }

  setProperty(path: readonly string[], value: Buffer): boolean {
    this.events.push({ kind: 'set-property', path: [...path], value: value.toString('latin1') });
    this.properties.set(path.join('\0'), value);
    return true;
  }

  continueStream(type: StreamType): void {
    this.#act({ kind: 'continue', type }, `continue ${type}`);
  }

  closeStream(type: StreamType): void {
    this.#act({ kind: 'close', type }, `close ${type}`);
  }

  sendLocalResponse(reply: LocalReply): void {
    this.#act({ kind: 'local-reply', reply }, `local reply ${reply.status}`);
  }
  localResponseRefused(): void {
    this.events.push({ kind: 'local-reply-refused' });
  }


  #act(event: HostEvent, what: string): void {
    this.events.push(event);
    if (this.deferActions) defer(() => this.events.push({ kind: 'ran', what }));
  }
}
