// The V8 flags the proxy's threads run with. V8's flags are process-wide, and each is read at its
// own moment: the memory reducer's when an isolate's heap is set up, the inlining budget every
// time TurboFan optimizes a function. Both are set before a worker starts (newWorker), so they
// hold for every worker; bench:abi, which runs the host in process, sets them the same way to
// measure the code the proxy runs.

import { setFlagsFromString } from 'node:v8';

/**
 * V8's memory reducer, a few seconds after allocation stops, runs full GCs that also throw away
 * compiled code; the next burst of traffic then runs unoptimized and recompiles. Measured after
 * 40 s idle: the first 3 s of load cost 1.8× the CPU per request of the settled proxy (most of it
 * recompiling on V8's helper threads), against no change with the reducer off. A proxy's heap is
 * small and its old generation is paced anyway (old-generation-gc.ts), so workers go without it
 * (docs/RATIONALE.md, "Staying compiled through idle periods").
 */
const KEEP_CODE_THROUGH_IDLE = '--no-memory-reducer';

/**
 * Twice V8's default budget of bytecode TurboFan may inline into one function (920 bytes). A
 * request crosses many small functions (the stream driver's, undici's, node:http's); with room to
 * inline them, the serving thread runs ~3-5 % fewer instructions per request, with or without
 * filters (docs/RATIONALE.md, "A larger inlining budget").
 */
const INLINING_BUDGET = '--max-inlined-bytecode-size-cumulative=1840';

/** Sets the proxy's V8 flags; setting them again is harmless. */
export function setProxyV8Flags(): void {
  setFlagsFromString(KEEP_CODE_THROUGH_IDLE);
  setFlagsFromString(INLINING_BUDGET);
}
