// The "after guest call" queue. A guest may ask for things (continue a stream, send a local
// reply, ...) from inside a host function, while its own callback, and the stream driver step
// that invoked it, are still on the stack. Acting at once would re-enter a VM or run the driver
// on half-updated state, so such actions wait here until the outermost step returns.
//
// One queue per thread, shared by every VM and stream: JS runs one thing at a time, so "a guest
// call is in progress anywhere" is the only condition that matters.

let depth = 0;
let draining = false;
const queue: Array<() => void> = [];
let onError: (err: unknown) => void = (err) => {
  console.error('sluice: deferred action failed', err);
};

export function setDeferredErrorHandler(handler: (err: unknown) => void): void {
  onError = handler;
}

/** Runs `fn` as one step; actions deferred meanwhile run when the outermost step returns. */
export function step<T>(fn: () => T): T {
  depth++;
  try {
    return fn();
  } finally {
    leaveStep();
  }
}

/** `step` without a closure, for the per-call hot path: pair every enterStep with leaveStep. */
export function enterStep(): void {
  depth++;
}

export function leaveStep(): void {
  // Most steps defer nothing: skip drain() and its shift() on an empty queue.
  if (--depth === 0 && !draining && queue.length > 0) drain();
}

/** Runs `action` now if no step is in progress, otherwise after the outermost one returns. */
export function defer(action: () => void): void {
  if (depth === 0 && !draining) {
    step(action);
    return;
  }
  queue.push(action);
}

export function inStep(): boolean {
  return depth > 0 || draining;
}

function drain(): void {
  draining = true;
  try {
    for (let action = queue.shift(); action !== undefined; action = queue.shift()) {
      try {
        depth++;
        action();
      } catch (err) {
        onError(err);
      } finally {
        depth--;
      }
    }
  } finally {
    draining = false;
  }
}
