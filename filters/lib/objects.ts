// The two facts about a managed object that recycling needs, read from AssemblyScript 0.17's
// object header (pinned in package.json; the bundled-filter tests exercise both).
import { OBJECT, TOTAL_OVERHEAD } from "rt/common";
import { REFCOUNT_MASK } from "rt/pure";

// How many references the object has: 1 means the caller's is the only one.
// @ts-ignore: decorator
@inline export function referenceCount(address: usize): u32 {
  return changetype<OBJECT>(address - TOTAL_OVERHEAD).gcInfo & REFCOUNT_MASK;
}

// Sets an ArrayBuffer's byteLength (its runtime size), at most the size it was allocated with.
// @ts-ignore: decorator
@inline export function setByteLength(buffer: usize, length: u32): void {
  changetype<OBJECT>(buffer - TOTAL_OVERHEAD).rtSize = length;
}
