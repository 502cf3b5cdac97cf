// Which filter's guest code a thread is running, readable by another thread. A guest stuck in
// a loop blocks its thread for good (V8 cannot interrupt Wasm and carry on), so the supervisor
// must see from outside both that the thread is stuck and in which filter: it then replaces
// the thread and takes that filter out of service for a while (supervisor.ts).
//
// One Int32 per thread: the index in the configuration, plus one, of the filter whose code
// runs (its plugin's, or for a VM's own start its first filter's), negated while it starts
// (start-up may do real work: it gets the watchdog's time, not a callback's); 0 outside guest
// code. Plain stores: the reader samples it after a second of silence, long after the store.

export interface GuestWatch {
  readonly running: Int32Array;
  readonly slot: number;
}

let current: GuestWatch = { running: new Int32Array(1), slot: 0 };

/** Called by a worker before it builds any VM: later VMs report into `buffer` at `slot`. */
export function reportGuestCalls(buffer: SharedArrayBuffer, slot: number): void {
  current = { running: new Int32Array(buffer), slot };
}

/** Where a VM built now reports its calls (a private array when nothing watches this thread). */
export function guestWatch(): GuestWatch {
  return current;
}
