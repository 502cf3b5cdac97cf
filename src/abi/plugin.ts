// A plugin is one configured filter living in a VM: its root context, its ticks and its
// out-of-band http calls. The lifecycle follows proxy-wasm-cpp-host: on_context_create(R, 0),
// on_vm_start, on_configure at start; per stream a lazily created context that ends with
// on_log, on_done, on_delete exactly once.

import type { Logger } from 'pino';
import { RootContext, StreamContext, type HttpCallResult, type StreamHost } from './context.ts';
import { defer } from './deferred.ts';
import { GuestTrap, PluginStartError } from './errors.ts';
import { HeaderMap } from './header-map.ts';
import type { ForeignFunctionRegistry } from './foreign-functions.ts';
import type { GrpcTransport } from './grpc.ts';
import type { MetricsRegistry } from './metrics.ts';
import type { SharedDataAccess } from './shared-data.ts';
import type { SharedQueuesAccess } from './shared-queues.ts';
import { BodyBuffer } from './body-buffer.ts';
import type { Pair } from './pairs.ts';
import { Status, type LogLevel } from './types.ts';
import { CalloutKind, type Vm } from './vm.ts';
import { MAX_PENDING_HTTP_CALL_BYTES, MAX_PENDING_HTTP_CALLS, MAX_TIMER_MS } from './limits.ts';
import { PropertyStore } from './property-store.ts';

/** Root-level callbacks other ABI areas deliver through Plugin.callRoot. */
export type RootCallback =
  | 'proxy_on_queue_ready'
  | 'proxy_on_foreign_function'
  | 'proxy_on_http_call_response'
  | 'proxy_on_grpc_receive_initial_metadata'
  | 'proxy_on_grpc_receive'
  | 'proxy_on_grpc_receive_trailing_metadata'
  | 'proxy_on_grpc_close';

export interface PluginConfig {
  readonly name: string;
  readonly rootId: string;
  readonly vmId: string;
  readonly configuration: Buffer;
  readonly vmConfiguration: Buffer;
  readonly logLevel: LogLevel;
  readonly failOpen: boolean;
}

const TOO_MANY_CALLS = `too many calls outstanding (a filter may have ${MAX_PENDING_HTTP_CALLS} calls or ${MAX_PENDING_HTTP_CALL_BYTES >> 20} MiB of requests waiting for answers)`;

/** What an http_call's request holds while it waits: its headers, body and trailers. */
function requestBytes(request: HttpCallRequest): number {
  let bytes = request.body.length;
  for (const [name, value] of request.headers) bytes += name.length + value.length;
  for (const [name, value] of request.trailers) bytes += name.length + value.length;
  return bytes;
}

export interface HttpCallRequest {
  /** The calling filter's name (literal targets are allowed per filter). */
  plugin: string;
  upstream: string;
  headers: Pair[];
  body: Buffer;
  trailers: Pair[];
  /** 0 = no timeout. */
  timeoutMs: number;
}

export interface HttpCallResponse {
  headers: Pair[];
  body: Buffer;
  trailers: Pair[];
}

/** What a plugin needs from the embedding besides streams. */
export interface PluginServices {
  /**
   * Starts an out-of-band HTTP call. Returns a reason string when the call cannot be made
   * (the guest gets BAD_ARGUMENT), else a function that cancels it. `done` is called once,
   * asynchronously, with the response or the error.
   */
  httpCall(request: HttpCallRequest, done: (result: HttpCallResponse | Error) => void): string | (() => void);
  /** Properties of the proxy itself (node identity), readable from any context. */
  hostProperty?(path: readonly string[]): Buffer | undefined;
  /** Functions reachable with proxy_call_foreign_function; absent = every name is NOT_FOUND. */
  readonly foreignFunctions?: ForeignFunctionRegistry;
  /** The proxy's filter metrics (proxy_define_metric & co), shared by every VM. */
  readonly metrics: MetricsRegistry;
  /** The key-value store of proxy_get/set_shared_data, shared by every VM (per vm_id). */
  readonly sharedData: SharedDataAccess;
  /** The shared queues (proxy_*_shared_queue), shared by every VM. */
  readonly queues: SharedQueuesAccess;
  /** gRPC callouts over HTTP/2 to clusters; absent = proxy_grpc_call/stream answer INTERNAL_FAILURE. */
  readonly grpc?: GrpcTransport;
}

export class Plugin {
  readonly config: PluginConfig;
  readonly vm: Vm;
  readonly logger: Logger;
  readonly services: PluginServices;
  root!: RootContext;
  /** True while on_configure (or validate) runs: the plugin configuration is readable then. */
  configuring = false;
  #tickPeriodMs = 0;
  #tickTimer: NodeJS.Timeout | null = null;
  /** Outstanding http_calls by token: how to cancel each, and its request's bytes. */
  readonly #calls = new Map<number, { cancel: () => void; bytes: number }>();
  #callBytes = 0;
  readonly #cleanups: Array<() => void> = [];
  /** Values set with proxy_set_property from root callbacks, keyed by NUL-joined path. */
  readonly properties = new PropertyStore();
  /** What its VM reports while this plugin's code runs (guest-watch.ts): its filter's index + 1, negated while it starts. */
  watchId = 0;
  #stopped = false;

  constructor(vm: Vm, config: PluginConfig, services: PluginServices, logger: Logger) {
    this.vm = vm;
    this.config = config;
    this.services = services;
    this.logger = logger;
  }

  /** Creates the root context and runs on_vm_start and on_configure; throws PluginStartError. */
  start(): void {
    const vm = this.vm;
    const e = vm.exports;
    this.root = new RootContext(vm, this, vm.nextContextId());
    vm.contexts.addRoot(this.root);
    const id = this.root.id;
    try {
      if (e.proxy_on_context_create) vm.call(this.root, 'proxy_on_context_create', e.proxy_on_context_create, id, 0);
      if (e.proxy_on_vm_start && !vm.call(this.root, 'proxy_on_vm_start', e.proxy_on_vm_start, id, this.config.vmConfiguration.length)) {
        throw new PluginStartError(this.config.name, 'proxy_on_vm_start returned false (the filter rejected its VM configuration)');
      }
      this.configuring = true;
      try {
        // The C++ SDK exports a validation hook; Envoy runs it before configuring.
        if (e.proxy_validate_configuration && !vm.call(this.root, 'proxy_validate_configuration', e.proxy_validate_configuration, id, this.config.configuration.length)) {
          throw new PluginStartError(this.config.name, 'proxy_validate_configuration returned false (the filter rejected its configuration)');
        }
        if (e.proxy_on_configure && !vm.call(this.root, 'proxy_on_configure', e.proxy_on_configure, id, this.config.configuration.length)) {
          throw new PluginStartError(this.config.name, 'proxy_on_configure returned false (the filter rejected its configuration)');
        }
      } finally {
        this.configuring = false;
      }
    } catch (err) {
      if (err instanceof GuestTrap) throw new PluginStartError(this.config.name, err.message);
      throw err;
    }
  }

  get alive(): boolean {
    return this.vm.failure === null && !this.#stopped;
  }

  /** A new stream context; on_context_create runs now. Throws GuestTrap if the VM is dead. */
  createStream(host: StreamHost): StreamContext {
    const ctx = this.newStream(host);
    this.vm.createStream(ctx, this.root.id);
    return ctx;
  }

  /**
   * A new stream context whose on_context_create has not run yet: the caller runs it with
   * Vm.createStream, together with the context's first callback.
   */
  newStream(host: StreamHost): StreamContext {
    const vm = this.vm;
    const ctx = new StreamContext(vm, this, vm.nextContextId(), host);
    vm.contexts.addStream(ctx);
    return ctx;
  }

  /**
   * Ends a stream context: on_log, on_done, on_delete, once each, in Envoy's order. Safe to call
   * on a dead VM (the guest is simply not called).
   */
  finishStream(ctx: StreamContext): void {
    if (ctx.deleted) return;
    ctx.deleted = true;
    const vm = this.vm;
    try {
      if (vm.failure === null) vm.endStream(ctx);
    } catch (err) {
      if (!(err instanceof GuestTrap)) throw err;
      // The VM is now failed and logged; later requests get a fresh one.
    } finally {
      vm.contexts.delete(ctx);
    }
  }

  /**
   * Delivers a root-level callback (on_queue_ready, gRPC callbacks, foreign-function results)
   * to this plugin's root context. Returns false when the plugin is gone, the guest does not
   * export the callback, or it trapped (the VM is then failed and logged).
   */
  callRoot(name: RootCallback, a = 0, b = 0, c = 0, d = 0): boolean {
    if (!this.alive) return false;
    const fn = this.vm.exports[name];
    if (fn === undefined) return false;
    try {
      this.vm.call(this.root, name, fn, this.root.id, a, b, c, d);
      return true;
    } catch (err) {
      if (err instanceof GuestTrap) return false;
      throw err;
    }
  }

  /** Registers cleanup to run when the plugin stops (cancel timers, release queues, ...). */
  onStop(cleanup: () => void): void {
    this.#cleanups.push(cleanup);
  }

  // ---- ticks -----------------------------------------------------------------------------

  setTickPeriod(ms: number): void {
    this.#tickPeriodMs = ms;
    if (this.#tickTimer !== null) clearTimeout(this.#tickTimer);
    this.#tickTimer = null;
    this.#armTick();
  }

  #armTick(): void {
    if (this.#tickPeriodMs === 0 || this.#stopped || this.vm.exports.proxy_on_tick === undefined) return;
    this.#tickTimer = setTimeout(() => this.#tick(), Math.min(this.#tickPeriodMs, MAX_TIMER_MS));
    this.#tickTimer.unref();
  }

  #tick(): void {
    this.#tickTimer = null;
    if (!this.alive) return;
    const onTick = this.vm.exports.proxy_on_tick!;
    try {
      this.vm.call(this.root, 'proxy_on_tick', onTick, this.root.id);
    } catch (err) {
      if (err instanceof GuestTrap) return;
      throw err;
    }
    // Re-armed after the tick completes, so ticks never overlap (Envoy does the same).
    if (this.#tickTimer === null) this.#armTick();
  }

  // ---- http calls ------------------------------------------------------------------------

  /** Dispatches an http_call owned by the root context; writes nothing, returns status+token. */
  httpCall(request: HttpCallRequest): { status: Status; token: number; reason?: string } {
    const bytes = requestBytes(request);
    if (this.#calls.size >= MAX_PENDING_HTTP_CALLS || this.#callBytes + bytes > MAX_PENDING_HTTP_CALL_BYTES) {
      return { status: Status.BAD_ARGUMENT, token: 0, reason: TOO_MANY_CALLS };
    }
    const token = this.vm.nextToken(CalloutKind.HTTP_CALL);
    let settled = false;
    const started = this.services.httpCall(request, (result) => {
      settled = true;
      const pending = this.#calls.get(token);
      if (pending !== undefined) {
        this.#calls.delete(token);
        this.#callBytes -= pending.bytes;
      }
      // Completions arrive on a fresh tick, but defer anyway so a synchronous failure path
      // in the embedding can never re-enter the guest.
      defer(() => this.#deliverCallResult(token, result));
    });
    if (typeof started === 'string') return { status: Status.BAD_ARGUMENT, token: 0, reason: started };
    // A call the embedding completed at once is not outstanding.
    if (!settled) {
      this.#calls.set(token, { cancel: started, bytes });
      this.#callBytes += bytes;
    }
    return { status: Status.OK, token };
  }

  #deliverCallResult(token: number, result: HttpCallResponse | Error): void {
    if (!this.alive) return;
    const onResponse = this.vm.exports.proxy_on_http_call_response;
    if (onResponse === undefined) return;
    const root = this.root;
    let counts: [number, number, number];
    if (result instanceof Error) {
      this.logger.debug({ token, err: result.message }, 'http_call failed');
      root.status = { code: Status.BROKEN_CONNECTION, message: 'reset' };
      root.callResult = { headers: new HeaderMap(), body: new BodyBuffer(), trailers: new HeaderMap() };
      counts = [0, 0, 0];
    } else {
      const headers = HeaderMap.fromPairs(result.headers);
      const trailers = HeaderMap.fromPairs(result.trailers);
      root.status = { code: Status.OK, message: '' };
      root.callResult = { headers, body: new BodyBuffer(result.body), trailers };
      counts = [headers.size, result.body.length, trailers.size];
    }
    try {
      this.vm.call(root, 'proxy_on_http_call_response', onResponse, root.id, token, counts[0], counts[1], counts[2]);
    } catch (err) {
      if (!(err instanceof GuestTrap)) throw err;
    } finally {
      root.callResult = null;
      root.status = { code: Status.OK, message: '' };
    }
  }

  /** The response being delivered right now, for maps 6/7 and buffer 4. */
  get callResult(): HttpCallResult | null {
    return this.root.callResult;
  }

  // ---- shutdown --------------------------------------------------------------------------

  /** Stops ticks and cancels calls; asks the guest to finish the root context. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#tickTimer !== null) clearTimeout(this.#tickTimer);
    for (const call of this.#calls.values()) call.cancel();
    this.#calls.clear();
    this.#callBytes = 0;
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
    const vm = this.vm;
    const e = vm.exports;
    if (vm.failure !== null) return;
    try {
      const done = e.proxy_on_done ? vm.call(this.root, 'proxy_on_done', e.proxy_on_done, this.root.id) : 1;
      if (done) this.deleteRoot();
      else this.root.pendingDone = true;
    } catch (err) {
      if (!(err instanceof GuestTrap)) throw err;
    }
  }

  /** on_delete for the root context (after on_done said yes, or after proxy_done). */
  deleteRoot(): void {
    this.root.pendingDone = false;
    const e = this.vm.exports;
    try {
      if (e.proxy_on_delete && this.vm.failure === null) this.vm.call(this.root, 'proxy_on_delete', e.proxy_on_delete, this.root.id);
    } catch (err) {
      if (!(err instanceof GuestTrap)) throw err;
    } finally {
      this.vm.contexts.delete(this.root);
    }
  }
}

export type { HttpCallResult };
