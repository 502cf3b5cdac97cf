// Preload for `bench:streaming --memory` (passed with NODE_OPTIONS=--import, so it runs in the
// sluice process and in each of its worker threads): every 100 ms, appends this thread's
// process.memoryUsage() to the file named by SLUICE_MEMORY_PROBE, one JSON line per sample.
// With --expose-gc and SLUICE_MEMORY_PROBE_GC naming a file: when the number in that file goes
// up, the thread runs a full GC and appends {fullGc, heapUsedAfterGc}. The heap that survives
// a full GC is what a leak would grow; RSS also holds garbage V8 has not collected yet.

import { appendFileSync, readFileSync } from 'node:fs';
import { isMainThread, threadId } from 'node:worker_threads';

const file = process.env.SLUICE_MEMORY_PROBE;
const trigger = process.env.SLUICE_MEMORY_PROBE_GC;
if (file) {
  const thread = isMainThread ? 'main' : `worker ${threadId}`;
  let gcsDone = 0;
  setInterval(() => {
    const m = process.memoryUsage();
    appendFileSync(file, `${JSON.stringify({ t: Date.now(), thread, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers })}\n`);
    if (!trigger || typeof globalThis.gc !== 'function') return;
    let asked = 0;
    try {
      asked = Number(readFileSync(trigger, 'utf8')) || 0;
    } catch {
      return; // not asked yet
    }
    if (asked <= gcsDone) return;
    gcsDone = asked;
    globalThis.gc();
    appendFileSync(file, `${JSON.stringify({ t: Date.now(), thread, fullGc: asked, heapUsedAfterGc: process.memoryUsage().heapUsed })}\n`);
  }, 100).unref();
}
