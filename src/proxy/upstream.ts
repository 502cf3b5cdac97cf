// One request to a cluster endpoint through undici's dispatcher, with a handler that sees the
// raw response headers (order and duplicates kept) and applies backpressure both ways.

import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Cluster } from './cluster.ts';

export interface UpstreamEvents {
  onHeaders(status: number, rawHeaders: Buffer[]): void;
  /** Return false to pause the response body until resume(). */
  onData(chunk: Buffer): boolean;
  onEnd(rawTrailers: Buffer[] | null): void;
  onError(err: Error): void;
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

export class UpstreamExchange {
  readonly cluster: Cluster;
  readonly endpoint: string;
  #abort: ((err?: Error) => void) | null = null;
  #resume: (() => void) | null = null;
  #paused = false;
  #done = false;
  #timer: NodeJS.Timeout | null = null;
  /** Set when the exchange finished or failed; later events are ignored. */
  aborted = false;

  constructor(cluster: Cluster, request: UpstreamRequest, events: UpstreamEvents) {
    this.cluster = cluster;
    const pool = cluster.pick();
    this.endpoint = cluster.endpointOf(pool);
    const timeout = cluster.config.timeoutMs;
    // undici's own timeouts tick at a coarse (~0.5 s) resolution; the wait for response headers
    // gets a precise timer so `timeout: 200ms` means 200 ms.
    if (timeout > 0) {
      this.#timer = setTimeout(() => {
        this.#timer = null;
        if (this.#done || this.aborted) return;
        this.aborted = true;
        this.#abort?.();
        events.onError(Object.assign(new Error(`no response within ${timeout} ms`), { code: 'SLUICE_UPSTREAM_TIMEOUT' }));
      }, timeout);
    }
    const handler: Dispatcher.DispatchHandler = {
      onConnect: (abort) => {
        this.#abort = abort;
        if (this.aborted) abort();
      },
      onHeaders: (status, rawHeaders, resume) => {
        this.#clearTimer();
        if (this.aborted) return false;
        this.#resume = resume;
        events.onHeaders(status, rawHeaders as unknown as Buffer[]);
        return !this.#paused;
      },
      onData: (chunk) => {
        if (this.aborted) return false;
        return events.onData(chunk) && !this.#paused;
      },
      onComplete: (trailers) => {
        this.#done = true;
        this.#clearTimer();
        if (!this.aborted) events.onEnd(trailers as unknown as Buffer[] | null);
      },
      onError: (err) => {
        this.#done = true;
        this.#clearTimer();
        if (!this.aborted) events.onError(err);
      },
    };
    pool.dispatch(
      {
        method: request.method as Dispatcher.HttpMethod,
        path: request.path,
        headers: request.headers,
        body: request.body,
        headersTimeout: 0,
        bodyTimeout: timeout,
      },
      handler,
    );
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#resume?.();
  }

  abort(): void {
    if (this.aborted || this.#done) return;
    this.aborted = true;
    this.#clearTimer();
    this.#abort?.();
  }
}
