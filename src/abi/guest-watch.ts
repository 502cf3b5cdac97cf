// Which filter's guest code a thread is running, readable by another thread. A guest stuck in
// a loop blocks its thread for good (V8 cannot interrupt Wasm and carry on), so the supervisor
// must see from outside both that the thread is stuck and in which filter: it then replaces
// the thread and takes that filter out of service for a while (supervisor.ts).
//
// One Int32 per thread: the running VM's watch id (its first filter's index in the
// configuration, plus one), 0 outside guest code. Plain stores: the reader samples it after
// seconds of silence, when the value has long been visible.

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
