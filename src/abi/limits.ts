// Limits the host enforces on guests, in one place (values follow proxy-wasm-cpp-host's limits.h).

/** Largest linear memory a VM may grow to: memory.grow past it fails in the guest (vm.ts). */
export const MAX_WASM_MEMORY_BYTES = 1024 * 1024 * 1024;
/** A WebAssembly page. */
export const WASM_PAGE_BYTES = 64 * 1024;
/** Largest serialized header map accepted from a guest; larger is treated as malformed. */
export const MAX_PAIRS_BYTES = 1024 * 1024;
/** Most pairs accepted in one serialized map from a guest. */
export const MAX_PAIRS_COUNT = 1024;
/** Largest `random_get` request served in one call. */
export const MAX_RANDOM_BYTES = 64 * 1024;
/** Default body buffering limit when a route sets none (Envoy's per-connection default). */
export const DEFAULT_BODY_BUFFER_BYTES = 1024 * 1024;
/**
 * What proxy_set_property keeps, keys and values together: per plugin (values written from root
 * callbacks) and per stream. A write past it is dropped (property-store.ts).
 */
export const MAX_PROPERTY_BYTES = 16 * 1024 * 1024;
/**
 * http_calls one plugin may have outstanding at once, and the bytes of their requests (headers,
 * body, trailers) together: past either, proxy_http_call answers BAD_ARGUMENT. Each call holds
 * its request until answered or timed out (up to MAX_TIMER_MS); Envoy bounds the same with its
 * clusters' circuit breakers.
 */
export const MAX_PENDING_HTTP_CALLS = 10_000;
export const MAX_PENDING_HTTP_CALL_BYTES = 64 * 1024 * 1024;
/**
 * gRPC calls and streams one plugin may have open at once, and the bytes of their messages
 * handed to the transport but not yet written to the server (a stream's server may stop
 * reading): past the first, grpc_call and grpc_stream answer INTERNAL_FAILURE; past the second,
 * so does grpc_call, and grpc_send answers BAD_ARGUMENT (both within what the Rust SDK takes).
 */
export const MAX_OPEN_GRPC_CALLS = 10_000;
export const MAX_UNSENT_GRPC_BYTES = 64 * 1024 * 1024;
/** Largest http_call response body kept for the guest. */
export const MAX_HTTP_CALL_BODY_BYTES = 16 * 1024 * 1024;
/**
 * Longest delay a Node timer takes: 2^31 - 1 ms, ~24.8 days. A guest's milliseconds (the tick
 * period, http_call and gRPC timeouts) are u32, up to ~49.7 days; past this limit Node would
 * fire the timer after 1 ms (and print a warning), so longer delays wait this long instead.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;
