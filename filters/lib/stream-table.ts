// The filter's live stream contexts, by context id, shared by the lifecycle exports (which
// add and remove them) and the stream-callback exports (which look them up).
//
// Not the SDK's context map: the SDK's ensureContext builds a dozen debug strings per stream
// (three of them joining every live context id) even when debug logging is off, which was most
// of what a bundled filter cost per request. Contexts are kept as addresses: the table holds
// each context's one reference (taken when it is created, given back after on_delete) and the
// callbacks borrow it. A Map<u32, Context> makes AssemblyScript retain and release the context
// around every lookup.
//
// Not a Map<u32, usize> either: with the one or two live streams a filter usually has, the
// std Map rebuilds its buckets and entries (two allocations, two frees) every fourth stream.
// This is an open-addressing table (linear probing, deletion by shifting back, so no
// tombstones): an insert allocates only when the table doubles, and a lookup is a multiply
// and a compare or two.

// Each slot is a u32 context id (0 = free: the host never uses 0 for a stream) and the
// context's address.
const SLOT_SIZE: usize = 8;
const INITIAL_BITS: u32 = 6;

class StreamTable {
  private slots: ArrayBuffer = new ArrayBuffer(<i32>((<usize>1 << INITIAL_BITS) * SLOT_SIZE));
  private bits: u32 = INITIAL_BITS;
  private mask: u32 = (1 << INITIAL_BITS) - 1;
  private count: u32 = 0;

  // Fibonacci hashing: consecutive ids (what hosts hand out) land far apart.
  // @ts-ignore: decorator
  @inline private home(id: u32): u32 {
    return (id * 0x9E3779B1) >>> (32 - this.bits);
  }

  // @ts-ignore: decorator
  @inline private slot(i: u32): usize {
    return changetype<usize>(this.slots) + <usize>i * SLOT_SIZE;
  }

  // The context's address, or 0 when the id is not a live stream.
  get(id: u32): usize {
    let i = this.home(id);
    while (true) {
      const key = load<u32>(this.slot(i));
      if (key == id) return load<usize>(this.slot(i), 4);
      if (key == 0) return 0;
      i = (i + 1) & this.mask;
    }
    return 0;
  }

  set(id: u32, address: usize): void {
    if ((this.count + 1) * 2 > this.mask + 1) this.grow();
    let i = this.home(id);
    while (true) {
      const key = load<u32>(this.slot(i));
      if (key == 0 || key == id) break;
      i = (i + 1) & this.mask;
    }
    if (load<u32>(this.slot(i)) == 0) this.count++;
    store<u32>(this.slot(i), id);
    store<usize>(this.slot(i), address, 4);
  }

  // Removes the id; false when it was not there.
  delete(id: u32): bool {
    let i = this.home(id);
    while (true) {
      const key = load<u32>(this.slot(i));
      if (key == id) break;
      if (key == 0) return false;
      i = (i + 1) & this.mask;
    }
    // Shift later entries of the same probe run back into the gap, unless that would move an
    // entry before its home slot.
    let j = i;
    while (true) {
      j = (j + 1) & this.mask;
      const key = load<u32>(this.slot(j));
      if (key == 0) break;
      const home = this.home(key);
      if (((j - home) & this.mask) >= ((j - i) & this.mask)) {
        store<u32>(this.slot(i), key);
        store<usize>(this.slot(i), load<usize>(this.slot(j), 4), 4);
        i = j;
      }
    }
    store<u32>(this.slot(i), 0);
    this.count--;
    return true;
  }

  private grow(): void {
    const old = this.slots;
    const oldSize = this.mask + 1;
    this.bits++;
    this.mask = (this.mask << 1) | 1;
    this.slots = new ArrayBuffer(<i32>(<usize>(this.mask + 1) * SLOT_SIZE));
    this.count = 0;
    const base = changetype<usize>(old);
    for (let k: u32 = 0; k < oldSize; k++) {
      const key = load<u32>(base + <usize>k * SLOT_SIZE);
      if (key != 0) this.set(key, load<usize>(base + <usize>k * SLOT_SIZE, 4));
    }
  }
}

export const streams = new StreamTable();

// The host only sends stream callbacks for stream contexts it created. This returns the
// address, and callers cast it where they call: a Context returned from a function (even an
// inlined one) would be retained for the call and released after it.
// @ts-ignore: decorator
@inline export function stream(context_id: u32): usize {
  return streams.get(context_id);
}
