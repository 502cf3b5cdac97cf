// One direction of a stream (request or response) flowing through the filter chain. Frames
// (headers, body chunks, trailers) enter stage 0 and leave the last stage into a sink (the
// upstream, or the client). Each stage runs one filter's callback and decides what passes on:
//
// - headers or trailers answered with Pause hold the stage: later frames queue behind it, and
//   nothing more reaches later filters or the sink until the filter continues the stream
//   (Envoy's StopAllIterationAndWatermark). Queued body then reaches this filter's body callback.
// - a body chunk answered with Pause is kept and later chunks are appended: the filter sees the
//   whole buffered body (size = total so far) on every later body callback (Envoy's
//   StopIterationAndBuffer). Continue releases everything buffered as one chunk.
// - a body chunk answered with Continue passes on at once; nothing is buffered.
//
// The source is paused (backpressure) while any stage holds or the sink is full.

import { BodyBuffer } from '../abi/body-buffer.ts';
import { Action } from '../abi/types.ts';
import { bodyBytesForwarded } from './body-gc.ts';

export const FrameKind = { HEADERS: 0, DATA: 1, TRAILERS: 2 } as const;
export type Frame =
  | { kind: typeof FrameKind.HEADERS; eos: boolean }
  | { kind: typeof FrameKind.DATA; chunk: Buffer; eos: boolean }
  | { kind: typeof FrameKind.TRAILERS };

/** The filter behind a stage. Returns what the callback answered (already normalised). */
export interface StageFilter {
  onHeaders(stage: Stage, eos: boolean): Action;
  onBody(stage: Stage, size: number, eos: boolean): Action;
  onTrailers(stage: Stage): Action;
  /**
   * False when the filter has no body callback for this stage's direction: its body chunks then
   * pass the stage untouched (no callback, no buffer). Absent means it has one.
   */
  handlesBody?(stage: Stage): boolean;
}

export interface Sink {
  headers(eos: boolean): void;
  data(chunk: Buffer, eos: boolean): void;
  trailers(): void;
}

export interface FlowSource {
  pause(): void;
  resume(): void;
}

const HOLD_NONE = 0;
const HOLD_HEADERS = 1;
const HOLD_TRAILERS = 2;

export class Stage {
  readonly pipeline: Pipeline;
  readonly filter: StageFilter;
  readonly index: number;
  #hold = HOLD_NONE;
  /** Frames waiting behind a hold; made on first use (most stages never queue anything). */
  #queue: Frame[] | null = null;
  /** The body this filter may read and edit right now (current chunk or everything buffered). */
  body: BodyBuffer | null = null;
  /** The one BodyBuffer this stage fills for every chunk (made on the first). */
  #buffer: BodyBuffer | null = null;
  #buffering = false;
  #eosBuffered = false;

  constructor(pipeline: Pipeline, filter: StageFilter, index: number) {
    this.pipeline = pipeline;
    this.filter = filter;
    this.index = index;
  }

  get held(): boolean {
    return this.#hold !== HOLD_NONE;
  }

  /** Nothing moves until the filter continues: a held frame, or a paused body that has ended. */
  get waitingForFilter(): boolean {
    return this.#hold !== HOLD_NONE || (this.#buffering && this.#eosBuffered);
  }

  receive(frame: Frame): void {
    if (this.pipeline.stopped) return;
    if (this.#hold !== HOLD_NONE || (this.#queue !== null && this.#queue.length > 0)) {
      (this.#queue ??= []).push(frame);
      return;
    }
    this.#process(frame);
  }

  /** The filter continued the stream (proxy_continue_stream); a no-op when nothing is held. */
  resume(): void {
    const p = this.pipeline;
    if (p.stopped) return;
    // The held frame goes on before the hold is released: releasing resumes the source, and
    // undici delivers buffered response data synchronously on resume, which must not overtake it.
    if (this.#hold === HOLD_HEADERS) {
      p.forward(this, { kind: FrameKind.HEADERS, eos: p.headersEos });
      this.#setHold(HOLD_NONE);
    } else if (this.#hold === HOLD_TRAILERS) {
      this.#releaseBuffered(false);
      p.forward(this, { kind: FrameKind.TRAILERS });
      this.#setHold(HOLD_NONE);
    } else if (this.#buffering) {
      this.#releaseBuffered(this.#eosBuffered);
    }
    this.#drainQueue();
  }

  #drainQueue(): void {
    const queue = this.#queue;
    if (queue === null) return;
    while (this.#hold === HOLD_NONE && queue.length > 0 && !this.pipeline.stopped) {
      this.#process(queue.shift()!);
    }
  }

  #process(frame: Frame): void {
    const p = this.pipeline;
    switch (frame.kind) {
      case FrameKind.HEADERS: {
        const action = this.filter.onHeaders(this, frame.eos);
        if (p.stopped) return;
        if (action === Action.PAUSE) this.#setHold(HOLD_HEADERS);
        else p.forward(this, frame);
        return;
      }
      case FrameKind.DATA: {
        // A filter without a body callback continues every chunk: skip the buffer and the call.
        if (!this.#buffering && this.filter.handlesBody?.(this) === false) {
          p.forward(this, frame);
          return;
        }
        let body: BodyBuffer;
        if (this.#buffering) {
          body = this.body!;
          body.append(frame.chunk);
          if (body.length > p.bufferLimit) {
            p.overflow(this);
            return;
          }
        } else {
          body = this.#buffer ??= newBodyBuffer();
          body.reset(frame.chunk);
        }
        this.body = body;
        const action = this.filter.onBody(this, body.length, frame.eos);
        if (body.edits > 0) p.bodyEdited = true;
        if (p.stopped) return;
        if (action === Action.PAUSE) {
          this.#buffering = true;
          this.#eosBuffered = frame.eos;
          // The first buffered chunk may already be over the limit, with no later append to check.
          if (body.length > p.bufferLimit) p.overflow(this);
        } else {
          this.#buffering = false;
          this.body = null;
          const chunk = body.take();
          // An untouched chunk goes on in its own frame: no new object per chunk per filter.
          p.forward(this, chunk === frame.chunk ? frame : { kind: FrameKind.DATA, chunk, eos: frame.eos });
        }
        return;
      }
      case FrameKind.TRAILERS: {
        const action = this.filter.onTrailers(this);
        if (p.stopped) return;
        if (action === Action.PAUSE) {
          this.#setHold(HOLD_TRAILERS);
        } else {
          this.#releaseBuffered(false);
          p.forward(this, frame);
        }
        return;
      }
    }
  }

  /** Passes on what the filter buffered (if anything), as one chunk. */
  #releaseBuffered(eos: boolean): void {
    if (!this.#buffering) return;
    this.#buffering = false;
    const body = this.body!;
    this.body = null;
    if (body.length > 0 || eos) this.pipeline.forward(this, { kind: FrameKind.DATA, chunk: body.take(), eos });
  }

  #setHold(hold: number): void {
    const was = this.#hold !== HOLD_NONE;
    this.#hold = hold;
    if (hold !== HOLD_NONE && !was) this.pipeline.hold();
    else if (hold === HOLD_NONE && was) this.pipeline.release();
  }
}

/**
 * A stage's buffer, made by its first body chunk. Through a call, not `new` in #process: TurboFan
 * does not inline a call site that rare (once per stage, against every frame), and a `new` left
 * in place goes through V8's generic construct stub, ~190 instructions; a call to this function,
 * whose own optimised code allocates inline, costs about a quarter (bench:instructions --profile).
 */
function newBodyBuffer(): BodyBuffer {
  return new BodyBuffer();
}

/** The default overflow callback, shared (not a closure per pipeline: one is made per request). */
function ignoreOverflow(): void {}

export class Pipeline {
  readonly stages: readonly Stage[];
  readonly sink: Sink;
  readonly bufferLimit: number;
  #source: FlowSource | null = null;
  #holds = 0;
  /** Set when the direction is over early (local reply, failure, reset): frames are dropped. */
  stopped = false;
  /** Whether the headers frame carried end of stream (needed when a held stage resumes). */
  headersEos = false;
  /** Set once any filter edited a body chunk: the sink must not trust Content-Length. */
  bodyEdited = false;
  /** Told when a buffering filter exceeds the limit (the stream); see also onOverflow. */
  overflowHandler: { bufferLimitExceeded(pipeline: Pipeline, stage: Stage): void } | null = null;
  /** Called when a buffering filter exceeds the limit and no overflowHandler is set. */
  onOverflow: (stage: Stage) => void = ignoreOverflow;

  /** Stages run `filters` in the order given (the response direction passes them last to first). */
  constructor(filters: readonly StageFilter[], sink: Sink, bufferLimit: number) {
    this.sink = sink;
    this.bufferLimit = bufferLimit;
    const n = filters.length;
    const stages = new Array<Stage>(n);
    for (let i = 0; i < n; i++) stages[i] = new Stage(this, filters[i]!, i);
    this.stages = stages;
  }

  setSource(source: FlowSource): void {
    this.#source = source;
    if (this.#holds > 0) source.pause();
  }

  push(frame: Frame): void {
    if (this.stopped) return;
    if (frame.kind === FrameKind.HEADERS) this.headersEos = frame.eos;
    const first = this.stages[0];
    if (first === undefined) this.#toSink(frame);
    else first.receive(frame);
  }

  /** Hands a frame from `stage` to the next stage, or to the sink after the last one. */
  forward(stage: Stage, frame: Frame): void {
    const next = this.stages[stage.index + 1];
    if (next === undefined) this.#toSink(frame);
    else next.receive(frame);
  }

  stop(): void {
    this.stopped = true;
    if (this.#holds > 0) {
      this.#holds = 0;
      this.#source?.resume();
    }
  }

  overflow(stage: Stage): void {
    if (this.overflowHandler !== null) this.overflowHandler.bufferLimitExceeded(this, stage);
    else this.onOverflow(stage);
  }

  /** Pauses the source until a matching release (a held stage or a full sink). */
  hold(): void {
    if (this.#holds++ === 0) this.#source?.pause();
  }

  release(): void {
    if (this.#holds === 0) return;
    if (--this.#holds === 0) this.#source?.resume();
  }

  #toSink(frame: Frame): void {
    if (this.stopped) return;
    switch (frame.kind) {
      case FrameKind.HEADERS:
        this.sink.headers(frame.eos);
        break;
      case FrameKind.DATA:
        bodyBytesForwarded(frame.chunk.length);
        this.sink.data(frame.chunk, frame.eos);
        break;
      case FrameKind.TRAILERS:
        this.sink.trailers();
        break;
    }
  }
}
