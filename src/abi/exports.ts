// The guest's callbacks, looked up once after instantiation. A missing stream callback means
// "continue"; missing lifecycle callbacks are skipped.

type Fn = (...args: number[]) => number;

/** The per-stream callbacks, in the order of `GuestExports.streamCallbacks`. */
export const StreamCallback = {
  REQUEST_HEADERS: 0,
  REQUEST_BODY: 1,
  REQUEST_TRAILERS: 2,
  RESPONSE_HEADERS: 3,
  RESPONSE_BODY: 4,
  RESPONSE_TRAILERS: 5,
} as const;
export type StreamCallback = (typeof StreamCallback)[keyof typeof StreamCallback];

/**
 * The largest value each stream callback may return, in StreamCallback order: headers
 * FilterHeadersStatus (0–4), body FilterDataStatus (0–3), trailers FilterTrailersStatus (0–1).
 */
export const LAST_ACTION_VALUE: readonly number[] = [4, 3, 1, 4, 3, 1];

export const STREAM_CALLBACK_NAMES = [
  'proxy_on_request_headers',
  'proxy_on_request_body',
  'proxy_on_request_trailers',
  'proxy_on_response_headers',
  'proxy_on_response_body',
  'proxy_on_response_trailers',
] as const;

/** Every export sluice may call besides the allocator (also listed by `sluice inspect`). */
export const CALLBACKS = [
  '_initialize',
  '_start',
  'main',
  '__main_void',
  'proxy_on_context_create',
  'proxy_on_vm_start',
  'proxy_validate_configuration',
  'proxy_on_configure',
  'proxy_on_tick',
  'proxy_on_queue_ready',
  'proxy_on_foreign_function',
  ...STREAM_CALLBACK_NAMES,
  'proxy_on_http_call_response',
  'proxy_on_grpc_receive_initial_metadata',
  'proxy_on_grpc_receive',
  'proxy_on_grpc_receive_trailing_metadata',
  'proxy_on_grpc_close',
  'proxy_on_log',
  'proxy_on_done',
  'proxy_on_delete',
] as const;

export function readExports(instance: WebAssembly.Instance): GuestExports | string {
  const raw = instance.exports;
  const memory = raw['memory'];
  if (!(memory instanceof WebAssembly.Memory)) return 'the module does not export its memory as "memory"';
  return new GuestExports(memory, raw);
}

// A class with every field assigned in one constructor: one hidden class for every VM, so the
// per-request loads (`exports.proxy_on_log`, ...) are plain field loads. The object this
// replaced got its 25 properties by computed name, which left it in dictionary mode: measured
// with callgrind, every such load went through V8's generic LoadIC (~100 instructions each).
export class GuestExports {
  readonly memory: WebAssembly.Memory;
  readonly allocate: Fn | undefined;
  readonly _initialize: Fn | undefined;
  readonly _start: Fn | undefined;
  readonly main: Fn | undefined;
  readonly __main_void: Fn | undefined;
  readonly proxy_on_context_create: Fn | undefined;
  readonly proxy_on_vm_start: Fn | undefined;
  readonly proxy_validate_configuration: Fn | undefined;
  readonly proxy_on_configure: Fn | undefined;
  readonly proxy_on_tick: Fn | undefined;
  readonly proxy_on_queue_ready: Fn | undefined;
  readonly proxy_on_foreign_function: Fn | undefined;
  readonly proxy_on_request_headers: Fn | undefined;
  readonly proxy_on_request_body: Fn | undefined;
  readonly proxy_on_request_trailers: Fn | undefined;
  readonly proxy_on_response_headers: Fn | undefined;
  readonly proxy_on_response_body: Fn | undefined;
  readonly proxy_on_response_trailers: Fn | undefined;
  readonly proxy_on_http_call_response: Fn | undefined;
  readonly proxy_on_grpc_receive_initial_metadata: Fn | undefined;
  readonly proxy_on_grpc_receive: Fn | undefined;
  readonly proxy_on_grpc_receive_trailing_metadata: Fn | undefined;
  readonly proxy_on_grpc_close: Fn | undefined;
  readonly proxy_on_log: Fn | undefined;
  readonly proxy_on_done: Fn | undefined;
  readonly proxy_on_delete: Fn | undefined;
  /** The six stream callbacks again, indexed by StreamCallback (no lookup by name per call). */
  readonly streamCallbacks: Array<Fn | undefined>;

  constructor(memory: WebAssembly.Memory, raw: WebAssembly.Exports) {
    const fn = (name: (typeof CALLBACKS)[number] | 'proxy_on_memory_allocate' | 'malloc'): Fn | undefined =>
      typeof raw[name] === 'function' ? (raw[name] as Fn) : undefined;
    this.memory = memory;
    // The spec's allocator first; `malloc` only in its absence (TinyGo exports a libc malloc that
    // pins memory until free(), which no SDK calls for host-provided buffers).
    this.allocate = fn('proxy_on_memory_allocate') ?? fn('malloc');
    this._initialize = fn('_initialize');
    this._start = fn('_start');
    this.main = fn('main');
    this.__main_void = fn('__main_void');
    this.proxy_on_context_create = fn('proxy_on_context_create');
    this.proxy_on_vm_start = fn('proxy_on_vm_start');
    this.proxy_validate_configuration = fn('proxy_validate_configuration');
    this.proxy_on_configure = fn('proxy_on_configure');
    this.proxy_on_tick = fn('proxy_on_tick');
    this.proxy_on_queue_ready = fn('proxy_on_queue_ready');
    this.proxy_on_foreign_function = fn('proxy_on_foreign_function');
    this.proxy_on_request_headers = fn('proxy_on_request_headers');
    this.proxy_on_request_body = fn('proxy_on_request_body');
    this.proxy_on_request_trailers = fn('proxy_on_request_trailers');
    this.proxy_on_response_headers = fn('proxy_on_response_headers');
    this.proxy_on_response_body = fn('proxy_on_response_body');
    this.proxy_on_response_trailers = fn('proxy_on_response_trailers');
    this.proxy_on_http_call_response = fn('proxy_on_http_call_response');
    this.proxy_on_grpc_receive_initial_metadata = fn('proxy_on_grpc_receive_initial_metadata');
    this.proxy_on_grpc_receive = fn('proxy_on_grpc_receive');
    this.proxy_on_grpc_receive_trailing_metadata = fn('proxy_on_grpc_receive_trailing_metadata');
    this.proxy_on_grpc_close = fn('proxy_on_grpc_close');
    this.proxy_on_log = fn('proxy_on_log');
    this.proxy_on_done = fn('proxy_on_done');
    this.proxy_on_delete = fn('proxy_on_delete');
    this.streamCallbacks = STREAM_CALLBACK_NAMES.map((name) => this[name]);
  }
}
