// Creating the proxy's worker threads, and starting the first one early. A worker spends its
// first ~170 ms (slower 2-core machine) booting Node and loading the proxy's modules, and none
// of that needs the configuration: `sluice run` starts it before it even loads the
// configuration, and the supervisor hands the configuration over in the worker's `start`
// message (docs/RATIONALE.md, "What start-up loads"). This module is imported before the
// configuration code, so it imports nothing of the proxy's.

import { Worker } from 'node:worker_threads';
import { freshBundle } from '../bundles.mjs';
import { setStartupV8Flags } from './v8-flags.ts';

const WORKER_SOURCE = new URL('./worker.ts', import.meta.url);
/** What a worker runs first; it then loads the proxy from workerData.entry. */
const WORKER_BOOT = new URL('./worker-boot.mjs', import.meta.url);
/**
 * Each worker's young generation: 24 MiB gives 8 MiB semi-spaces. A worker's default grows
 * them to 32 MiB under load, new space that then stays committed (docs/RATIONALE.md, "Heap
 * sizing under load").
 */
const WORKER_RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 24 } as const;

/** Where a worker loads the proxy from: build/worker/ while it matches the sources (src/bundles.mjs), else the sources. */
function workerEntry(): URL {
  return freshBundle('worker') ?? WORKER_SOURCE;
}

/** Which code the workers run, for the logs: the bundle or the sources. */
export function workerCode(): 'bundle' | 'sources' {
  return workerEntry() === WORKER_SOURCE ? 'sources' : 'bundle';
}

/** A new worker thread: it loads the proxy, then waits for its `start` message. */
export function newWorker(): Worker {
  setStartupV8Flags();
  return new Worker(WORKER_BOOT, { workerData: { entry: workerEntry().href }, resourceLimits: WORKER_RESOURCE_LIMITS });
}

interface EarlyWorker {
  worker: Worker;
  failed: boolean;
  onFailure: () => void;
}

let early: EarlyWorker | null = null;

/**
 * Starts a worker now, for the supervisor's first slot. Until it is taken it does not keep the
 * process alive (an invalid configuration exits at once), and an error or exit only marks it
 * failed: nothing else listens yet, and an unheard 'error' event would throw.
 */
export function startWorkerEarly(): Worker {
  if (early !== null) return early.worker;
  const worker = newWorker();
  const entry: EarlyWorker = { worker, failed: false, onFailure: () => (entry.failed = true) };
  worker.once('error', entry.onFailure);
  worker.once('exit', entry.onFailure);
  worker.unref();
  early = entry;
  return worker;
}

/**
 * The early worker, once, if it is still alive; else null, and the caller starts a fresh one
 * (which meets whatever failed the early one, and reports it).
 */
export function takeEarlyWorker(): Worker | null {
  const entry = early;
  early = null;
  if (entry === null) return null;
  entry.worker.off('error', entry.onFailure);
  entry.worker.off('exit', entry.onFailure);
  if (entry.failed) return null;
  entry.worker.ref();
  return entry.worker;
}

/** Stops the early worker if nobody took it (the configuration was invalid, say). */
export function discardEarlyWorker(): void {
  const entry = early;
  early = null;
  if (entry === null) return;
  // Its listeners stay: an error while it stops must not go unheard.
  void entry.worker.terminate();
}
