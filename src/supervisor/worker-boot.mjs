// @ts-check
// A worker thread's first module: it pins the shape of Node's tick objects (below), then loads
// the proxy, from the URL the supervisor passes as workerData.entry (worker-thread.ts). Plain
// JavaScript, like bundles.mjs: it runs before anything could strip types.

import { createHook } from 'node:async_hooks';
import { workerData } from 'node:worker_threads';

/** One of Node's tick objects, held for the life of the thread. @type {object | null} */
let pinnedTick = null;

/**
 * Keeps one object made by `process.nextTick` alive, and with it the chain of maps (hidden
 * classes) its object literal passes through. That literal starts with computed keys, and V8's
 * feedback for defining a computed key is monomorphic or megamorphic, nothing in between; it
 * holds the map weakly. A full GC at a moment when no tick object is alive frees the maps, the
 * next tick builds new ones, and the feedback turns megamorphic for good: from then on every
 * `nextTick` (several per request) defines four of its five properties through V8's runtime.
 * A worker meets that GC while it loads the proxy, so without the pin most workers served
 * ~15 % slower (docs/RATIONALE.md, "Node's tick objects, pinned").
 */
function pinTickObjectShape() {
  const hook = createHook({
    init(_asyncId, type, _triggerAsyncId, resource) {
      if (type === 'TickObject' && pinnedTick === null) pinnedTick = resource;
    },
  });
  hook.enable();
  process.nextTick(() => {});
  hook.disable();
}

pinTickObjectShape();
await import(workerData.entry);
