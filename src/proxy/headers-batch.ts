// Headers frames that reach a filter chain within one turn of the event loop walk it together,
// stage by stage: stage 0 of every stream in the batch, then stage 1 of those that went on, and
// so on, then each into its sink. Under load one poll of the event loop hands the proxy many
// requests (about 11 per turn at the benchmark's 32 connections) and, later, many responses;
// walked one stream at a time, each filter's guest code, its VM's state and the host calls
// behind it were cold again for every request. The walk runs at setImmediate, after the poll
// phase has parsed everything it read (docs/RATIONALE.md, "Headers walk the chain in batches").
//
// Frames that come behind a batched headers frame (body chunks, trailers, end of stream) wait
// in their pipeline and follow it in order (Pipeline.push).

import type { Pipeline } from './pipeline.ts';

/** Runs one pipeline's batched headers frame through one stage, as a step of its stream. */
export interface StageRunner {
  /** True while the frame goes on to the next stage (Pipeline.walkHeaders). */
  walkHeadersStage(pipeline: Pipeline<any>, stage: number): boolean;
}

/** The pipelines waiting for the next walk, and a spare array to walk them from. */
let waiting: Pipeline<any>[] = [];
let walking: Pipeline<any>[] = [];
let scheduled = false;

/** Adds `pipeline` (its batchRunner set, its headers frame pushed) to this turn's batch. */
export function joinHeadersBatch(pipeline: Pipeline<any>): void {
  waiting.push(pipeline);
  if (!scheduled) {
    scheduled = true;
    setImmediate(walkBatches);
  }
}

function walkBatches(): void {
  try {
    // Pipelines that join while a batch walks (a local reply's response, say) make the next
    // batch, walked before the turn ends.
    while (waiting.length > 0) {
      const batch = waiting;
      waiting = walking;
      walking = batch;
      try {
        walk(batch);
      } finally {
        batch.length = 0;
      }
    }
  } finally {
    // Runners contain their streams' errors; should one escape, later batches still walk.
    scheduled = false;
    if (waiting.length > 0) {
      scheduled = true;
      setImmediate(walkBatches);
    }
  }
}

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
