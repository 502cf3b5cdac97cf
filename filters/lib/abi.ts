// The module's Proxy-Wasm exports. Each filter's index.ts does
// `export * from "../lib/abi"` instead of the SDK's "proxy" entry point.
//
// Why not the SDK's exports as they are: its per-stream callbacks look the
// context up with `context_map.get(id) as Context`, and AssemblyScript 0.17
// retains the result of that checked downcast once more without ever
// releasing it. Every callback thus leaks a reference to the stream context,
// so no stream context is ever freed (about 40 bytes per request, forever).
// The callbacks that run per request are re-implemented here with a lookup
// that keeps the reference count balanced; the rest are the SDK's own.
import { Context, RootContext } from "@solo-io/proxy-runtime";
import { ensureRootContext, getBaseContext } from "@solo-io/proxy-runtime/runtime";
import { proxy_on_done as sdk_on_done, proxy_on_delete as sdk_on_delete } from "@solo-io/proxy-runtime/exports";

// Stream contexts live here, not in the SDK's context map: the SDK's ensureContext builds a
// dozen debug strings per stream (three of them joining every live context id) even when
// debug logging is off, which was most of what a bundled filter cost per request.
// They are kept as addresses: the map holds each context's one reference (taken when it is
// created, given back after on_delete) and the callbacks borrow it. A Map<u32, Context> makes
// AssemblyScript retain and release the context around every lookup.
const streams = new Map<u32, usize>();

// Keep this the first function in the file. AssemblyScript 0.17 builds each
// virtual-dispatch stub (onRequestHeaders, ...) only from the classes it has
// seen when the stub is finalized, and stubs are finalized in the order
// their first call sites were compiled. The filter's stream class is first
// seen while compiling its root's createContext, reached from here; if the
// stream callbacks below were compiled first, their stubs would silently
// dispatch to the no-op base Context methods.
export function proxy_on_context_create(context_id: u32, root_context_id: u32): void {
  if (root_context_id == 0) {
    ensureRootContext(context_id);
    return;
  }
  const root = changetype<RootContext>(getBaseContext(root_context_id));
  const ctx = root.createContext(context_id);
  streams.set(context_id, __retain(changetype<usize>(ctx)));
}

export { malloc, free } from "@solo-io/proxy-runtime/malloc";
export {
  proxy_abi_version_0_2_0,
  proxy_on_vm_start,
  proxy_validate_configuration,
  proxy_on_configure,
  proxy_on_tick,
  proxy_on_foreign_function,
  proxy_on_queue_ready,
  proxy_on_grpc_receive_initial_metadata,
  proxy_on_grpc_trailing_metadata,
  proxy_on_grpc_receive,
  proxy_on_grpc_close,
} from "@solo-io/proxy-runtime/exports";

// The host only sends stream callbacks for stream contexts it created. This returns the
// address, and callers cast it where they call: a Context returned from a function (even an
// inlined one) would be retained for the call and released after it.
// @ts-ignore: decorator
@inline function stream(context_id: u32): usize {
  return streams.get(context_id);
}

function root(context_id: u32): RootContext {
  const base = getBaseContext(context_id);
  return changetype<RootContext>(base);
}

export function proxy_on_request_headers(context_id: u32, headers: u32, end_of_stream: u32): i32 {
  return changetype<Context>(stream(context_id)).onRequestHeaders(headers, end_of_stream != 0);
}

export function proxy_on_request_body(context_id: u32, body_buffer_length: u32, end_of_stream: u32): i32 {
  return changetype<Context>(stream(context_id)).onRequestBody(body_buffer_length, end_of_stream != 0);
}

export function proxy_on_request_trailers(context_id: u32, trailers: u32): i32 {
  return changetype<Context>(stream(context_id)).onRequestTrailers(trailers);
}

export function proxy_on_request_metadata(context_id: u32, nelements: u32): i32 {
  return changetype<Context>(stream(context_id)).onRequestMetadata(nelements);
}

export function proxy_on_response_headers(context_id: u32, headers: u32, end_of_stream: u32): i32 {
  return changetype<Context>(stream(context_id)).onResponseHeaders(headers, end_of_stream != 0);
}

export function proxy_on_response_body(context_id: u32, body_buffer_length: u32, end_of_stream: u32): i32 {
  return changetype<Context>(stream(context_id)).onResponseBody(body_buffer_length, end_of_stream != 0);
}

export function proxy_on_response_trailers(context_id: u32, trailers: u32): i32 {
  return changetype<Context>(stream(context_id)).onResponseTrailers(trailers);
}

export function proxy_on_response_metadata(context_id: u32, nelements: u32): i32 {
  return changetype<Context>(stream(context_id)).onResponseMetadata(nelements);
}

export function proxy_on_log(context_id: u32): void {
  changetype<Context>(stream(context_id)).onLog();
}

export function proxy_on_http_call_response(context_id: u32, token: u32, headers: u32, body_size: u32, trailers: u32): void {
  root(context_id).onHttpCallResponse(token, headers, body_size, trailers);
}

export function proxy_on_done(context_id: u32): u32 {
  if (streams.has(context_id)) return changetype<Context>(stream(context_id)).onDone() ? 1 : 0;
  return sdk_on_done(context_id);
}

export function proxy_on_delete(context_id: u32): void {
  if (streams.has(context_id)) {
    const ctx = stream(context_id);
    changetype<Context>(ctx).onDelete();
    streams.delete(context_id);
    __release(ctx);
    return;
  }
  sdk_on_delete(context_id);
}
