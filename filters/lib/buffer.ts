// Body/buffer access. The SDK wraps proxy_get_buffer_bytes but has no
// working setter: it never imports proxy_set_buffer_bytes (its
// proxy_set_buffer_status is even bound to the *get* status import), so the
// ABI function is declared here.
import { get_buffer_bytes, BufferTypeValues, WasmResultValues } from "@solo-io/proxy-runtime/runtime";

// @ts-ignore: decorator
@external("env", "proxy_set_buffer_bytes")
declare function proxy_set_buffer_bytes(typ: i32, start: u32, length: u32, data: usize, size: usize): u32;

// Reads `size` bytes from the start of a host buffer. A zero size never
// reaches the host: the SDK would then hand back whatever its shared
// out-pointer slot held from an earlier call.
export function readBuffer(typ: BufferTypeValues, size: u32): ArrayBuffer {
  if (size == 0) return new ArrayBuffer(0);
  return get_buffer_bytes(typ, 0, size);
}

// Replaces bytes [start, start + length) of a host buffer with `data`.
export function writeBuffer(typ: BufferTypeValues, start: u32, length: u32, data: ArrayBuffer): WasmResultValues {
  return proxy_set_buffer_bytes(typ, start, length, changetype<usize>(data), data.byteLength) as WasmResultValues;
}
