// Header-map helpers that report failures instead of trapping. The SDK's
// replace/remove wrappers abort the whole VM (proc_exit) on any non-OK
// result, which would take every stream down with one bad header call.
//
// Header values are bytes (not necessarily UTF-8); the *Bytes variants pass
// them through untouched where a value is copied from one place to another.
import { HeaderPair } from "@solo-io/proxy-runtime";
import { get_header_map_value, HeaderMapTypeValues, WasmResultValues } from "@solo-io/proxy-runtime/runtime";
import * as imports from "@solo-io/proxy-runtime/imports";

// A header's value, or "" when absent.
export function getHeader(map: HeaderMapTypeValues, name: string): string {
  return String.UTF8.decode(getHeaderBytes(map, name));
}

// A header's raw value, empty when absent.
export function getHeaderBytes(map: HeaderMapTypeValues, name: string): ArrayBuffer {
  return get_header_map_value(map, String.UTF8.encode(name));
}

export function addHeader(map: HeaderMapTypeValues, name: string, value: string): WasmResultValues {
  const key = String.UTF8.encode(name);
  const val = String.UTF8.encode(value);
  return imports.proxy_add_header_map_value(map, changetype<usize>(key), key.byteLength,
    changetype<usize>(val), val.byteLength) as WasmResultValues;
}

// With the name already UTF-8 encoded (encode once, use on every request).
export function removeHeaderRaw(map: HeaderMapTypeValues, key: ArrayBuffer): WasmResultValues {
  return imports.proxy_remove_header_map_value(map, changetype<usize>(key), key.byteLength) as WasmResultValues;
}

export function replaceHeader(map: HeaderMapTypeValues, name: string, value: string): WasmResultValues {
  return replaceHeaderBytes(map, name, String.UTF8.encode(value));
}

export function replaceHeaderBytes(map: HeaderMapTypeValues, name: string, value: ArrayBuffer): WasmResultValues {
  const key = String.UTF8.encode(name);
  return imports.proxy_replace_header_map_value(map, changetype<usize>(key), key.byteLength,
    changetype<usize>(value), value.byteLength) as WasmResultValues;
}

export function removeHeader(map: HeaderMapTypeValues, name: string): WasmResultValues {
  const key = String.UTF8.encode(name);
  return imports.proxy_remove_header_map_value(map, changetype<usize>(key), key.byteLength) as WasmResultValues;
}

export function headerPair(name: string, value: string): HeaderPair {
  return new HeaderPair(String.UTF8.encode(name), String.UTF8.encode(value));
}

export function pairName(pair: HeaderPair): string {
  return String.UTF8.decode(pair.key);
}
