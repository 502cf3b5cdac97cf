// One instance of a module: its memory, its exports, its contexts and the guard around every
// call into it. Mirrors proxy-wasm-cpp-host's WasmBase: context ids come from a per-VM counter
// starting at 1 (0 is the VM itself), a trap kills the VM for every context on it, and the
// current/effective context pair tells host functions whom a call acts on.

import { setFlagsFromString } from 'node:v8';
import type { Logger } from 'pino';
import { defer, enterStep, leaveStep } from './deferred.ts';
import { GuestTrap } from './errors.ts';
import { guestWatch } from './guest-watch.ts';
import { readExports, type GuestExports } from './exports.ts';
import { GuestMemory } from './memory.ts';
import type { CompiledModule } from './module.ts';
import type { Context } from './context.ts';
import { ContextTable } from './context-table.ts';
import { MAX_WASM_MEMORY_BYTES, WASM_PAGE_BYTES } from './limits.ts';

export interface VmOptions {
  readonly vmId: string;
  readonly vmConfiguration: Buffer;
  readonly logger: Logger;
  /** "KEY=VALUE" entries for WASI environ_get. */
  readonly environ: readonly string[];
  /** What the thread reports while this VM's code runs outside any plugin's context (guest-watch.ts); 0 reports nothing. */
  readonly watchId?: number;
  /**
   * Told, once the failing step is over, that the VM failed (a trap, or a failure the host
   * decided), unless the host failed it quietly (a quarantine, which brings it back itself).
   */
  readonly onFailure?: (vm: Vm) => void;
}

/** Builds the import object for a VM; injected so this file does not depend on every ABI area. */
export type ImportsFactory = (vm: Vm) => WebAssembly.Imports;

/**
 * What a callout token stands for, kept in its low two bits as Envoy does (reference §3.10):
 * http_call tokens are 4, 8, 12..., grpc_call 5, 9, ..., grpc_stream 6, 10, ...
 */
export const CalloutKind = { HTTP_CALL: 0, GRPC_CALL: 1, GRPC_STREAM: 2 } as const;
export type CalloutKind = (typeof CalloutKind)[keyof typeof CalloutKind];

let vmSerial = 0;

let guestMemoryCapped = false;

/**
 * V8 lets a 32-bit memory grow to 4 GiB, and the host sees a guest's size only after its call
 * returns: one callback could commit 4 GiB, more than the process may have. With V8's page limit
 * at the cap (process-wide, so set once, before the first instance), memory.grow past it fails
 * inside the guest (-1), as in Envoy, whose V8 runs with the same limit.
 */
function capGuestMemory(): void {
  if (guestMemoryCapped) return;
  guestMemoryCapped = true;
  setFlagsFromString(`--wasm-max-mem-pages=${MAX_WASM_MEMORY_BYTES / WASM_PAGE_BYTES}`);
}

/**
 * The stack worth logging for a failed guest call: a trap's own frames (the guest's functions),
 * without the host's JS frames below them, which are the same for every trap; a host error's
 * whole stack, since there the host's frames are the story.
 */
function guestStack(err: unknown): string | undefined {
  if (!(err instanceof Error) || err.stack === undefined) return undefined;
  if (!(err instanceof WebAssembly.RuntimeError)) return err.stack;
  const lines = err.stack.split('\n');
  return [lines[0], ...lines.slice(1).filter((line) => line.includes('wasm://') || line.includes('wasm-function'))].join('\n');
}

export class Vm {
  readonly serial = ++vmSerial;
  readonly module: CompiledModule;
  readonly options: VmOptions;
  readonly memory = new GuestMemory();
  readonly logger: Logger;
  exports!: GuestExports;
  /** Set once a guest call trapped; the VM is never called again. */
  failure: GuestTrap | null = null;
  readonly contexts = new ContextTable();
  /** The context whose callback is running (kept by the context table, see there why). */
  get current(): Context | null {
    return this.contexts.current;
  }

  /** Set by proxy_set_effective_context for the rest of the current guest call. */
  effective: Context | null = null;
  #nextContextId = 1;
  #inCall = false;
  readonly #watchId: number;
  readonly #onFailure: ((vm: Vm) => void) | undefined;
  /** The thread's guest-watch array and this thread's slot in it, read once at construction. */
  readonly #watch: Int32Array;
  readonly #watchSlot: number;
  /** The last token handed out, per CalloutKind. */
  readonly #lastToken: number[] = [CalloutKind.HTTP_CALL, CalloutKind.GRPC_CALL, CalloutKind.GRPC_STREAM];

  constructor(module: CompiledModule, options: VmOptions, imports: ImportsFactory) {
    capGuestMemory();
    this.module = module;
    this.options = options;
    this.logger = options.logger;
    const watch = guestWatch();
    this.#watch = watch.running;
    this.#watchSlot = watch.slot;
    this.#watchId = options.watchId ?? 0;
    this.#onFailure = options.onFailure;
    const instance = new WebAssembly.Instance(module.module, imports(this));
    const exports = readExports(instance);
    if (typeof exports === 'string') throw new GuestTrap('instantiate', exports);
    this.exports = exports;
    this.memory.attach(exports.memory);
    this.memory.allocate = (size) => this.#allocate(size);
  }

  get abi(): CompiledModule['abi'] {
    return this.module.abi;
  }

  /** The context host functions act on: the effective one if the guest chose one. */
  context(): Context | null {
    return this.effective ?? this.current;
  }

  nextContextId(): number {
    return this.#nextContextId++;
  }

  /**
   * Callout tokens are unique per VM and never 0 (SDKs treat unknown tokens as fatal); the kind
   * is `token & 3`. They wrap after 2^30 calls of one kind, skipping 0.
   */
  nextToken(kind: CalloutKind): number {
    let token = (this.#lastToken[kind]! + 4) >>> 0;
    if (token === 0) token = 4;
    this.#lastToken[kind] = token;
    return token;
  }

  /**
   * Runs the reactor/command start function: `_initialize` (then `main(0,0)` or `__main_void`),
   * else `_start`. Proxy callbacks are never called before this completed.
   */
  start(): void {
    const e = this.exports;
    if (e._initialize !== undefined) {
      this.call(null, '_initialize', e._initialize);
      if (e.main !== undefined) this.call(null, 'main', e.main, 0, 0);
      else if (e.__main_void !== undefined) this.call(null, '__main_void', e.__main_void);
    } else if (e._start !== undefined) {
      this.call(null, '_start', e._start);
    }
  }

  /**
   * Calls into the guest as `ctx`. A trap marks the VM failed and is rethrown as GuestTrap;
   * calling a failed VM throws its GuestTrap again. Actions the guest deferred run after the
   * outermost step returns (see deferred.ts).
   */
  call(ctx: Context | null, name: string, fn: (...args: number[]) => number, a = 0, b = 0, c = 0, d = 0, e = 0): number {
    this.#enter(ctx, name);
    try {
      const result = fn(a, b, c, d, e); // surplus arguments are ignored by wasm exports
      this.#checkMemory(name);
      return result;
    } catch (err) {
      throw this.#fail(name, err);
    } finally {
      this.#leave();
    }
  }

  /**
   * A new stream context's on_context_create, then (when given) its first callback `fn(id, a, b)`,
   * as one guarded call: both run for every filter of every request. A trap in on_context_create
   * skips the callback, as two separate calls would.
   */
  createStream(ctx: Context, rootId: number, name = '', fn?: (...args: number[]) => number, a = 0, b = 0): number {
    const create = this.exports.proxy_on_context_create;
    let running = 'proxy_on_context_create';
    this.#enter(ctx, running);
    try {
      if (create !== undefined) create(ctx.id, rootId);
      let result = 0;
      if (fn !== undefined) {
        this.effective = null; // proxy_set_effective_context lasts for one callback
        running = name;
        result = fn(ctx.id, a, b);
      }
      this.#checkMemory(running);
      return result;
    } catch (err) {
      throw this.#fail(running, err);
    } finally {
      this.#leave();
    }
  }

  /**
   * on_log, on_done and on_delete of a stream context as one guarded call: one entry check,
   * one step and one memory check instead of three (this runs for every filter of every
   * request). A trap in one skips the rest, as three separate calls would.
   */
  endStream(ctx: Context): void {
    const e = this.exports;
    const id = ctx.id;
    let name = 'proxy_on_log';
    this.#enter(ctx, name);
    try {
      if (e.proxy_on_log !== undefined) e.proxy_on_log(id);
      this.effective = null; // proxy_set_effective_context lasts for one callback
      name = 'proxy_on_done';
      if (e.proxy_on_done !== undefined) e.proxy_on_done(id);
      this.effective = null;
      name = 'proxy_on_delete';
      if (e.proxy_on_delete !== undefined) e.proxy_on_delete(id);
      this.#checkMemory(name);
    } catch (err) {
      throw this.#fail(name, err);
    } finally {
      this.#leave();
    }
  }

  #enter(ctx: Context | null, name: string): void {
    if (this.failure !== null) throw this.failure;
    // Guests are not re-entrant (Go and TinyGo runtimes certainly are not): a call while another
    // is on the stack is a host bug, and failing loudly beats corrupting the guest.
    if (this.#inCall) throw new Error(`re-entrant call to ${name} while another guest call is running`);
    this.#inCall = true;
    // The plugin's own id when there is one: filters sharing a VM are told apart.
    this.#watch[this.#watchSlot] = ctx === null ? this.#watchId : ctx.plugin.watchId;
    if (ctx === null) this.contexts.clearCurrent();
    else this.contexts.setCurrent(ctx);
    this.effective = null;
    enterStep();
  }

  #leave(): void {
    this.#inCall = false;
    this.#watch[this.#watchSlot] = 0;
    this.contexts.clearCurrent();
    this.effective = null;
    leaveStep();
  }

  /**
   * Marks the VM failed from outside a guest call (e.g. a watchdog or memory cap). `quiet` when
   * the caller logs the failure its own way.
   */
  fail(reason: string, quiet = false): void {
    if (this.failure === null) this.#fail('host', new Error(reason), quiet);
  }

  #fail(name: string, err: unknown, quiet = false): GuestTrap {
    if (err instanceof GuestTrap && err === this.failure) return err;
    const trap = new GuestTrap(name, err);
    if (this.failure === null) {
      this.failure = trap;
      if (name === 'host') {
        if (!quiet) this.logger.error({ reason: (err as Error).message }, 'filter VM failed; it will be replaced');
      } else {
        const stack = guestStack(err);
        this.logger.error({ err: { message: trap.message, ...(stack !== undefined && { stack }) }, callback: name }, 'filter VM failed; it will be replaced');
      }
      // A stream one of its contexts was holding (say, until an http_call answer) would wait
      // forever: its host decides, once the failing step is over.
      for (const ctx of this.contexts.all()) {
        const host = ctx.stream;
        if (host?.vmFailed !== undefined) defer(() => host.vmFailed!());
      }
      const onFailure = this.#onFailure;
      if (onFailure !== undefined && !quiet) defer(() => onFailure(this));
    }
    return this.failure;
  }

  #checkMemory(name: string): void {
    // Through GuestMemory's views, which notice growth without the costly memory.buffer getter.
    this.memory.refresh();
    if (this.memory.byteLength > MAX_WASM_MEMORY_BYTES) {
      throw new Error(`linear memory grew past ${MAX_WASM_MEMORY_BYTES} bytes during ${name}`);
    }
  }

  /** Guest allocation from inside a host function: no context is current while it runs. */
  #allocate(size: number): number {
    const alloc = this.exports.allocate;
    if (alloc === undefined) return 0;
    const contexts = this.contexts;
    const prevCurrent = contexts.suspendCurrent();
    const prevEffective = this.effective;
    this.effective = null;
    try {
      return alloc(size);
    } finally {
      contexts.restoreCurrent(prevCurrent);
      this.effective = prevEffective;
    }
  }
}
