// The Proxy-Wasm exports every bundled filter needs: context creation and deletion, the
// root-context callbacks and malloc/free. A filter then exports the stream callbacks its
// context implements, one `export * from "../lib/callbacks/<name>"` each, so the host skips the
// rest (a missing export is a Continue, as in Envoy): each callback the host does not make saves
// a guest call per request. abi.ts exports everything, for test filters that want the whole set.
//
// Why not the SDK's exports as they are: its per-stream callbacks look the context up with
// `context_map.get(id) as Context`, and AssemblyScript 0.17 retains the result of that checked
// downcast once more without ever releasing it. Every callback thus leaks a reference to the
// stream context, so no stream context is ever freed (about 40 bytes per request, forever).
// The callbacks that run per request are re-implemented here and in callbacks/ with a lookup
// that keeps the reference count balanced; the rest are the SDK's own.
import { Context, RootContext } from "@solo-io/proxy-runtime";
import { ensureRootContext, getBaseContext } from "@solo-io/proxy-runtime/runtime";
import { proxy_on_delete as sdk_on_delete } from "@solo-io/proxy-runtime/exports";
import { stream, streams } from "./stream-table";
import { RecycledContext, recycledContexts } from "./stream";

// Keep this the first function compiled: a filter exports this file before its callbacks, and
// with `export *` for each (AssemblyScript compiles named re-exports before `export *` ones).
// AssemblyScript 0.17 builds each virtual-dispatch stub (onRequestHeaders, ...) only from the
// classes it has seen when the stub is finalized, and stubs are finalized in the order their
// first call sites were compiled. The filter's stream class is first seen while compiling its
// root's createContext, reached from here; if the stream callbacks were compiled first, their
// stubs would silently dispatch to the no-op base Context methods.
export function proxy_on_context_create(context_id: u32, root_context_id: u32): void {
  if (root_context_id == 0) {
    ensureRootContext(context_id);
    return;
  }
  if (root_context_id != cachedRootId) useRoot(root_context_id);
  const recycled = recycledContexts.take();
  if (recycled == 0) {
    // Compiled before the reset() call below, so reset's dispatch knows the stream class.
    const ctx = changetype<RootContext>(cachedRoot).createContext(context_id);
    streams.set(context_id, __retain(changetype<usize>(ctx)));
    return;
  }
  changetype<Context>(recycled).context_id = context_id;
  changetype<RecycledContext>(recycled).reset();
  streams.set(context_id, recycled); // the reference the recycler held
}

// The root context streams were last created for, as a plain address (the SDK's context map
// keeps it alive): looked up once, not per stream, and not retained and released around every
// creation. Context ids are never reused; the cache is dropped when that root is deleted.
let cachedRootId: u32 = 0;
let cachedRoot: usize = 0;

function useRoot(root_context_id: u32): void {
  recycledContexts.clear(); // they belong to the previous root
  cachedRoot = changetype<usize>(getBaseContext(root_context_id));
  cachedRootId = root_context_id;
}

export { malloc } from "./host-buffers";
export { free } from "@solo-io/proxy-runtime/malloc";
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

// The host delivers http_call answers to the root context that dispatched the call.
export function proxy_on_http_call_response(context_id: u32, token: u32, headers: u32, body_size: u32, trailers: u32): void {
  changetype<RootContext>(getBaseContext(context_id)).onHttpCallResponse(token, headers, body_size, trailers);
}

// Frees the stream context: the table's reference is the last one unless an outstanding
// http_call still holds its origin.
export function proxy_on_delete(context_id: u32): void {
  const ctx = stream(context_id);
  if (ctx != 0) {
    changetype<Context>(ctx).onDelete();
    streams.delete(context_id);
    if (!recycledContexts.keep(ctx, cachedRoot)) __release(ctx);
    return;
  }
  if (context_id == cachedRootId) {
    recycledContexts.clear();
    cachedRootId = 0;
    cachedRoot = 0;
  }
  sdk_on_delete(context_id);
}
