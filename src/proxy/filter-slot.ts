// One filter's place in one request: it owns the filter's stream context, answers the guest's
// host calls for this stream (the StreamHost interface of src/abi), and runs the filter's
// callbacks for both pipeline directions. Failures are contained here: a trap or an unavailable
// VM takes this filter out of the stream and applies its failure policy.

import type { BodyBuffer } from '../abi/body-buffer.ts';
import type { LocalReply, PropertyValue, StreamContext, StreamHost } from '../abi/context.ts';
import { defer } from '../abi/deferred.ts';
import { GuestTrap } from '../abi/errors.ts';
import { LAST_ACTION_VALUE, STREAM_CALLBACK_NAMES, StreamCallback } from '../abi/exports.ts';
import { HeaderMap } from '../abi/header-map.ts';
import type { FilterHandle } from '../abi/plugin-set.ts';
import type { Plugin } from '../abi/plugin.ts';
import { Action, MapType, StreamType } from '../abi/types.ts';
import { PropertyStore } from '../abi/property-store.ts';
import { localReply } from './local-reply.ts';
import type { Pipeline, StageFilter } from './pipeline.ts';
import type { HttpStream } from './stream.ts';

export class FilterSlot implements StreamHost, StageFilter {
  readonly stream: HttpStream;
  readonly handle: FilterHandle;
  plugin: Plugin | null = null;
  ctx: StreamContext | null = null;
  /** Out of this stream for good: its VM failed, or it was unavailable. */
  out = false;
  /** Whether any callback ran (for the access log's list of filters run). */
  ran = false;
  /** The filter asked to close the stream: nothing goes on before the reset. */
  #closing = false;
  /** Its stage in the request pipeline: its place in the chain. */
  readonly requestStage: number;
  /** Its stage in the response pipeline; -1 when it has no response callback (no stage). */
  responseStage = -1;

  constructor(stream: HttpStream, handle: FilterHandle, requestStage: number) {
    this.stream = stream;
    this.handle = handle;
    this.requestStage = requestStage;
  }

  get name(): string {
    return this.handle.name;
  }

  get failOpen(): boolean {
    return this.handle.failOpen;
  }

  // ---- StageFilter: one slot serves both pipelines ----------------------------------------
  // Response callbacks only run for filters that took part in the request (see RATIONALE).

  onHeaders(pipeline: Pipeline, eos: boolean): Action {
    if (!pipeline.response) return this.invoke(StreamCallback.REQUEST_HEADERS, this.stream.requestHeaders.size, eos);
    return this.ctx === null ? Action.CONTINUE : this.invoke(StreamCallback.RESPONSE_HEADERS, this.stream.responseHeaders!.size, eos);
  }

  onBody(pipeline: Pipeline, size: number, eos: boolean): Action {
    if (!pipeline.response) return this.invoke(StreamCallback.REQUEST_BODY, size, eos);
    return this.ctx === null ? Action.CONTINUE : this.invoke(StreamCallback.RESPONSE_BODY, size, eos);
  }

  handlesBody(pipeline: Pipeline): boolean {
    return pipeline.response ? this.handle.responseBody : this.handle.requestBody;
  }

  onTrailers(pipeline: Pipeline): Action {
    if (!pipeline.response) return this.invoke(StreamCallback.REQUEST_TRAILERS, this.stream.requestTrailers?.size ?? 0, false);
    return this.ctx === null ? Action.CONTINUE : this.invoke(StreamCallback.RESPONSE_TRAILERS, this.stream.responseTrailers?.size ?? 0, false);
  }

  /** Runs one stream callback; `size` is the header count or body length it announces. */
  invoke(callback: StreamCallback, size: number, eos: boolean): Action {
    if (this.out) return Action.CONTINUE;
    let ctx = this.ctx;
    const fresh = ctx === null;
    if (fresh) {
      ctx = this.#newContext();
      if (ctx === null) return this.out && this.failOpen ? Action.CONTINUE : Action.PAUSE;
    }
    const vm = ctx!.vm;
    const fn = vm.exports.streamCallbacks[callback];
    const name = STREAM_CALLBACK_NAMES[callback];
    let result: number;
    try {
      if (fn === undefined) {
        if (fresh) vm.createStream(ctx!, ctx!.root.id);
        return Action.CONTINUE;
      }
      this.ran = true;
      // A new context's on_context_create and its first callback share one guarded call.
      result = fresh ? vm.createStream(ctx!, ctx!.root.id, name, fn, size, eos ? 1 : 0) : vm.call(ctx, name, fn, ctx!.id, size, eos ? 1 : 0);
    } catch (err) {
      return this.#failed(err, name);
    }
    // A local reply or close asked for during the callback overrides what the callback answered.
    if (this.stream.localReplyPending || this.#closing) return Action.PAUSE;
    // Headers may answer 2 (ContinueAndEndStream): treat as continue; every other non-zero stops.
    if (result === 0 || (result === 2 && (callback === StreamCallback.REQUEST_HEADERS || callback === StreamCallback.RESPONSE_HEADERS))) {
      return Action.CONTINUE;
    }
    // A value that is no action stops too, as Envoy clamps it to its most stopping action; the
    // request then waits for a continue that may never come, so the operator is told why.
    if (result >>> 0 > LAST_ACTION_VALUE[callback]!) {
      this.handle.unknownActionWarning.warn(this.stream.logger, { filter: this.name, callback: name, returned: result });
    }
    return Action.PAUSE;
  }

  /** A stream context whose on_context_create has yet to run; null when the filter cannot run. */
  #newContext(): StreamContext | null {
    const plugin = this.handle.plugin();
    if (plugin === null) {
      this.#unavailable();
      return null;
    }
    this.plugin = plugin;
    this.ctx = plugin.newStream(this);
    return this.ctx;
  }

  #unavailable(): void {
    this.out = true;
    // Every request meets it while the VM is backed off or quarantined: one line per interval.
    this.handle.unavailableWarning.warn(this.stream.logger, { filter: this.name });
    if (!this.failOpen) this.stream.failClosed(this, true);
  }

  #failed(err: unknown, callback: string): Action {
    this.out = true;
    if (!(err instanceof GuestTrap)) {
      this.stream.logger.error({ err, filter: this.name, callback }, 'host error while running a filter');
    }
    if (this.ctx !== null) this.plugin!.finishStream(this.ctx); // the guest is dead: only bookkeeping
    this.stream.noteTrap(this.name);
    if (this.failOpen) {
      this.stream.logger.warn({ filter: this.name }, 'filter failed; fail_open: skipping it for this request');
      return Action.CONTINUE;
    }
    this.stream.failClosed(this);
    return Action.PAUSE;
  }

  /** End of stream: on_log, on_done, on_delete (the context is created if it never was). */
  finish(): void {
    if (this.out) return;
    let ctx = this.ctx;
    if (ctx === null) {
      ctx = this.#newContext();
      if (ctx === null) return;
      try {
        ctx.vm.createStream(ctx, ctx.root.id);
      } catch (err) {
        this.#failed(err, 'proxy_on_context_create');
        return;
      }
    }
    this.plugin!.finishStream(ctx);
  }

  /** Its stream waits on it: a held frame, or a paused body that has ended, in either direction. */
  get waitingForFilter(): boolean {
    const s = this.stream;
    return s.requestPipeline.waitingForFilter(this.requestStage) || (this.responseStage !== -1 && s.responsePipeline.waitingForFilter(this.responseStage));
  }

  // ---- StreamHost ------------------------------------------------------------------------

  headerMap(type: number, write: boolean): HeaderMap | undefined {
    const s = this.stream;
    switch (type) {
      case MapType.HTTP_REQUEST_HEADERS:
        return s.requestHeaders;
      case MapType.HTTP_REQUEST_TRAILERS:
        return s.requestTrailers ?? undefined;
      case MapType.HTTP_RESPONSE_HEADERS:
        return s.responseHeaders ?? undefined;
      case MapType.HTTP_RESPONSE_TRAILERS:
        // Trailers may be added from the last body callback when the response had none.
        if (s.responseTrailers === null && write && s.responseHeaders !== null && !s.responseEnded) {
          s.responseTrailers = new HeaderMap();
        }
        return s.responseTrailers ?? undefined;
      default:
        return undefined;
    }
  }

  body(type: number): BodyBuffer | undefined {
    const s = this.stream;
    const body = type === 0 ? s.requestPipeline.bodyAt(this.requestStage) : s.responsePipeline.bodyAt(this.responseStage);
    return body ?? undefined;
  }

  property(path: readonly string[]): PropertyValue | undefined {
    return this.stream.property(path);
  }

  setProperty(path: readonly string[], value: Buffer): boolean {
    return (this.stream.filterState ??= new PropertyStore()).set(path.join('\0'), value);
  }

  continueStream(type: StreamType): void {
    const pipeline = type === StreamType.HTTP_REQUEST ? this.stream.requestPipeline : this.stream.responsePipeline;
    const stage = type === StreamType.HTTP_REQUEST ? this.requestStage : this.responseStage;
    if (stage !== -1) defer(() => pipeline.resume(stage));
  }

  closeStream(_type: StreamType): void {
    this.#closing = true;
    defer(() => this.stream.reset('wasm_close_stream'));
  }

  vmFailed(): void {
    if (this.out || this.ctx === null) return;
    if (!this.waitingForFilter) return; // its next callback meets the failure and applies the policy then
    if (this.#failed(this.ctx.vm.failure, 'vm') === Action.CONTINUE) {
      const s = this.stream;
      s.requestPipeline.resume(this.requestStage);
      if (this.responseStage !== -1) s.responsePipeline.resume(this.responseStage);
    }
  }

  sendLocalResponse(reply: LocalReply): void {
    this.stream.requestLocalReply(reply, this);
  }

  /**
   * The host refused a local reply this filter asked for (its status or a header cannot go on
   * the wire). SDKs stop the stream after asking, whatever the answer: if the filter leaves it
   * waiting on itself once this step is over, with no other reply coming, the client gets a 500
   * now rather than when stream_idle_timeout runs out. A filter that lets the stream go on, or
   * asks again validly, is left to it.
   */
  localResponseRefused(): void {
    // requestLocalReply ignores it when a reply is already on its way or the stream is over.
    defer(() => {
      if (!this.out && this.waitingForFilter) this.stream.requestLocalReply(localReply(500, 'wasm_local_reply_refused', 'invalid local reply\n'), this);
    });
  }
}
