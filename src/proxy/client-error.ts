// What a client gets when Node cannot make a request of what it sent, and what the access log
// then says: of the request whose body turned out malformed, or of one Node could not make at all.

import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from '../node-http.ts';

/** Node's statuses for what it could not parse or did not receive in time; anything else is 400. */
const STATUS_BY_CODE: Record<string, number> = {
  HPE_HEADER_OVERFLOW: 431,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 413,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
};

/** How long an answered connection may stay open for the client to read the answer and close. */
const CLOSE_AFTER_ANSWER_MS = 2000;

/** What the client was answered, for the access log. */
export interface ClientErrorAnswer {
  status: number;
  /** Envoy-style response code details: `http1.codec_error{HPE_...}`, or which timeout ran out. */
  details: string;
}

/** The status written for a request in flight, for its stream's access log (it never sees it). */
const answered = new WeakMap<object, ClientErrorAnswer>();

/**
 * A request Node could not parse or did not receive in time: answered with Node's own choice of
 * status (431 for headers over the limit, 413 for chunk extensions over it, 408 for a request
 * not received within the server's timeouts, else 400), and the connection closed. A request
 * pipelined behind others is answered after their responses, in its place. Once a response has
 * begun for the request that failed (an early answer to an upload whose body is malformed),
 * another head would corrupt it: the connection is only closed. `lastWaiting` is the response
 * of the last request waiting its turn on the connection, if any (pipelining.ts). `unmade` hears
 * of each answer to a request Node never made (no stream logs it).
 */
export function answerClientError(
  err: NodeJS.ErrnoException,
  socket: Duplex,
  lastWaiting: ServerResponse | undefined,
  unmade: (answer: ClientErrorAnswer) => void,
): void {
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage ?? null;
  // A client that ended its side in the middle of a request has left (Node's server does not
  // keep half-open connections): nothing to answer.
  if (!socket.writable || err.code === 'ECONNRESET' || err.code === 'HPE_INVALID_EOF_STATE') {
    socket.destroy();
    return;
  }
  if (inFlight !== null && inFlight.req?.complete === true) {
    // The request in flight arrived whole: the failure is a later request's.
    if (lastWaiting !== undefined && lastWaiting.req?.complete === false) {
      // The body of the last request waiting its turn: answered in its place when the turn comes.
      lastWaiting.prependOnceListener('socket', () => answer(err, socket, lastWaiting, unmade));
    } else {
      // A request Node could not make at all, behind every one it made.
      (lastWaiting ?? inFlight).once('close', () => answer(err, socket, null, unmade));
    }
    return;
  }
  if (inFlight?.headersSent === true) {
    socket.destroy();
    return;
  }
  answer(err, socket, inFlight, unmade);
}

/**
 * Writes Node's status for `err` and closes the connection; `inFlight` is the request it
 * replaces, null when Node made none.
 */
function answer(err: NodeJS.ErrnoException, socket: Duplex, inFlight: ServerResponse | null, unmade: (answer: ClientErrorAnswer) => void): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const status = STATUS_BY_CODE[err.code ?? ''] ?? 400;
  const reason = STATUS_CODES[status]!;
  const details = detailsOf(err, inFlight !== null);
  // A request whose body Node failed on (a bad chunk) is a stream already: this is its answer.
  if (inFlight !== null) answered.set(inFlight, { status, details });
  else unmade({ status, details });
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
  // Half-closed, the connection would hold its max_connections slot until idle_timeout if the
  // client never closes its side; closed at once, a client still sending could see a reset
  // before it reads the answer. Node destroys the socket when this much idle time has passed.
  (socket as Partial<Socket>).setTimeout?.(CLOSE_AFTER_ANSWER_MS);
}

/**
 * Envoy's details for what went wrong: its names for the two timeouts (Node reports both as one
 * code: the headers had not all arrived when no request was made yet), else the parser's error
 * code, as Envoy's codec reports its own.
 */
function detailsOf(err: NodeJS.ErrnoException, requestMade: boolean): string {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return requestMade ? 'request_overall_timeout' : 'request_header_timeout';
  return `http1.codec_error{${err.code ?? 'unknown'}}`;
}

/** The answer answerClientError wrote in place of `res`, if it did. */
export function clientErrorAnswer(res: ServerResponse): { status: number; details: string } | undefined {
  return answered.get(res);
}
