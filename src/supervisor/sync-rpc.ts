// A synchronous request/response channel from a worker thread to the supervisor over a
// SharedArrayBuffer. Guests call shared-data and queue host functions synchronously, and the
// data is process-wide, so a worker must be able to ask the supervisor and wait for the answer
// inside a host call: it writes the request, wakes the supervisor and blocks in Atomics.wait.
// The supervisor answers from its event loop (Atomics.waitAsync), which never blocks on workers,
// so there is no deadlock. Messages are V8-serialized (Buffers and BigInts survive); payloads
// are copied out of the channel first, since deserialized Buffers would otherwise alias it.
//
// Layout: Int32 state, Int32 byte length, then the payload.

import { deserialize, serialize } from 'node:v8';

const IDLE = 0;
const REQUEST = 1;
const RESPONSE = 2;
const HEADER_BYTES = 8;
/** Largest request or response; a shared-data value bigger than this cannot cross threads. */
export const RPC_CHANNEL_BYTES = 8 * 1024 * 1024;
/** How long a worker waits for the supervisor before giving up on a call. */
const CALL_TIMEOUT_MS = 5000;

export function createRpcChannel(): SharedArrayBuffer {
  return new SharedArrayBuffer(HEADER_BYTES + RPC_CHANNEL_BYTES);
}

export class RpcError extends Error {
  readonly code = 'SLUICE_RPC';
}

type Reply = { ok: unknown } | { error: string };

/** The worker's end: `call` blocks until the supervisor answered. */
export class SyncRpcClient {
  readonly #state: Int32Array;
  readonly #bytes: Buffer;
  #broken = false;

  constructor(channel: SharedArrayBuffer) {
    this.#state = new Int32Array(channel, 0, 2);
    this.#bytes = Buffer.from(channel, HEADER_BYTES);
  }

  call(request: unknown): unknown {
    if (this.#broken) throw new RpcError('the supervisor stopped answering');
    const payload = serialize(request);
    if (payload.length > this.#bytes.length) {
      throw new RpcError(`a request of ${payload.length} bytes does not fit the channel between a worker and the supervisor (${this.#bytes.length} bytes)`);
    }
    payload.copy(this.#bytes);
    Atomics.store(this.#state, 1, payload.length);
    Atomics.store(this.#state, 0, REQUEST);
    Atomics.notify(this.#state, 0);
    const deadline = Date.now() + CALL_TIMEOUT_MS;
    while (Atomics.load(this.#state, 0) === REQUEST) {
      const left = deadline - Date.now();
      if (left <= 0 || Atomics.wait(this.#state, 0, REQUEST, left) === 'timed-out') {
        // The supervisor may still answer later; never reuse a channel in an unknown state.
        this.#broken = true;
        throw new RpcError(`the supervisor did not answer within ${CALL_TIMEOUT_MS} ms`);
      }
    }
    const length = Atomics.load(this.#state, 1);
    const reply = deserialize(Buffer.from(this.#bytes.subarray(0, length))) as Reply;
    Atomics.store(this.#state, 0, IDLE);
    Atomics.notify(this.#state, 0);
    if ('error' in reply) throw new RpcError(reply.error);
    return reply.ok;
  }
}

/** The supervisor's end: answers requests with `handle` until stopped. */
export function serveRpc(channel: SharedArrayBuffer, handle: (request: unknown) => unknown): { stop(): void } {
  const state = new Int32Array(channel, 0, 2);
  const bytes = Buffer.from(channel, HEADER_BYTES);
  let stopped = false;
  const loop = async (): Promise<void> => {
    while (!stopped) {
      const current = Atomics.load(state, 0);
      if (current === REQUEST) {
        let reply: Reply;
        try {
          reply = { ok: handle(deserialize(Buffer.from(bytes.subarray(0, Atomics.load(state, 1))))) };
        } catch (err) {
          reply = { error: err instanceof Error ? err.message : String(err) };
        }
        let payload = serialize(reply);
        if (payload.length > bytes.length) payload = serialize({ error: `reply of ${payload.length} bytes is larger than the channel` });
        payload.copy(bytes);
        Atomics.store(state, 1, payload.length);
        Atomics.store(state, 0, RESPONSE);
        Atomics.notify(state, 0);
        continue;
      }
      // Sleep until the state changes (a new request, or the worker having read a reply).
      const waiting = Atomics.waitAsync(state, 0, current, 1000);
      if (waiting.async) await waiting.value;
    }
  };
  void loop();
  return {
    stop() {
      stopped = true;
      Atomics.notify(state, 0);
    },
  };
}
