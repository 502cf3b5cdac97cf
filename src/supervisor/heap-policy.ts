// How the workers' V8 heaps are sized. Both settings trade a little GC work for a resident set
// that stays put under steady load (docs/RATIONALE.md, "Heap sizing under load").

import { setFlagsFromString } from 'node:v8';

/**
 * Each worker's young generation: 12 MiB gives 4 MiB semi-spaces. A worker's default grows
 * them to 32 MiB under load, new space that then stays committed.
 */
export const WORKER_RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 12 } as const;

/**
 * The old generation may grow to 1.5× what survived the last full GC before the next one
 * starts. V8's own factor (up to 4× on a fresh heap) let garbage promoted by in-flight requests
 * pile up for a million requests and more before the first full GC under load.
 */
const HEAP_GROWING_PERCENT = 50;

/** Process-wide (V8 flags are): for processes sluice owns, i.e. the CLI's supervisor. */
export function applyHeapPolicy(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
