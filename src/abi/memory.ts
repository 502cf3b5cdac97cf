// Bounds-checked access to a guest's linear memory. Every accessor reports failure instead of
// throwing, so host functions can turn a bad guest pointer into INVALID_MEMORY_ACCESS.
//
// Views go stale when the guest grows its memory (the old ArrayBuffer is detached). `refresh()`
// compares the cached buffer with `memory.buffer` and rebuilds the views only when it changed;
// call it at the top of every host function and after every call into the guest (the allocator
// may grow memory). Never keep a `slice()` across a guest call.

import { latin1Of, SHORT_WRITE } from './latin1.ts';
import { Status } from './types.ts';

export class GuestMemory {
  #memory: WebAssembly.Memory | null = null;
  #buffer: ArrayBufferLike | null = null;
  /** Shared memories grow in place without detaching, so their views must always be checked. */
  #shared = false;
  /** Byte view over the whole memory; valid until the next refresh that sees growth. */
  bytes: Buffer = Buffer.alloc(0);
  view: DataView = new DataView(new ArrayBuffer(0));
  /** Calls the guest allocator; returns 0 on failure. Set by the VM once exports are known. */
  allocate: (size: number) => number = () => 0;

  attach(memory: WebAssembly.Memory): void {
    this.#memory = memory;
    this.#buffer = null;
    this.#shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    this.refresh();
  }

  refresh(): void {
    // Growth detaches the old ArrayBuffer, and views over a detached buffer have length 0: a
    // non-empty view is therefore current, without calling the (slower) memory.buffer getter.
    if (this.bytes.length !== 0 && !this.#shared) return;
    const memory = this.#memory;
    if (memory === null || memory.buffer === this.#buffer) return;
    this.#buffer = memory.buffer;
    this.bytes = Buffer.from(memory.buffer as ArrayBuffer);
    this.view = new DataView(memory.buffer);
  }

  get byteLength(): number {
    return this.bytes.length;
  }

  /** True when [ptr, ptr+len) lies inside memory. Arguments are raw i32 values from the guest. */
  inBounds(ptr: number, len: number): boolean {
    return (ptr >>> 0) + (len >>> 0) <= this.bytes.length;
  }

  /** A view of guest bytes (no copy), or null when out of bounds. Stale after a guest call. */
  slice(ptr: number, len: number): Buffer | null {
    const p = ptr >>> 0;
    const end = p + (len >>> 0);
    if (end > this.bytes.length) return null;
    return this.bytes.subarray(p, end);
  }

  /** A copy of guest bytes that survives guest calls, or null when out of bounds. */
  copy(ptr: number, len: number): Buffer | null {
    const view = this.slice(ptr, len);
    return view === null ? null : Buffer.from(view);
  }

  /** Bytes as a latin1 string (one char per byte, so header bytes survive unchanged). */
  latin1(ptr: number, len: number): string | null {
    const p = ptr >>> 0;
    const n = len >>> 0;
    if (p + n > this.bytes.length) return null;
    return latin1Of(this.bytes, p, p + n);
  }

  utf8(ptr: number, len: number): string | null {
    const p = ptr >>> 0;
    const end = p + (len >>> 0);
    if (end > this.bytes.length) return null;
    return this.bytes.utf8Slice(p, end);
  }

  readU32(ptr: number): number | undefined {
    const p = ptr >>> 0;
    if (p + 4 > this.bytes.length) return undefined;
    return this.view.getUint32(p, true);
  }

  writeU32(ptr: number, value: number): boolean {
    const p = ptr >>> 0;
    if (p + 4 > this.bytes.length) return false;
    this.view.setUint32(p, value >>> 0, true);
    return true;
  }

  writeU64(ptr: number, value: bigint): boolean {
    const p = ptr >>> 0;
    if (p + 8 > this.bytes.length) return false;
    this.view.setBigUint64(p, BigInt.asUintN(64, value), true);
    return true;
  }

  writeBytes(ptr: number, data: Uint8Array): boolean {
    const p = ptr >>> 0;
    if (p + data.length > this.bytes.length) return false;
    this.bytes.set(data, p);
    return true;
  }

  /**
   * Hands bytes to the guest through its allocator and writes (ptr, size) to the two out
   * pointers. A zero-length value never calls the allocator: it is reported as (0, 0).
   */
  copyOut(data: Uint8Array, dataPtrPtr: number, sizePtr: number): Status {
    const ptr = this.#reserveOut(data.length, dataPtrPtr, sizePtr);
    if (ptr > 0) this.bytes.set(data, ptr);
    return ptr < 0 ? Status.INVALID_MEMORY_ACCESS : Status.OK;
  }

  /** `copyOut` for a latin1 string, encoded straight into guest memory. */
  copyOutLatin1(value: string, dataPtrPtr: number, sizePtr: number): Status {
    const len = value.length;
    const ptr = this.#reserveOut(len, dataPtrPtr, sizePtr);
    if (ptr <= 0) return ptr < 0 ? Status.INVALID_MEMORY_ACCESS : Status.OK;
    if (len > SHORT_WRITE) {
      this.bytes.latin1Write(value, ptr, len);
    } else {
      const bytes = this.bytes;
      for (let i = 0; i < len; i++) bytes[ptr + i] = value.charCodeAt(i);
    }
    return Status.OK;
  }

  /**
   * The guest address to copy `len` bytes to, already written to the out pointers: 0 for an
   * empty value (nothing allocated, (0, 0) written), -1 when a pointer is bad or allocation failed.
   */
  #reserveOut(len: number, dataPtrPtr: number, sizePtr: number): number {
    if (!this.inBounds(dataPtrPtr, 4) || !this.inBounds(sizePtr, 4)) return -1;
    const ptr = len === 0 ? 0 : this.#allocateFor(len);
    if (len !== 0 && ptr === 0) return -1;
    // The out pointers were checked before the allocator ran, and memory only grows: written
    // through the view without writeU32's second bounds check.
    const view = this.view;
    view.setUint32(dataPtrPtr >>> 0, ptr, true);
    view.setUint32(sizePtr >>> 0, len, true);
    return ptr;
  }

  /** Allocates `len` bytes in the guest; 0 when the allocator fails or answers out of bounds. */
  #allocateFor(len: number): number {
    const ptr = this.allocate(len) >>> 0;
    // The allocator may have grown memory, which empties the views: refresh's own test, written
    // out so the host functions that inline this need not call it (they had no budget left to).
    if (this.bytes.length === 0 || this.#shared) this.refresh();
    if (ptr === 0 || ptr + len > this.bytes.length) return 0;
    return ptr;
  }
}
