// Assembles a VM's import object with lenient linking: every function import is satisfied.
// Known names get their implementation; names sluice does not implement (yet), and names it has
// never heard of, get a stub that traps only when called, naming itself. Modules built for any
// ABI version therefore always link, and a missing capability shows up as a clear trap.

import { UnimplementedHostCall } from './errors.ts';
import { bufferImports } from './hostcalls/buffers.ts';
import { foreignFunctionImports } from './hostcalls/foreign-functions.ts';
import { grpcImports } from './hostcalls/grpc.ts';
import { headerMapImports } from './hostcalls/header-maps.ts';
import { httpCallImports } from './hostcalls/http-call.ts';
import { loggingImports, writeGuestLog } from './hostcalls/logging.ts';
import { metricsImports } from './hostcalls/metrics.ts';
import { propertyImports } from './hostcalls/properties.ts';
import { sharedDataImports } from './hostcalls/shared-data.ts';
import { sharedQueueImports } from './hostcalls/shared-queues.ts';
import { streamControlImports } from './hostcalls/stream-control.ts';
import { ModuleLoadError } from './errors.ts';
import { createWasiImports, WASI_FUNCTION_NAMES } from './wasi.ts';
import type { Vm } from './vm.ts';

type HostFunction = (...args: any[]) => unknown;

/** Every proxy_* name of ABI 0.1.0, 0.2.0, 0.2.1 and the vNEXT drafts (for `inspect` too). */
export const PROXY_FUNCTION_NAMES: readonly string[] = [
  'proxy_log', 'proxy_get_log_level', 'proxy_get_current_time_nanoseconds', 'proxy_set_tick_period_milliseconds',
  'proxy_set_effective_context', 'proxy_done', 'proxy_call_foreign_function',
  'proxy_get_buffer_bytes', 'proxy_set_buffer_bytes', 'proxy_get_buffer_status',
  'proxy_get_header_map_pairs', 'proxy_set_header_map_pairs', 'proxy_get_header_map_value',
  'proxy_add_header_map_value', 'proxy_replace_header_map_value', 'proxy_remove_header_map_value',
  'proxy_get_header_map_size', 'proxy_get_property', 'proxy_set_property',
  'proxy_get_shared_data', 'proxy_set_shared_data', 'proxy_register_shared_queue', 'proxy_resolve_shared_queue',
  'proxy_dequeue_shared_queue', 'proxy_enqueue_shared_queue',
  'proxy_continue_stream', 'proxy_close_stream', 'proxy_send_local_response', 'proxy_get_status',
  'proxy_http_call', 'proxy_grpc_call', 'proxy_grpc_stream', 'proxy_grpc_send', 'proxy_grpc_cancel', 'proxy_grpc_close',
  'proxy_define_metric', 'proxy_increment_metric', 'proxy_record_metric', 'proxy_get_metric',
  // ABI 0.1.0 only
  'proxy_get_configuration', 'proxy_continue_request', 'proxy_continue_response', 'proxy_clear_route_cache',
  // vNEXT draft spellings seen in the wild
  'proxy_dispatch_http_call', 'proxy_send_http_response', 'proxy_resume_http_request', 'proxy_resume_http_response',
  'proxy_resume_downstream', 'proxy_resume_upstream', 'proxy_resume_stream', 'proxy_resume_http_stream',
  'proxy_close_http_stream', 'proxy_context_finalize', 'proxy_get_buffer', 'proxy_set_buffer',
  'proxy_get_map_values', 'proxy_set_map_values', 'proxy_open_shared_kvstore', 'proxy_get_shared_kvstore_key_values',
  'proxy_set_shared_kvstore_key_values', 'proxy_add_shared_kvstore_key_values', 'proxy_remove_shared_kvstore_key',
  'proxy_delete_shared_kvstore', 'proxy_open_shared_queue', 'proxy_dequeue_shared_queue_item',
  'proxy_enqueue_shared_queue_item', 'proxy_create_timer', 'proxy_delete_timer', 'proxy_create_metric',
  'proxy_get_metric_value', 'proxy_set_metric_value', 'proxy_increment_metric_value', 'proxy_delete_metric',
  'proxy_dispatch_grpc_call', 'proxy_open_grpc_stream', 'proxy_send_grpc_stream_message', 'proxy_cancel_grpc_call',
  'proxy_close_grpc_call', 'proxy_call_custom_function',
];

export const WASI_MODULES = ['wasi_snapshot_preview1', 'wasi_unstable'] as const;

/**
 * The `env` names envImports() provides, known without a VM (for `sluice inspect`). Keep it in
 * step with envImports(): test/abi/implemented-imports.test.ts compares the two.
 */
export const IMPLEMENTED_ENV_FUNCTIONS: readonly string[] = [
  // logging.ts
  'proxy_log', 'proxy_get_log_level', 'proxy_get_current_time_nanoseconds',
  // buffers.ts
  'proxy_get_buffer_bytes', 'proxy_set_buffer_bytes', 'proxy_get_buffer_status', 'proxy_get_configuration',
  // header-maps.ts
  'proxy_get_header_map_pairs', 'proxy_set_header_map_pairs', 'proxy_get_header_map_value', 'proxy_add_header_map_value',
  'proxy_replace_header_map_value', 'proxy_remove_header_map_value', 'proxy_get_header_map_size',
  // properties.ts
  'proxy_get_property', 'proxy_set_property',
  // stream-control.ts
  'proxy_continue_stream', 'proxy_continue_request', 'proxy_continue_response', 'proxy_clear_route_cache', 'proxy_close_stream',
  'proxy_send_local_response', 'proxy_get_status', 'proxy_set_effective_context', 'proxy_done', 'proxy_set_tick_period_milliseconds',
  // http-call.ts
  'proxy_http_call', 'proxy_dispatch_http_call',
  // grpc.ts
  'proxy_grpc_call', 'proxy_grpc_stream', 'proxy_grpc_send', 'proxy_grpc_cancel', 'proxy_grpc_close',
  // foreign-functions.ts
  'proxy_call_foreign_function',
  // metrics.ts
  'proxy_define_metric', 'proxy_increment_metric', 'proxy_record_metric', 'proxy_get_metric',
  // shared-data.ts, shared-queues.ts
  'proxy_get_shared_data', 'proxy_set_shared_data',
  'proxy_register_shared_queue', 'proxy_resolve_shared_queue', 'proxy_enqueue_shared_queue', 'proxy_dequeue_shared_queue',
  // non-proxy names toolchains import (below)
  'emscripten_notify_memory_growth', 'pthread_equal', 'abort',
];

/** Whether sluice implements an import; anything else links to a stub that traps when called. */
export function isImplemented(module: string, name: string): boolean {
  if (module === 'env') return IMPLEMENTED_ENV_FUNCTIONS.includes(name);
  return (WASI_MODULES as readonly string[]).includes(module) && WASI_FUNCTION_NAMES.includes(name);
}

/** Why a module cannot be linked (it imports something other than a function), or null. */
export function linkProblem(imports: readonly WebAssembly.ModuleImportDescriptor[]): string | null {
  const bad = imports.find((i) => i.kind !== 'function');
  return bad === undefined ? null : `imports a ${bad.kind} '${bad.module}.${bad.name}', which sluice does not provide`;
}

/** The `env` functions sluice implements for this VM (names listed in IMPLEMENTED_ENV_FUNCTIONS). */
export function envImports(vm: Vm): Record<string, HostFunction> {
  return {
    ...loggingImports(vm),
    ...bufferImports(vm),
    ...headerMapImports(vm),
    ...propertyImports(vm),
    ...streamControlImports(vm),
    ...httpCallImports(vm),
    ...grpcImports(vm),
    ...foreignFunctionImports(vm),
    ...metricsImports(vm),
    ...sharedDataImports(vm),
    ...sharedQueueImports(vm),
    // Emscripten STANDALONE_WASM modules with memory growth import this notification.
    emscripten_notify_memory_growth: () => {},
    pthread_equal: (a: number, b: number) => (a === b ? 1 : 0),
    // AssemblyScript's default abort(msg, file, line, col): a trap with the guest's message.
    abort: (msgPtr: number, filePtr: number, line: number, col: number) => {
      throw new Error(`abort: ${readAsString(vm, msgPtr)} at ${readAsString(vm, filePtr)}:${line}:${col}`);
    },
  };
}

export function buildImports(vm: Vm): WebAssembly.Imports {
  const env = envImports(vm);
  const wasi = createWasiImports({
    memory: vm.memory,
    environ: vm.options.environ,
    log: (level, message) => writeGuestLog(vm, vm.context()?.id ?? 0, level, message, vm.context()?.logger),
  }) as Record<string, HostFunction>;
  const problem = linkProblem(vm.module.imports);
  if (problem !== null) throw new ModuleLoadError(vm.module.file, problem);
  const imports: Record<string, Record<string, HostFunction>> = {};
  for (const { module, name } of vm.module.imports) {
    const table = module === 'env' ? env : (WASI_MODULES as readonly string[]).includes(module) ? wasi : undefined;
    const fn = table?.[name] ?? unimplemented(module, name);
    (imports[module] ??= {})[name] = fn;
  }
  return imports;
}

function unimplemented(module: string, name: string): HostFunction {
  return () => {
    throw new UnimplementedHostCall(module, name);
  };
}

/** AssemblyScript strings: UTF-16LE with the byte length stored just before the pointer. */
function readAsString(vm: Vm, ptr: number): string {
  const mem = vm.memory;
  mem.refresh();
  const len = ptr >>> 0 >= 4 ? mem.readU32((ptr >>> 0) - 4) : undefined;
  const bytes = len === undefined ? null : mem.slice(ptr, len);
  return bytes === null ? '?' : Buffer.from(bytes).toString('utf16le');
}
