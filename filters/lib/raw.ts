// Per-request reads without reference counting. AssemblyScript 0.17 retains and releases every
// reference it loads into a local, passes along or returns (config objects, arrays, their
// elements): ~90 instructions a pair, and a short header check made seven such pairs. Hot paths
// therefore keep what they need as plain addresses, read with load<T>, and get header values
// straight from the host instead of through the SDK's ArrayBuffer wrappers.
import * as imports from "@solo-io/proxy-runtime/imports";
import { HeaderMapTypeValues, WasmResultValues } from "@solo-io/proxy-runtime/runtime";
import { Context } from "@solo-io/proxy-runtime";

// Where the host writes a value's address and length (two u32 out-pointers).
const OUT: usize = memory.data(8);

// The address of a stream context's root context, without retaining it.
// @ts-ignore: decorator
@inline export function rootAddress(ctx: usize): usize {
  return load<usize>(ctx + offsetof<Context>("root_context"));
}

// A header's value, copied by the host into memory it allocated with malloc: returns its
// address (0 when the header is absent or empty), its length is valueLength(). The caller
// frees it with freeValue once done.
export function readHeaderRaw(map: HeaderMapTypeValues, key: usize, keyLength: usize): usize {
  return takeOut(imports.proxy_get_header_map_value(map, key, keyLength, OUT, OUT + 4) as WasmResultValues);
}

// A property's value (proxy_get_property), as readHeaderRaw gives a header's: its address, 0
// when absent or empty; `path` is the NUL-joined path, encoded once by the caller.
export function readPropertyRaw(path: usize, pathLength: usize): usize {
  return takeOut(imports.proxy_get_property(path, pathLength, OUT, OUT + 4) as WasmResultValues);
}

// The value a host call left at OUT: its address, or 0 when the call failed or the value is empty.
// @ts-ignore: decorator
@inline function takeOut(result: WasmResultValues): usize {
  if (result != WasmResultValues.Ok) return 0;
  const address = load<usize>(OUT);
  if (load<u32>(OUT, 4) != 0) return address;
  freeValue(address); // a host may allocate even for an empty value
  return 0;
}

// The length of the value readHeaderRaw or readPropertyRaw returned last.
// @ts-ignore: decorator
@inline export function valueLength(): u32 {
  return load<u32>(OUT, 4);
}

// Gives back a value from readHeaderRaw (see host-buffers.ts).
export function freeValue(address: usize): void {
  if (address != 0) __release(address);
}

// A list of byte strings laid out for walking with plain loads: records of [length u32][bytes],
// each padded to 4 bytes. Built once, at configuration time.
export function encodeByteList(items: Array<ArrayBuffer>): ArrayBuffer {
  let size: usize = 0;
  for (let i = 0; i < items.length; i++) size += byteListRecordSize(<u32>items[i].byteLength);
  const list = new ArrayBuffer(<i32>size);
  let p = changetype<usize>(list);
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    store<u32>(p, item.byteLength);
    memory.copy(p + 4, changetype<usize>(item), item.byteLength);
    p += byteListRecordSize(<u32>item.byteLength);
  }
  return list;
}

// @ts-ignore: decorator
@inline export function byteListRecordSize(length: u32): usize {
  return (<usize>length + 7) & ~<usize>3;
}
