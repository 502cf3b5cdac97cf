// The guest's callbacks, looked up once after instantiation. A missing stream callback means
// "continue"; missing lifecycle callbacks are skipped.

type Fn = (...args: number[]) => number;

export interface GuestExports {
  memory: WebAssembly.Memory;
  allocate: Fn | undefined;
  _initialize: Fn | undefined;
  _start: Fn | undefined;
  main: Fn | undefined;
  __main_void: Fn | undefined;
  proxy_on_context_create: Fn | undefined;
  proxy_on_vm_start: Fn | undefined;
  proxy_validate_configuration: Fn | undefined;
  proxy_on_configure: Fn | undefined;
  proxy_on_tick: Fn | undefined;
  proxy_on_queue_ready: Fn | undefined;
  proxy_on_foreign_function: Fn | undefined;
  proxy_on_request_headers: Fn | undefined;
  proxy_on_request_body: Fn | undefined;
  proxy_on_request_trailers: Fn | undefined;
  proxy_on_response_headers: Fn | undefined;
  proxy_on_response_body: Fn | undefined;
  proxy_on_response_trailers: Fn | undefined;
  proxy_on_http_call_response: Fn | undefined;
  proxy_on_grpc_receive_initial_metadata: Fn | undefined;
  proxy_on_grpc_receive: Fn | undefined;
  proxy_on_grpc_receive_trailing_metadata: Fn | undefined;
  proxy_on_grpc_close: Fn | undefined;
  proxy_on_log: Fn | undefined;
  proxy_on_done: Fn | undefined;
  proxy_on_delete: Fn | undefined;
  /** The six stream callbacks again, indexed by StreamCallback (no lookup by name per call). */
  streamCallbacks: Array<Fn | undefined>;
}

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
  const fn = (name: string): Fn | undefined => (typeof raw[name] === 'function' ? (raw[name] as Fn) : undefined);
  // The spec's allocator first; `malloc` only in its absence (TinyGo exports a libc malloc that
  // pins memory until free(), which no SDK calls for host-provided buffers).
  const allocate = fn('proxy_on_memory_allocate') ?? fn('malloc');
  const out = { memory, allocate } as GuestExports;
  for (const name of CALLBACKS) out[name] = fn(name);
  out.streamCallbacks = STREAM_CALLBACK_NAMES.map((name) => out[name]);
  return out;
}
