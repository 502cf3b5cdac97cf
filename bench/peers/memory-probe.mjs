// Preload for `bench:streaming --memory` (passed with NODE_OPTIONS=--import, so it runs in the
// sluice process and in each of its worker threads): every 100 ms, appends this thread's
// process.memoryUsage() to the file named by SLUICE_MEMORY_PROBE, one JSON line per sample.

import { appendFileSync } from 'node:fs';
import { isMainThread, threadId } from 'node:worker_threads';

const file = process.env.SLUICE_MEMORY_PROBE;
if (file) {
  const thread = isMainThread ? 'main' : `worker ${threadId}`;
  setInterval(() => {
    const m = process.memoryUsage();
    appendFileSync(file, `${JSON.stringify({ t: Date.now(), thread, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers })}\n`);
  }, 100).unref();
}
