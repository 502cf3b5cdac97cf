// Headers frames that reach a filter chain within one turn of the event loop walk it together,
// stage by stage: stage 0 of every stream in the batch, then stage 1 of those that went on, and
// so on, then each into its sink. Under load one poll of the event loop hands the proxy many
// requests (about 11 per turn at the benchmark's 32 connections) and, later, many responses;
// walked one stream at a time, each filter's guest code, its VM's state and the host calls
// behind it were cold again for every request. The walk runs at setImmediate, after the poll
// phase has parsed everything it read (docs/RATIONALE.md, "Headers walk the chain in batches").
//
// While turns bring one stream each, a batch is a setImmediate for nothing, so after a run of
// such turns frames walk at once, as without batching; every SAMPLE_EVERY-th frame still waits
// for its turn's batch, and a batch of more than one brings batching back.
//
// Frames that come behind a batched headers frame (body chunks, trailers, end of stream) wait
// in their pipeline and follow it in order (Pipeline.push).

import type { Pipeline } from './pipeline.ts';

/** Runs one pipeline's batched headers frame through one stage, as a step of its stream. */
export interface StageRunner {
  /** The batcher this runner's pipelines join (one per thread in the proxy). */
  readonly headersBatcher: HeadersBatcher;
  /** True while the frame goes on to the next stage (Pipeline.walkHeaders). */
  walkHeadersStage(pipeline: Pipeline<any>, stage: number): boolean;
}

/** Turns in a row whose batch held one stream before frames walk at once. */
export const QUIET_TURNS_BEFORE_DIRECT = 8;
/** While frames walk at once, one in this many waits for its turn's batch to count the load. */
export const SAMPLE_EVERY = 16;

export class HeadersBatcher {
  /** The pipelines waiting for the next walk, and a spare array to walk them from. */
  #waiting: Pipeline<any>[] = [];
  #walking: Pipeline<any>[] = [];
  #scheduled = false;
  /** Whether frames walk at once (turns have been bringing one stream each). */
  #direct = false;
  #quietTurns = 0;
  #sinceSample = 0;

  /** Whether frames currently walk at once (for tests and the docs' measurements). */
  get direct(): boolean {
    return this.#direct;
  }

  /**
   * Adds `pipeline` (its headers frame pushed) to this turn's batch and returns true, or returns
   * false when the frame should walk at once.
   */
  join(pipeline: Pipeline<any>): boolean {
    if (!this.#scheduled) {
      if (this.#direct && ++this.#sinceSample < SAMPLE_EVERY) return false;
      this.#sinceSample = 0;
      this.#scheduled = true;
      setImmediate(this.#walkBatches);
    }
    this.#waiting.push(pipeline);
    return true;
  }

  #walkBatches = (): void => {
    this.#count(this.#waiting.length);
    try {
      // Pipelines that join while a batch walks (a local reply's response, say) make the next
      // batch, walked before the turn ends.
      while (this.#waiting.length > 0) {
        const batch = this.#waiting;
        this.#waiting = this.#walking;
        this.#walking = batch;
        try {
          walk(batch);
        } finally {
          batch.length = 0;
        }
      }
    } finally {
      // Runners contain their streams' errors; should one escape, later batches still walk.
      this.#scheduled = false;
      if (this.#waiting.length > 0) {
        this.#scheduled = true;
        setImmediate(this.#walkBatches);
      }
    }
  };

  /** Counts the streams one turn brought: more than one turns batching (back) on. */
  #count(streams: number): void {
    if (streams > 1) {
      this.#direct = false;
      this.#quietTurns = 0;
    } else if (!this.#direct && ++this.#quietTurns >= QUIET_TURNS_BEFORE_DIRECT) {
      this.#direct = true;
      this.#sinceSample = 0;
    }
  }
}

/** The batcher of this thread's streams. */
export const headersBatcher = new HeadersBatcher();

function walk(batch: Pipeline<any>[]): void {
  let live = batch.length;
  for (let stage = 0; live > 0; stage++) {
    let kept = 0;
    for (let i = 0; i < live; i++) {
      const pipeline = batch[i]!;
      if (pipeline.batchRunner!.walkHeadersStage(pipeline, stage)) batch[kept++] = pipeline;
    }
    live = kept;
  }
}
