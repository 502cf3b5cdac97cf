// One direction of a stream (request or response) flowing through the filter chain. Frames
// (headers, body chunks, trailers) enter stage 0 and leave the last stage into a sink (the
// upstream, or the client). Stage i runs filter i's callback and decides what passes on:
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
//
// A frame walks the stages in a loop, and a stage is only an index: nearly every stage of
// nearly every request continues at once, so the state of one that holds, queues or buffers
// lives in a StageState made when that first happens (RATIONALE, "The pipeline is a loop").

import { BodyBuffer } from '../abi/body-buffer.ts';
import { Action } from '../abi/types.ts';
import { bodyBytesForwarded } from './body-gc.ts';
import type { StageRunner } from './headers-batch.ts';

export const FrameKind = { HEADERS: 0, DATA: 1, TRAILERS: 2 } as const;
export type Frame =
  | { kind: typeof FrameKind.HEADERS; eos: boolean }
  | { kind: typeof FrameKind.DATA; chunk: Buffer; eos: boolean }
  | { kind: typeof FrameKind.TRAILERS };

/**
 * The filter behind a stage. Returns what the callback answered (already normalised). The
 * pipeline says which direction calls; the filter reads its body through pipeline.bodyAt.
 */
export interface StageFilter {
  onHeaders(pipeline: Pipeline, eos: boolean): Action;
  onBody(pipeline: Pipeline, size: number, eos: boolean): Action;
  onTrailers(pipeline: Pipeline): Action;
  /**
   * False when the filter has no body callback for this direction: its body chunks then pass
   * the stage untouched (no callback, no buffer). Absent means it has one.
   */
  handlesBody?(pipeline: Pipeline): boolean;
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

/** The batched headers frame, as each stage sees it (frames are never changed once made). */
const HEADERS_EOS: Frame = { kind: FrameKind.HEADERS, eos: true };
const HEADERS_MORE: Frame = { kind: FrameKind.HEADERS, eos: false };

/** Body bytes that may wait behind batched headers before the source is paused (a stream's usual high-water mark). */
const BEHIND_BATCH_BYTES = 64 * 1024;

const HOLD_NONE = 0;
const HOLD_HEADERS = 1;
const HOLD_TRAILERS = 2;

/** What a stage that holds, queues or buffers keeps between frames. */
class StageState {
  hold = HOLD_NONE;
  /** Frames waiting behind a hold (or behind frames still waiting). */
  queue: Frame[] = [];
  /** The filter answered Pause to a body chunk: `body` keeps everything since. */
  buffering = false;
  /** The buffered body includes the end of stream. */
  eosBuffered = false;
  body: BodyBuffer | null = null;

  /** Frames arriving now must wait their turn. */
  get blocked(): boolean {
    return this.hold !== HOLD_NONE || this.queue.length > 0;
  }
}

/** The default overflow callback, shared (not a closure per pipeline: one is made per request). */
function ignoreOverflow(): void {}

export class Pipeline<F extends StageFilter = StageFilter> {
  /** Stage i runs filters[i] (the response direction gets them last to first). */
  readonly filters: readonly F[];
  readonly sink: Sink;
  readonly bufferLimit: number;
  /** Which direction this is: filters answer with their response callbacks when set. */
  readonly response: boolean;
  #source: FlowSource | null = null;
  #holds = 0;
  /** Per stage, made by the first stage that holds, queues or buffers (most pipelines never do). */
  #states: (StageState | null)[] | null = null;
  /** The body a running body callback sees unless its stage buffers; reused for every chunk. */
  #chunkBody: BodyBuffer | null = null;
  /** The stage whose body callback is running (-1: none), and the body it sees. */
  #bodyStage = -1;
  #body: BodyBuffer | null = null;
  /** Set when the direction is over early (local reply, failure, reset): frames are dropped. */
  stopped = false;
  /** Whether the headers frame carried end of stream (needed when a held stage resumes). */
  headersEos = false;
  /** Set once any filter edited a body chunk: the sink must not trust Content-Length. */
  bodyEdited = false;
  /** Told when a buffering filter exceeds the limit (the stream); see also onOverflow. */
  overflowHandler: { bufferLimitExceeded(pipeline: Pipeline<F>, stage: number): void } | null = null;
  /** Called when a buffering filter exceeds the limit and no overflowHandler is set. */
  onOverflow: (stage: number) => void = ignoreOverflow;
  /**
   * When set, the headers frame waits for the event-loop turn's batch and walks the stages with
   * the other streams' (headers-batch.ts), each stage run through this runner, unless its
   * batcher has it walk at once (turns bringing one stream each); unset, it walks at once.
   */
  batchRunner: StageRunner | null = null;
  /** Frames pushed while the headers frame waits in the batch: they follow it, in order. */
  #behindBatch: Frame[] | null = null;
  #inBatch = false;
  /** Body bytes waiting behind the batch, and whether they hold the source (BEHIND_BATCH_BYTES). */
  #behindBytes = 0;
  #behindHeld = false;

  /** Stages run `filters` in the order given; the array is the caller's and must not change. */
  constructor(filters: readonly F[], sink: Sink, bufferLimit: number, response = false) {
    this.filters = filters;
    this.sink = sink;
    this.bufferLimit = bufferLimit;
    this.response = response;
  }

  setSource(source: FlowSource): void {
    this.#source = source;
    if (this.#holds > 0) source.pause();
  }

  push(frame: Frame): void {
    if (this.stopped) return;
    if (this.#inBatch) {
      (this.#behindBatch ??= []).push(frame);
      // A source that has more than a chunk or so to hand over in one turn is paused, as a full
      // sink would pause it; a small body behind its headers costs no pause.
      if (frame.kind === FrameKind.DATA && (this.#behindBytes += frame.chunk.length) > BEHIND_BATCH_BYTES && !this.#behindHeld) {
        this.#behindHeld = true;
        this.hold();
      }
      return;
    }
    if (frame.kind === FrameKind.HEADERS) {
      this.headersEos = frame.eos;
      if (this.batchRunner !== null && this.batchRunner.headersBatcher.join(this)) {
        this.#inBatch = true;
        return;
      }
    }
    this.#flow(frame, 0);
  }

  /**
   * Runs the batched headers frame through stage `stage`, or into the sink past the last one.
   * True while it goes on to the next stage; once it stops (held, stopped, or sent), the frames
   * that came behind it follow.
   */
  walkHeaders(stage: number): boolean {
    if (!this.stopped) {
      const frame = this.headersEos ? HEADERS_EOS : HEADERS_MORE;
      if (stage >= this.filters.length) this.#toSink(frame);
      else if (this.#process(frame, stage) !== null) return true;
    }
    this.#leaveBatch();
    return false;
  }

  /**
   * The frames behind the batched headers flow. Frames pushed meanwhile (undici hands over what
   * it holds as soon as it is resumed) still queue behind them, and flow next.
   */
  #leaveBatch(): void {
    for (;;) {
      const behind = this.#behindBatch;
      if (behind !== null) {
        for (let i = 0; i < behind.length && !this.stopped; i++) this.#flow(behind[i]!, 0);
        this.#behindBatch = null;
      }
      this.#behindBytes = 0;
      if (!this.#behindHeld) break;
      this.#behindHeld = false;
      this.release();
    }
    this.#inBatch = false;
  }

  // ---- a stage, by index ---------------------------------------------------------------

  /** The body stage i's filter may read and edit now (the current chunk, or all it buffered). */
  bodyAt(stage: number): BodyBuffer | null {
    if (stage === this.#bodyStage) return this.#body;
    const state = this.#states?.[stage];
    return state != null && state.buffering ? state.body : null;
  }

  held(stage: number): boolean {
    const state = this.#states?.[stage];
    return state != null && state.hold !== HOLD_NONE;
  }

  /** Nothing moves until the filter continues: a held frame, or a paused body that has ended. */
  waitingForFilter(stage: number): boolean {
    const state = this.#states?.[stage];
    return state != null && (state.hold !== HOLD_NONE || (state.buffering && state.eosBuffered));
  }

  /** Stage i's filter continued the stream (proxy_continue_stream); a no-op when nothing is held. */
  resume(stage: number): void {
    if (this.stopped) return;
    const state = this.#states?.[stage];
    if (state == null) return;
    // The held frame goes on before the hold is released: releasing resumes the source, and
    // undici delivers buffered response data synchronously on resume, which must not overtake it.
    if (state.hold === HOLD_HEADERS) {
      this.#flow({ kind: FrameKind.HEADERS, eos: this.headersEos }, stage + 1);
      this.#setHold(state, HOLD_NONE);
    } else if (state.hold === HOLD_TRAILERS) {
      this.#releaseBuffered(state, stage, false);
      this.#flow({ kind: FrameKind.TRAILERS }, stage + 1);
      this.#setHold(state, HOLD_NONE);
    } else if (state.buffering) {
      this.#releaseBuffered(state, stage, state.eosBuffered);
    }
    const queue = state.queue;
    while (state.hold === HOLD_NONE && queue.length > 0 && !this.stopped) {
      const out = this.#process(queue.shift()!, stage);
      if (out !== null) this.#flow(out, stage + 1);
    }
  }

  // ---- flow control --------------------------------------------------------------------

  stop(): void {
    this.stopped = true;
    if (this.#holds > 0) {
      this.#holds = 0;
      this.#source?.resume();
    }
  }

  /** Pauses the source until a matching release (a held stage or a full sink). */
  hold(): void {
    if (this.#holds++ === 0) this.#source?.pause();
  }

  release(): void {
    if (this.#holds === 0) return;
    if (--this.#holds === 0) this.#source?.resume();
  }

  // ---- the walk ------------------------------------------------------------------------

  /** Takes `frame` through stages `from`.. and into the sink, until a stage keeps it. */
  #flow(frame: Frame, from: number): void {
    const filters = this.filters;
    const n = filters.length;
    let next: Frame | null = frame;
    for (let i = from; i < n; i++) {
      if (this.stopped) return;
      const states = this.#states;
      if (states !== null) {
        const state = states[i];
        if (state != null && state.blocked) {
          state.queue.push(next);
          return;
        }
      }
      next = this.#process(next, i);
      if (next === null) return;
    }
    this.#toSink(next);
  }

  /** Runs stage i's filter on `frame`: what goes on to stage i+1, or null when nothing does. */
  #process(frame: Frame, i: number): Frame | null {
    const filter = this.filters[i]!;
    switch (frame.kind) {
      case FrameKind.HEADERS: {
        const action = filter.onHeaders(this, frame.eos);
        if (this.stopped) return null;
        if (action === Action.PAUSE) {
          this.#setHold(this.#state(i), HOLD_HEADERS);
          return null;
        }
        return frame;
      }
      case FrameKind.DATA:
        return this.#processData(frame, i, filter);
      case FrameKind.TRAILERS: {
        const action = filter.onTrailers(this);
        if (this.stopped) return null;
        const state = this.#states?.[i];
        if (action === Action.PAUSE) {
          this.#setHold(state ?? this.#state(i), HOLD_TRAILERS);
          return null;
        }
        if (state != null) this.#releaseBuffered(state, i, false);
        return this.stopped ? null : frame;
      }
    }
  }

  #processData(frame: Frame & { kind: typeof FrameKind.DATA }, i: number, filter: StageFilter): Frame | null {
    const state = this.#states?.[i];
    const buffering = state != null && state.buffering;
    // A filter without a body callback continues every chunk: skip the buffer and the call.
    if (!buffering && filter.handlesBody?.(this) === false) return frame;
    let body: BodyBuffer;
    if (buffering) {
      body = state.body!;
      body.append(frame.chunk);
      if (body.length > this.bufferLimit) {
        this.overflow(i);
        return null;
      }
    } else {
      body = this.#chunkBody ??= newBodyBuffer();
      body.reset(frame.chunk);
    }
    // Callbacks never nest: whatever a filter asks for during one (continue, reply, another
    // filter's failure) is deferred until the driver step ends (deferred.ts).
    this.#bodyStage = i;
    this.#body = body;
    const action = filter.onBody(this, body.length, frame.eos);
    this.#bodyStage = -1;
    this.#body = null;
    if (body.edits > 0) this.bodyEdited = true;
    if (this.stopped) return null;
    if (action === Action.PAUSE) {
      const own = state ?? this.#state(i);
      if (!buffering) {
        // The chunk's buffer becomes the stage's own; the next chunk elsewhere gets a new one.
        own.buffering = true;
        own.body = body;
        this.#chunkBody = null;
      }
      own.eosBuffered = frame.eos;
      // The first buffered chunk may already be over the limit, with no later append to check.
      if (body.length > this.bufferLimit) this.overflow(i);
      return null;
    }
    if (buffering) {
      state.buffering = false;
      state.body = null;
    }
    const chunk = body.take();
    // An untouched chunk goes on in its own frame: no new object per chunk per filter.
    return chunk === frame.chunk ? frame : { kind: FrameKind.DATA, chunk, eos: frame.eos };
  }

  /** Passes on what stage i buffered (if anything), as one chunk. */
  #releaseBuffered(state: StageState, i: number, eos: boolean): void {
    if (!state.buffering) return;
    state.buffering = false;
    const body = state.body!;
    state.body = null;
    if (body.length > 0 || eos) this.#flow({ kind: FrameKind.DATA, chunk: body.take(), eos }, i + 1);
  }

  #state(i: number): StageState {
    const states = (this.#states ??= new Array<StageState | null>(this.filters.length).fill(null));
    return (states[i] ??= new StageState());
  }

  #setHold(state: StageState, hold: number): void {
    const was = state.hold !== HOLD_NONE;
    state.hold = hold;
    if (hold !== HOLD_NONE && !was) this.hold();
    else if (hold === HOLD_NONE && was) this.release();
  }

  overflow(stage: number): void {
    if (this.overflowHandler !== null) this.overflowHandler.bufferLimitExceeded(this, stage);
    else this.onOverflow(stage);
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

/**
 * The chunk buffer, made by the first body chunk a filter sees. Through a call, not `new` in
 * #processData: TurboFan does not inline a call site that rare, and a `new` left in place goes
 * through V8's generic construct stub, ~190 instructions; a call to this function, whose own
 * optimised code allocates inline, costs about a quarter (bench:instructions --profile).
 */
function newBodyBuffer(): BodyBuffer {
  return new BodyBuffer();
}
