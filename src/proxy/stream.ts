// One HTTP request/response exchange walking the filter chain (the stream driver). The request
// pipeline runs the filters in order and ends in the route's action (a cluster, a direct
// response or an echo); the response pipeline runs the filters that took part in reverse order
// (Envoy's encoder order) and ends at the client. Local replies, failures and limits short-cut
// the exchange; whatever happens, every filter context ends with on_log, on_done, on_delete.

import type { IncomingMessage, ServerResponse } from 'node:http';
// Imported, not the global: Node's global `performance` is an accessor, which optimised code
// reads through V8's generic global load (~180 instructions a use; RATIONALE).
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { LocalReply, PropertyValue } from '../abi/context.ts';
import { defer, enterStep, leaveStep } from '../abi/deferred.ts';
import { HeaderMap } from '../abi/header-map.ts';
import type { PropertyStore } from '../abi/property-store.ts';
import type { ThrottledWarnings } from '../abi/throttled-warning.ts';
import type { FilterHandle, PluginSet } from '../abi/plugin-set.ts';
import type { ListenerConfig } from '../config/types.ts';
import { clientErrorAnswer } from './client-error.ts';
import { classifyUpstreamError, OVERFLOW_FAILURE, type Clusters, type UpstreamFailure } from './cluster.ts';
import { streamIdleDeadlines } from './deadlines.ts';
import { FilterSlot } from './filter-slot.ts';
import { readRequestHead, responseHeaderMap, settleContentLength, statusHasNoBody, trailerHeaderMap, upstreamRequestHeaders } from './headers.ts';
import { localReply, localReplyHeaders, plainUnlessGrpcRequest } from './local-reply.ts';
import { FrameKind, Pipeline, type FlowSource, type Sink } from './pipeline.ts';
import { type HeadersBatcher, headersBatcher, type StageRunner } from './headers-batch.ts';
import { decimalNumber } from './decimal.ts';
import { ResponseWriter } from './response-writer.ts';
import type { CompiledRoute, Router } from './router.ts';
import { requestId } from './request-id.ts';
import { streamProperty } from './stream-properties.ts';
import { RequestBodyStream, UpstreamExchange } from './upstream.ts';
import type { ProxyMetrics } from '../admin/metrics.ts';
import { logAccess } from './access-log.ts';

/** What a listener shares with every stream it serves. */
export interface ListenerRuntime {
  readonly config: ListenerConfig;
  readonly router: Router<FilterHandle>;
  readonly plugins: PluginSet;
  readonly clusters: Clusters;
  readonly logger: Logger;
  readonly metrics: ProxyMetrics;
  /**
   * Warnings a client or a filter can cause on every request (a body over the limit, an idle
   * stream, headers a filter left unsendable): one line per kind per 10 s, with the count it
   * stood for; each request has its access log line besides.
   */
  readonly warnings: ThrottledWarnings;
}

const NO_FILTERS: readonly FilterHandle[] = [];

/** A batched headers frame's step through one stage (HttpStream.walkHeadersStage runs it under #run). */
function walkHeaders(this: HttpStream, pipeline: Pipeline<FilterSlot>, stage: number): boolean {
  return pipeline.walkHeaders(stage);
}

export class HttpStream implements StageRunner {
  readonly listener: ListenerRuntime;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly logger: Logger;
  readonly connectionId: number;
  readonly startTime = Date.now();
  readonly startedAt = performance.now();
  endedAt = 0;
  readonly method: string;
  readonly httpVersion: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;

  requestHeaders: HeaderMap;
  requestTrailers: HeaderMap | null = null;
  responseHeaders: HeaderMap | null = null;
  responseTrailers: HeaderMap | null = null;
  /** Values written with proxy_set_property during this request; made by the first (most requests have none). */
  filterState: PropertyStore | null = null;
  route: CompiledRoute<FilterHandle> | undefined;
  slots: FilterSlot[] = [];
  requestPipeline!: Pipeline<FilterSlot>;
  responsePipeline!: Pipeline<FilterSlot>;
  readonly #writer: ResponseWriter;
  upstream: UpstreamExchange | null = null;
  /** From sending the request upstream to its response headers; -1 until then. */
  upstreamLatencyMs = -1;
  /** The upstream response's own Content-Length, as received (before any filter); -1: none. */
  upstreamContentLength = -1;

  statusCode = 0;
  codeDetails = '';
  bytesReceived = 0;
  bytesSent = 0;
  responseEnded = false;
  /** A local reply was asked for during the current callback (it overrides the callback's answer). */
  localReplyPending = false;
  #replied = false;
  #failed = false;
  #responseStarted = false;
  #completed = false;
  #requestEosSent = false;
  /** The client sends a body (Content-Length above 0, or chunked). */
  readonly requestHasBody: boolean;
  /** Why the request is answered 400 before routing (readRequestHead), or null. */
  #invalidRequest: string | null;
  /** Request body bytes still expected per Content-Length (-1: chunked). */
  #requestContentLength: number;
  /** The client's Content-Length, as sent (-1: none); what a streamed request body may keep. */
  readonly clientContentLength: number;
  #responseEosSent = false;
  #upstreamStartedAt = 0;
  /** Response body bytes still expected per Content-Length (-1: unknown, chunked). */
  #upstreamRemaining = -1;
  /** Filters that trapped during this request (for the access log); made by the first. */
  #traps: string[] | null = null;
  /** Expiring (deadlines.ts), for the idle timeout: when it may next be due, and where it is tracked. */
  deadline = Infinity;
  deadlineSlot = -1;
  /** When an event last reached the stream (streamIdleDeadlines.now, so no clock read per event). */
  #lastActive = 0;

  constructor(listener: ListenerRuntime, req: IncomingMessage, res: ServerResponse, connectionId: number) {
    this.listener = listener;
    this.req = req;
    this.res = res;
    this.connectionId = connectionId;
    this.logger = listener.logger;
    this.method = req.method ?? 'GET';
    this.httpVersion = req.httpVersion;
    const socket = req.socket;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    this.localAddress = socket.localAddress ?? '';
    this.localPort = socket.localPort ?? 0;
    const head = readRequestHead(req, 'http');
    this.requestHeaders = head.headers;
    this.requestHasBody = head.hasBody;
    this.#invalidRequest = head.invalid;
    this.#requestContentLength = head.contentLength;
    this.clientContentLength = head.contentLength;
    this.#writer = new ResponseWriter(this, res);
  }

  start(): void {
    const { req, res } = this;
    const h = this.requestHeaders;
    if (!h.has('x-request-id')) h.addLowerCase('x-request-id', requestId());
    const xff = h.get('x-forwarded-for');
    h.setLowerCase('x-forwarded-for', xff === undefined ? this.remoteAddress : `${xff}, ${this.remoteAddress}`);
    if (!h.has('x-forwarded-proto')) h.addLowerCase('x-forwarded-proto', 'http');
    h.version = 0; // edits made by the proxy itself do not count as filter edits

    this.route = this.#invalidRequest === null ? this.listener.router.match(h) : undefined;
    const routeConfig = this.route?.config;
    const handles = this.route?.filters ?? NO_FILTERS;
    // No closures here: they would share this function's context (this, req, res, ...), and V8
    // then kept whole streams alive past several scavenges (measured: ~3 KB promoted per request).
    const n = handles.length;
    const slots = new Array<FilterSlot>(n);
    for (let i = 0; i < n; i++) slots[i] = new FilterSlot(this, handles[i]!, i);
    this.slots = slots;
    this.requestPipeline = new Pipeline(slots, new RequestForwarder(this), routeConfig?.maxRequestBodyBytes ?? 0);
    // Response stages run in encoder order (last filter first), and only for filters with a
    // response callback: a stage that would call nothing costs every response frame a pass.
    // Sized before it is filled: pushing onto [] grows a fresh backing store on every request.
    let m = 0;
    for (let i = 0; i < n; i++) if (handles[i]!.responseCallbacks) m++;
    const responseSlots = new Array<FilterSlot>(m);
    for (let i = n - 1, j = 0; i >= 0; i--) {
      if (!handles[i]!.responseCallbacks) continue;
      slots[i]!.responseStage = j;
      responseSlots[j++] = slots[i]!;
    }
    this.responsePipeline = new Pipeline(responseSlots, this.#writer, routeConfig?.maxResponseBodyBytes ?? 0, true);
    this.requestPipeline.setSource(new RequestSource(req));
    this.requestPipeline.overflowHandler = this;
    this.responsePipeline.overflowHandler = this;
    this.requestPipeline.batchRunner = this;
    this.responsePipeline.batchRunner = this;
    res.on('close', closeListener(this)); // 'close' comes once; once() would wrap the listener and remove it again
    // No 'error' listener on req: Node emits a request's error only to listeners it has (a
    // client reset surfaces as res 'close'), and adding one cost every request an addListener.
    const idleTimeout = this.listener.config.streamIdleTimeoutMs;
    if (idleTimeout > 0) {
      this.#lastActive = streamIdleDeadlines.now;
      this.deadline = this.#lastActive + idleTimeout;
      streamIdleDeadlines.track(this);
    }

    if (this.route === undefined) {
      const invalid = this.#invalidRequest;
      this.codeDetails = invalid === null ? 'route_not_found' : 'invalid_request';
      const reply = invalid === null ? localReply(404, 'route_not_found', 'no route\n') : localReply(400, 'invalid_request', `${invalid}\n`);
      // After a request it will not serve, a client is not trusted with the connection either
      // (Envoy closes on protocol errors too); it would otherwise stay open until idle_timeout.
      if (invalid !== null) res.shouldKeepAlive = false;
      this.#run(this.#startResponse, localReplyHeaders(reply));
      req.resume();
      return;
    }
    const eos = !this.requestHasBody;
    this.#run(this.#pushRequestHeaders, eos);
    if (eos) {
      req.resume(); // let Node read to the end of the (empty) message
      return;
    }
    this.#readRequestBody();
  }

  #pushRequestHeaders(eos: boolean): void {
    this.requestPipeline.push({ kind: FrameKind.HEADERS, eos });
  }

  #readRequestBody(): void {
    this.req.on('data', (chunk: Buffer) => this.#run(this.#requestData, chunk));
    this.req.on('end', () => this.#run(this.#requestEnd, undefined));
  }

  #requestData(chunk: Buffer): void {
    this.bytesReceived += chunk.length;
    let eos = false;
    if (this.#requestContentLength >= 0) {
      this.#requestContentLength -= chunk.length;
      eos = this.#requestContentLength <= 0;
    }
    if (eos) this.#requestEosSent = true;
    this.requestPipeline.push({ kind: FrameKind.DATA, chunk, eos });
  }

  #requestEnd(): void {
    if (this.#requestEosSent) return;
    this.#requestEosSent = true;
    const raw = this.req.rawTrailers;
    if (raw.length > 0) {
      this.requestTrailers = trailerHeaderMap(raw);
      this.requestPipeline.push({ kind: FrameKind.TRAILERS });
    } else {
      this.requestPipeline.push({ kind: FrameKind.DATA, chunk: Buffer.alloc(0), eos: true });
    }
  }

  /**
   * Whether the client has sent its whole body: counted against its Content-Length (Node marks
   * the request complete only after the last chunk's handlers ran, and a reply may start in
   * them), or ended.
   */
  get requestBodyReceived(): boolean {
    return this.#requestEosSent || this.req.complete;
  }

  // ---- what filters reach through their slots --------------------------------------------

  property(path: readonly string[]): PropertyValue | undefined {
    return streamProperty(this, path);
  }

  /** A filter's proxy_send_local_response: the first one wins, applied after the callback. */
  requestLocalReply(reply: LocalReply, slot: FilterSlot): void {
    if (this.#replied || this.#completed) {
      this.logger.debug({ filter: slot.name }, 'second local reply ignored');
      return;
    }
    this.#replied = true;
    this.localReplyPending = true;
    defer(() => {
      this.localReplyPending = false;
      this.#sendLocalReply(reply);
    });
  }

  /**
   * A filter failed under fail_closed: 503 (or a reset once the response is on the wire).
   * `logged`: the caller has said why already (a throttled line), so no line per request here.
   */
  failClosed(slot: FilterSlot, logged = false): void {
    if (this.#failed || this.#completed) return;
    this.#failed = true;
    if (this.localReplyPending) {
      // A local reply asked for in the failing callback, about to be sent: it stands (and goes
      // straight to the client if the response phase had begun).
      this.logger.warn({ filter: slot.name }, 'filter failed after asking for a local reply; that reply stands');
      return;
    }
    this.#replied = true;
    this.localReplyPending = true;
    defer(() => {
      this.localReplyPending = false;
      if (!logged) {
        const started = this.#writer.headSent;
        this.logger.warn({ filter: slot.name }, started ? 'filter failed after the response started; fail_closed: resetting the stream' : 'filter failed; fail_closed: answering 503');
      }
      this.#sendLocalReply(localReply(503, 'wasm_fail_stream', 'filter failed\n'), true);
    });
  }

  noteTrap(filter: string): void {
    (this.#traps ??= []).push(filter);
    this.listener.metrics.filterTrap(filter);
  }

  /** Resets the stream: the client sees the connection close, not a status. */
  reset(details: string): void {
    if (this.#completed) return;
    if (this.codeDetails === '' || this.codeDetails === 'via_upstream') this.codeDetails = details;
    this.requestPipeline.stop();
    this.responsePipeline.stop();
    this.upstream?.abort();
    this.res.destroy();
  }

  // ---- the route's action (called by the request pipeline's sink) ------------------------

  /** The route decides where the request goes; re-matched if filters edited the headers. */
  routeForForwarding(): CompiledRoute<FilterHandle> | undefined {
    if (this.requestHeaders.version > 0) {
      const rematched = this.listener.router.match(this.requestHeaders);
      if (rematched !== undefined) this.route = rematched;
    }
    return this.route;
  }

  /** False when the cluster refused the request (its queue is full): it is answered 503. */
  startUpstream(method: string, path: string, body: Buffer | RequestBodyStream | null): boolean {
    const route = this.route!.config;
    const cluster = this.listener.clusters.get(route.cluster!)!;
    const exchange = new UpstreamExchange(cluster, { method, path, headers: upstreamRequestHeaders(this.requestHeaders), body }, this);
    this.#upstreamStartedAt = performance.now();
    if (!exchange.send()) {
      cluster.overflowWarning.warn(this.logger, { cluster: cluster.name });
      // Answered from a constant: a flood of refusals makes no Error (and stack) each.
      this.#upstreamFailed(OVERFLOW_FAILURE);
      return false;
    }
    this.upstream = exchange;
    this.responsePipeline.setSource(exchange);
    return true;
  }

  // ---- UpstreamEvents: what the upstream exchange reports (each a guarded driver step) ------

  upstreamHeaders(status: number, raw: Buffer[]): void {
    this.#run(this.#upstreamHeaders, status, raw);
  }

  upstreamData(chunk: Buffer): boolean {
    this.#run(this.#upstreamData, chunk);
    return true;
  }

  upstreamEnd(raw: Buffer[] | null): void {
    this.#run(this.#upstreamEnd, raw);
  }

  upstreamError(err: Error): void {
    this.#run(this.#upstreamError, err);
  }

  #upstreamHeaders(status: number, raw: Buffer[]): void {
    this.upstreamLatencyMs = performance.now() - this.#upstreamStartedAt;
    this.listener.metrics.upstreamLatency(this.route!.config.cluster!, this.upstreamLatencyMs);
    const headers = responseHeaderMap(status, raw);
    const declared = headers.get('content-length');
    this.#upstreamRemaining = declared === undefined ? -1 : decimalNumber(declared);
    this.upstreamContentLength = this.#upstreamRemaining;
    const eos = statusHasNoBody(status) || this.method === 'HEAD' || this.#upstreamRemaining === 0;
    this.codeDetails = 'via_upstream';
    this.#responseEosSent = eos;
    this.#startResponse({ headers, body: null }, eos);
  }

  #upstreamData(chunk: Buffer): void {
    if (this.#responseEosSent) return;
    let eos = false;
    if (this.#upstreamRemaining >= 0) {
      this.#upstreamRemaining -= chunk.length;
      eos = this.#upstreamRemaining <= 0;
    }
    if (eos) this.#responseEosSent = true;
    this.responsePipeline.push({ kind: FrameKind.DATA, chunk, eos });
  }

  #upstreamEnd(raw: Buffer[] | null): void {
    if (this.#responseEosSent) return;
    this.#responseEosSent = true;
    if (raw !== null && raw.length > 0) {
      this.responseTrailers = trailerHeaderMap(raw);
      this.responsePipeline.push({ kind: FrameKind.TRAILERS });
    } else {
      this.responsePipeline.push({ kind: FrameKind.DATA, chunk: Buffer.alloc(0), eos: true });
    }
  }

  #upstreamError(err: Error): void {
    if (this.#completed) return;
    if (this.#responseEosSent) {
      // The whole response was already received (a 304 stating its representation's
      // Content-Length makes undici fail the connection after it): only the connection failed.
      this.logger.debug({ cluster: this.route?.config.cluster, err: err.message }, 'upstream connection failed after a complete response');
      return;
    }
    // Not this.upstream's: undici may fail a request it refuses inside dispatch, before that is set.
    const cluster = this.listener.clusters.get(this.route!.config.cluster!)!;
    if (this.#responseStarted) {
      cluster.failureWarnings.warn('upstream failed mid-response; resetting', this.logger, { cluster: cluster.name, err: err.message });
      this.reset('upstream_reset_after_response_started');
      return;
    }
    const failure = classifyUpstreamError(err);
    cluster.failureWarnings.warn(
      failure.status === 500 ? 'request not sent upstream: not valid HTTP as the filters left it' : 'upstream request failed',
      this.logger,
      { cluster: cluster.name, err: err.message, status: failure.status },
    );
    this.#upstreamFailed(failure);
  }

  /** Answers an upstream failure like any response: through the filters' response phase. */
  #upstreamFailed(failure: UpstreamFailure): void {
    this.codeDetails = failure.details;
    this.#startResponse(localReplyHeaders(localReply(failure.status, failure.details, failure.body)));
  }

  /**
   * The filters left the request without `missing` (:method or :path): it cannot be sent, and
   * guessing one would send a request nobody made. 503, with Envoy's details for it.
   */
  refuseIncompleteRequest(missing: string): void {
    this.listener.warnings.warn('request not sent upstream: a filter removed a required header', this.logger, { missing });
    const details = `filter_removed_required_request_headers{missing_required_header:_${missing}}`;
    this.codeDetails = details;
    this.#startResponse(localReplyHeaders(localReply(503, details, `missing required header: ${missing}\n`)));
  }

  /** Answers from the route itself (direct_response / echo): through the response filters. */
  respond(headers: HeaderMap, body: Buffer, details: string): void {
    this.codeDetails = details;
    this.#startResponse({ headers, body });
  }

  /** Runs the response phase. Always called inside a driver step (#run, or a deferred action). */
  #startResponse(response: { headers: HeaderMap; body: Buffer | null }, eos = response.body === null || response.body.length === 0): void {
    this.#responseStarted = true;
    this.responseHeaders = response.headers;
    const body = response.body;
    this.responsePipeline.push({ kind: FrameKind.HEADERS, eos });
    if (body !== null && body.length > 0) this.responsePipeline.push({ kind: FrameKind.DATA, chunk: body, eos: true });
  }

  #sendLocalReply(reply: LocalReply, failure = false): void {
    if (this.#completed) return;
    this.requestPipeline.stop();
    this.upstream?.abort();
    if (this.#writer.headSent) {
      this.reset(reply.details || 'local_reply_after_response_started');
      return;
    }
    const response = localReplyHeaders(plainUnlessGrpcRequest(reply, this.requestHeaders));
    this.codeDetails = reply.details !== '' ? reply.details : 'wasm_local_reply';
    if (this.#responseStarted || failure) {
      // Already in the response phase (or a filter just failed there): replace the response and
      // send it straight to the client, so a filter cannot loop on its own replies.
      this.responsePipeline.stop();
      this.responseHeaders = response.headers;
      this.responseTrailers = null;
      this.#writer.headers(response.body.length === 0);
      if (response.body.length > 0) this.#writer.data(response.body, true);
      return;
    }
    this.#startResponse(response);
  }

  /** A buffering filter went over the route's limit (called by the pipelines). */
  bufferLimitExceeded(pipeline: Pipeline<FilterSlot>, stage: number): void {
    const filter = pipeline.filters[stage]!.name;
    if (pipeline.response) this.#limitExceeded(502, 'response_payload_too_large', filter);
    else this.#limitExceeded(413, 'request_payload_too_large', filter);
  }

  /** Called when the response is done with (sent or abandoned). */
  responseClosed(): void {
    this.#run(this.#complete, undefined);
  }

  #limitExceeded(status: 413 | 502, details: string, filter: string): void {
    const limit = status === 413 ? this.requestPipeline.bufferLimit : this.responsePipeline.bufferLimit;
    this.listener.warnings.warn(`${details}: body buffering limit exceeded`, this.logger, { filter, limit });
    this.#replied = true;
    (status === 413 ? this.requestPipeline : this.responsePipeline).stop();
    defer(() => this.#sendLocalReply(localReply(status, details, status === 413 ? 'payload too large\n' : 'upstream response too large\n'), status === 502));
  }

  /**
   * The idle check found the deadline passed (deadlines.ts). Events since then only moved the
   * last activity, so the stream is tracked again until the timeout has passed since the last.
   */
  expire(): void {
    if (this.#completed) return;
    const due = this.#lastActive + this.listener.config.streamIdleTimeoutMs;
    if (due > streamIdleDeadlines.now) {
      this.deadline = due;
      streamIdleDeadlines.track(this);
      return;
    }
    this.#run(this.#idleTimedOut, undefined);
  }

  /**
   * Nothing has moved for the listener's stream_idle_timeout: a filter holding the stream and
   * never continuing, a peer that stopped reading or sending. Envoy's answer: 408 when no
   * response has started, else a reset. The reply goes straight to the client: a filter
   * holding the response must not hold its replacement.
   */
  #idleTimedOut(): void {
    const waiting = this.slots.filter((slot) => slot.waitingForFilter).map((slot) => slot.name);
    this.listener.warnings.warn('stream idle timeout', this.logger, { idle_ms: this.listener.config.streamIdleTimeoutMs, waiting_for_filters: waiting });
    this.#replied = true;
    this.#sendLocalReply(localReply(408, 'stream_idle_timeout', 'stream timeout\n'), true);
  }

  // ---- end of stream ---------------------------------------------------------------------

  #complete(): void {
    if (this.#completed) return;
    this.#completed = true;
    streamIdleDeadlines.untrack(this);
    this.endedAt = performance.now();
    this.responseEnded = true;
    const aborted = !this.res.writableFinished;
    this.requestPipeline?.stop();
    this.responsePipeline?.stop();
    this.upstream?.abort();
    for (const slot of this.slots) slot.finish(); // inside #run's step: deferred actions wait
    // What the client got: the status sent (also when it left during the body), Node's answer
    // to a malformed body, or none.
    let status = this.res.statusCode;
    if (aborted) {
      const answered = clientErrorAnswer(this.res);
      if (answered !== undefined) {
        status = answered.status;
        this.codeDetails = answered.details;
      } else if (!this.res.headersSent) {
        status = 0;
      }
      if (this.codeDetails === '') this.codeDetails = 'downstream_remote_disconnect';
    }
    const route = this.route?.config;
    this.listener.metrics.request(this.listener.config.name, route?.name ?? '', status);
    if (!this.logger.isLevelEnabled('info')) return;
    const durationMs = Math.round((this.endedAt - this.startedAt) * 1000) / 1000;
    logAccess(this.logger, {
      method: this.method,
      path: this.req.url ?? null,
      status,
      duration_ms: durationMs,
      route: route?.name ?? null,
      cluster: route?.cluster ?? null,
      filters: this.slots.filter((s) => s.ran).map((s) => s.name),
      details: this.codeDetails,
      bytes_in: this.bytesReceived,
      bytes_out: this.bytesSent,
      ...(aborted ? { incomplete: true as const } : {}),
      ...(this.#traps !== null ? { traps: this.#traps } : {}),
    });
  }

  /** The thread's batcher, which this stream's pipelines join (StageRunner). */
  get headersBatcher(): HeadersBatcher {
    return headersBatcher;
  }

  /** Runs one stage of a batched headers frame (headers-batch.ts) as one driver step. */
  walkHeadersStage(pipeline: Pipeline<FilterSlot>, stage: number): boolean {
    return this.#run(walkHeaders, pipeline, stage) === true;
  }

  /**
   * Runs a socket or upstream event handler as one driver step (deferred guest actions run when
   * it returns). A host bug fails this stream, never the process. Takes the handler and its
   * arguments rather than a closure: this runs for every chunk.
   */
  #run<A, B, R>(handler: (this: HttpStream, a: A, b: B) => R, a: A, b?: B): R | undefined {
    if (this.deadlineSlot !== -1) this.#lastActive = streamIdleDeadlines.now; // tracked: timeout on
    enterStep();
    try {
      return handler.call(this, a, b as B);
    } catch (err) {
      this.#internalError(err);
      return undefined;
    } finally {
      leaveStep();
    }
  }

  #internalError(err: unknown): void {
    this.logger.error({ err }, 'internal error in the stream driver; resetting the stream');
    try {
      if (!this.#writer.headSent && !this.#completed) {
        // A writeHead that threw may have left headers behind (a Content-Length among them).
        for (const name of this.res.getHeaderNames()) this.res.removeHeader(name);
        this.res.writeHead(500, 'Internal Server Error', { 'content-type': 'text/plain', 'content-length': '15' });
        this.res.end('internal error\n');
      } else {
        this.res.destroy();
      }
    } catch {
      this.res.destroy();
    }
  }
}


/** The request pipeline's sink: hands the request to the route's action. */
class RequestForwarder implements Sink {
  readonly #stream: HttpStream;
  #body: RequestBodyStream | null = null;
  #echoChunks: Buffer[] | null = null;
  #started = false;
  #done = false;
  /** The request line as the filters left it, read when the headers reach the sink. */
  #method = '';
  #path = '';

  constructor(stream: HttpStream) {
    this.#stream = stream;
  }

  headers(eos: boolean): void {
    const s = this.#stream;
    const route = s.routeForForwarding()!.config;
    if (route.directResponse !== undefined) {
      const d = route.directResponse;
      const headers = new HeaderMap([':status'], [String(d.status)]);
      for (const [name, value] of d.headers) headers.add(name, value);
      const body = Buffer.from(d.body);
      if (body.length > 0 && !headers.has('content-type')) headers.add('content-type', 'text/plain');
      headers.set('content-length', String(body.length));
      this.#done = true;
      s.req.resume();
      s.respond(headers, body, 'direct_response');
      return;
    }
    if (route.echo === true) {
      this.#echoChunks = [];
      if (eos) this.#echo();
      return;
    }
    const h = s.requestHeaders;
    const method = h.get(':method');
    const path = h.get(':path');
    if (method === undefined || path === undefined) {
      this.#done = true;
      s.req.resume();
      s.refuseIncompleteRequest(method === undefined ? ':method' : ':path');
      return;
    }
    this.#method = method;
    this.#path = path;
    if (eos) this.#start(null);
  }

  data(chunk: Buffer, eos: boolean): void {
    if (this.#done) return;
    if (this.#echoChunks !== null) {
      if (chunk.length > 0) this.#echoChunks.push(chunk);
      if (eos) this.#echo();
      return;
    }
    if (!this.#started) {
      this.#decideLength(chunk.length, eos);
      if (eos) {
        this.#start(chunk);
        return;
      }
      this.#body = new RequestBodyStream();
      const body = this.#body;
      const flow = this.#stream.requestPipeline;
      let waiting = false;
      body.onDemand = () => {
        if (waiting) {
          waiting = false;
          flow.release();
        }
      };
      this.#pushBody = (c) => {
        if (!body.push(c) && !waiting) {
          waiting = true;
          flow.hold();
        }
      };
      if (!this.#start(body)) return;
    }
    if (chunk.length > 0) this.#pushBody(chunk);
    if (eos) this.#body?.push(null);
  }

  trailers(): void {
    // HTTP/1 request trailers cannot be forwarded through undici; the body ends here.
    this.data(Buffer.alloc(0), true);
  }

  #pushBody: (chunk: Buffer) => void = () => {};

  /** Content-Length as the filters left the body (settleContentLength; the response side does the same). */
  #decideLength(firstChunk: number, eos: boolean): void {
    const s = this.#stream;
    settleContentLength(s.requestHeaders, eos ? firstChunk : -1, s.requestPipeline.bodyEdited, s.clientContentLength);
  }

  /** False when the request was refused instead (it is answered; its body is read and dropped). */
  #start(body: Buffer | RequestBodyStream | null): boolean {
    this.#started = true;
    if (this.#stream.startUpstream(this.#method, this.#path, body)) return true;
    this.#done = true;
    this.#stream.req.resume();
    return false;
  }

  #echo(): void {
    this.#done = true;
    const s = this.#stream;
    const h = s.requestHeaders;
    const received = Buffer.concat(this.#echoChunks ?? []);
    // What an upstream would be sent: a body a filter edited gets its new length.
    if (s.requestPipeline.bodyEdited) h.set('content-length', String(received.length));
    const headers: [string, string][] = [];
    for (let i = 0; i < h.size; i++) if (!h.names[i]!.startsWith(':')) headers.push([h.names[i]!, h.values[i]!]);
    const body = Buffer.from(
      JSON.stringify({
        method: h.get(':method'),
        path: h.get(':path'),
        authority: h.get(':authority'),
        headers,
        body: received.toString('utf8'),
      }, null, 2) + '\n',
    );
    const out = new HeaderMap([':status', 'content-type', 'content-length'], ['200', 'application/json', String(body.length)]);
    s.respond(out, body, 'echo');
  }
}

/** The client side of the request pipeline: pausing it pauses reading the socket. */
class RequestSource implements FlowSource {
  readonly #req: IncomingMessage;
  constructor(req: IncomingMessage) {
    this.#req = req;
  }
  pause(): void {
    this.#req.pause();
  }
  resume(): void {
    this.#req.resume();
  }
}

/** Made outside HttpStream.start so the listener's context holds the stream and nothing else. */
function closeListener(stream: HttpStream): () => void {
  return () => stream.responseClosed();
}
