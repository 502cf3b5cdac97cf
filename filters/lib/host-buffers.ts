// The memory the host copies header values, bodies and properties into (malloc), as
// reference-counted ArrayBuffers: the SDK's wrappers adopt them and release them, and
// lib/raw.ts gives them back with freeValue.
//
// Most such buffers are a header value read, compared and given back within one callback.
// For those, one spare buffer is recycled instead of allocated and freed each time: the
// allocator's split and merge cost ~450 instructions a pair, ~10 % of what a bundled filter
// cost per request. The spare keeps a reference of its own, so it is free again exactly when
// every other reference is gone, whichever path released it; a buffer kept longer just
// makes the next malloc allocate.
import { referenceCount, setByteLength } from "./objects";

const SPARE_CAPACITY: u32 = 256;
let spare: usize = 0;

export function malloc(size: i32): usize {
  if (<u32>size <= SPARE_CAPACITY) {
    if (spare == 0) spare = __retain(__new(<usize>SPARE_CAPACITY, idof<ArrayBuffer>()));
    if (referenceCount(spare) == 1) {
      setByteLength(spare, <u32>size);
      return __retain(spare);
    }
  }
  // No zero-filling (the SDK's malloc does): the host overwrites every byte.
  return __retain(__new(<usize>size, idof<ArrayBuffer>()));
}
