// One request to a cluster endpoint through undici's dispatcher, with a handler that sees the
// raw response headers (order and duplicates kept) and applies backpressure both ways.

import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { QUEUED, type Cluster, type ClusterWaiter, type Endpoint } from './cluster.ts';
import { upstreamDeadlines, type Expiring } from './deadlines.ts';

export interface UpstreamEvents {
  upstreamHeaders(status: number, rawHeaders: Buffer[]): void;
  /** Return false to pause the response body until resume(). */
  upstreamData(chunk: Buffer): boolean;
  upstreamEnd(rawTrailers: Buffer[] | null): void;
  upstreamError(err: Error): void;
}

export interface UpstreamRequest {
  method: string;
  path: string;
  headers: string[];
  body: Buffer | Readable | null;
}

/** A request body fed chunk by chunk by the request pipeline; reads signal demand. */
export class RequestBodyStream extends Readable {
  onDemand: () => void = () => {};
  override _read(): void {
    this.onDemand();
  }
}

/** Timeouts shorter than this get a timer of their own; longer ones share the deadline check. */
const PRECISE_TIMER_BELOW_MS = 1000;

/**
 * One upstream request: admitted by its cluster (Cluster.admit) to an endpoint at once or to the
 * cluster's queue, and given back when it finishes. It is its own undici handler (no closures
 * per request), and its timeout — until the response headers, the wait in the queue included,
 * then between body chunks while sluice is reading the body — is a deadline in the shared check
 * of deadlines.ts.
 */
export class UpstreamExchange implements Dispatcher.DispatchHandler, Expiring, ClusterWaiter {
  readonly cluster: Cluster;
  readonly #events: UpstreamEvents;
  readonly #timeoutMs: number;
  /** What is sent, kept until it is (a request may wait in the cluster's queue). */
  #request: UpstreamRequest | null;
  /** The endpoint the request was sent to; null while it waits in the queue, or before send(). */
  #endpoint: Endpoint | null = null;
  #abort: ((err?: Error) => void) | null = null;
  #resume: (() => void) | null = null;
  #paused = false;
  #done = false;
  #headersReceived = false;
  #timer: NodeJS.Timeout | null = null;
  deadline = Infinity;
  deadlineSlot = -1;
  /** Set when the exchange finished or failed; later events are ignored. */
  aborted = false;

  constructor(cluster: Cluster, request: UpstreamRequest, events: UpstreamEvents) {
    this.cluster = cluster;
    this.#request = request;
    this.#events = events;
    this.#timeoutMs = cluster.config.timeoutMs;
  }

  /** "host:port" of the endpoint the request was sent to; null while none was. */
  get endpoint(): string | null {
    return this.#endpoint === null ? null : this.#endpoint.address;
  }

  /**
   * Sends the request, or queues it until the cluster has a connection for it. False when the
   * cluster refused it (max_pending_requests wait already): nothing was started.
   */
  send(): boolean {
    const admitted = this.cluster.admit(this);
    if (admitted === null) return false;
    const timeout = this.#timeoutMs;
    if (timeout > 0 && timeout < PRECISE_TIMER_BELOW_MS) {
      this.#timer = setTimeout(() => this.expire(), timeout);
    } else if (timeout > 0) {
      this.deadline = performance.now() + timeout;
      upstreamDeadlines.track(this);
    }
    if (admitted !== QUEUED) this.startOn(admitted);
    return true;
  }

  /** The cluster's answer: `endpoint` has a connection for the request. */
  startOn(endpoint: Endpoint): void {
    this.#endpoint = endpoint;
    const request = this.#request!;
    this.#request = null;
    endpoint.pool.dispatch(
      {
        method: request.method as Dispatcher.HttpMethod,
        path: request.path,
        headers: request.headers,
        body: request.body,
        headersTimeout: 0,
        bodyTimeout: 0,
      },
      this,
    );
  }

  /** Ends the request where it is: in undici, or in the cluster's queue (which it leaves). */
  #stop(): void {
    if (this.#endpoint === null) this.cluster.withdraw(this);
    else this.#abort?.();
  }

  // ---- undici's handler interface ---------------------------------------------------------

  onConnect(abort: (err?: Error) => void): void {
    this.#abort = abort;
    if (this.aborted) abort();
  }

  onHeaders(status: number, rawHeaders: Buffer[], resume: () => void): boolean {
    // Informational responses (102, 103 Early Hints) are not forwarded, as in Envoy: the final
    // response follows on the same exchange, and the wait for it goes on. undici fails the
    // connection on a 100 itself (client-h1.js). A 101 goes on as a response (a 502): sluice
    // asks for no upgrade, and undici fails one that has an Upgrade header.
    if (status < 200 && status !== 101) return true;
    if (status > 599) {
      // Status codes run 100-599 (RFC 9110 §15): anything above is not an HTTP response, and
      // fails like one undici cannot parse (a 503 before the response starts).
      this.#abort?.(Object.assign(new Error(`upstream answered status ${status}`), { code: 'SLUICE_INVALID_STATUS' }));
      return false;
    }
    this.#headersReceived = true;
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    // From here on the timeout bounds the wait between body chunks, the first one included.
    if (this.#paused) upstreamDeadlines.untrack(this);
    else this.#startBodyTimeout();
    if (this.aborted) return false;
    this.#resume = resume;
    this.#events.upstreamHeaders(status, rawHeaders);
    return !this.#paused;
  }

  onData(chunk: Buffer): boolean {
    if (this.aborted) return false;
    if (this.deadlineSlot !== -1) this.deadline = performance.now() + this.#timeoutMs;
    return this.#events.upstreamData(chunk) && !this.#paused;
  }

  // undici ends every request it was given with one of these two, an aborted one included: the
  // endpoint's connection goes back to the cluster here and nowhere else.

  onComplete(trailers: string[] | null): void {
    this.cluster.release(this.#endpoint!);
    this.#finish();
    if (!this.aborted) this.#events.upstreamEnd(trailers as unknown as Buffer[] | null);
  }

  onError(err: Error): void {
    this.cluster.release(this.#endpoint!);
    this.#finish();
    if (!this.aborted) this.#events.upstreamError(err);
  }

  // ---- deadlines -----------------------------------------------------------------------------

  /** The timeout ran out: no response headers (504), or the body stalled (a reset). */
  expire(): void {
    this.#timer = null;
    if (this.#done || this.aborted) return;
    this.aborted = true;
    this.#finish();
    this.#stop();
    const what = this.#headersReceived ? 'no response body data' : 'no response';
    const code = this.#headersReceived ? 'UND_ERR_BODY_TIMEOUT' : 'SLUICE_UPSTREAM_TIMEOUT';
    this.#events.upstreamError(Object.assign(new Error(`${what} within ${this.#timeoutMs} ms`), { code }));
  }

  #finish(): void {
    this.#done = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    upstreamDeadlines.untrack(this);
  }

  /**
   * The body timeout, from now. Not while paused: an upstream sluice is not reading from (a slow
   * client, a filter holding the response) is not a stalled one, and resume() starts it again.
   */
  #startBodyTimeout(): void {
    if (this.#timeoutMs <= 0 || this.#paused || this.#done) return;
    this.deadline = performance.now() + this.#timeoutMs;
    upstreamDeadlines.track(this);
  }

  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    if (this.#headersReceived) upstreamDeadlines.untrack(this);
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    // Before undici's resume: it may deliver buffered data (and a new pause) synchronously.
    if (this.#headersReceived) this.#startBodyTimeout();
    this.#resume?.();
  }

  abort(): void {
    if (this.aborted || this.#done) return;
    this.aborted = true;
    this.#finish();
    this.#stop();
  }
}
