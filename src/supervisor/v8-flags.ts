// The V8 flags the proxy's threads run with. V8's flags are process-wide, and each is read at its
// own moment: the memory reducer's when an isolate's heap is set up, the inlining budget every
// time TurboFan optimizes a function. So the first is set before a worker starts (newWorker),
// and the second once the workers serve (the supervisor), where it changes how request code is
// optimized without adding to start-up. bench:abi, which runs the host in process, sets both
// to measure the code the proxy runs.

import { setFlagsFromString } from 'node:v8';

/**
 * V8's memory reducer, a few seconds after allocation stops, runs full GCs that also throw away
 * compiled code; the next burst of traffic then runs unoptimized and recompiles. Measured after
 * 40 s idle: the first 3 s of load cost 1.8× the CPU per request of the settled proxy (most of it
 * recompiling on V8's helper threads), against no change with the reducer off. A proxy's heap is
 * small and its old generation is paced anyway (old-generation-gc.ts), so workers go without it
 * (docs/RATIONALE.md, "Staying compiled through idle periods").
 */
export function setStartupV8Flags(): void {
  setFlagsFromString('--no-memory-reducer');
}

/**
 * Twice V8's default budget of bytecode TurboFan may inline into one function (920 bytes). A
 * request crosses many small functions (the stream driver's, undici's, node:http's); with room to
 * inline them, the serving thread runs ~3-5 % fewer instructions per request, with or without
 * filters. Set before the workers start, it made sluice-3 ready ~40 ms later (256 against 216 ms,
 * median of 10 starts each): the start-up code's optimizations grow too, on a machine whose cores
 * are busy starting (docs/RATIONALE.md, "A larger inlining budget"). Setting it again is harmless.
 */
export function setServingV8Flags(): void {
  setFlagsFromString('--max-inlined-bytecode-size-cumulative=1840');
}
