// HTTP/1.1 pipelining: a client may send its next requests before the first response comes back.
// Node parses every request in what it has read (up to 64 KiB at a time, hundreds of small
// requests) and hands each to the server at once; started at once, one connection would fan out
// to as many upstream requests and connections. Like Envoy, sluice serves one connection's
// requests one at a time: a request whose response would have to queue behind another's starts
// only when that response is done. Reading goes on while few requests wait, so that a client
// leaving is seen at once (a paused socket reads no FIN or reset: its requests would be served
// into the void, or hang with the upstream); past HOLD_READING_AT waiting requests it stops, which
// bounds what one connection holds.

import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Waiting requests on one connection at which it is no longer read (deeper than most clients pipeline). */
export const HOLD_READING_AT = 32;

const kWaiting = Symbol('sluice.waitingRequests');
const kHeld = Symbol('sluice.readingHeld');
const kLast = Symbol('sluice.lastWaitingResponse');

type ClientSocket = Socket & { [kWaiting]?: number; [kHeld]?: true; [kLast]?: ServerResponse };

/**
 * Whether the request must wait for the responses before it on its connection. Node hands a
 * response its socket only once the previous response is done; until then `res.socket` is null.
 */
export function mustWaitTurn(res: ServerResponse): boolean {
  return res.socket === null;
}

/** Calls `start` when the response's turn comes; holds the connection's reading while many wait. */
export function startInTurn(socket: Socket, res: ServerResponse, start: () => void): void {
  const client = socket as ClientSocket;
  const waiting = (client[kWaiting] ?? 0) + 1;
  client[kWaiting] = waiting;
  client[kLast] = res;
  if (waiting === HOLD_READING_AT) holdReading(client);
  res.once('socket', () => {
    const left = client[kWaiting]! - 1;
    client[kWaiting] = left;
    if (left === HOLD_READING_AT - 1) client.resume();
    start();
  });
}

function holdReading(socket: ClientSocket): void {
  if (socket[kHeld] === undefined) {
    socket[kHeld] = true;
    // Node resumes a socket whenever a request body wants data (and after its own write
    // backpressure); while many requests wait, it is paused again before anything is read.
    socket.on('resume', pauseWhileWaiting);
  }
  socket.pause();
}

function pauseWhileWaiting(this: ClientSocket): void {
  if (this[kWaiting]! >= HOLD_READING_AT) this.pause();
}

/** The response of the last request that waited its turn on the connection, unless it is done. */
export function lastWaitingResponse(socket: Socket): ServerResponse | undefined {
  const last = (socket as ClientSocket)[kLast];
  return last === undefined || last.writableFinished ? undefined : last;
}
