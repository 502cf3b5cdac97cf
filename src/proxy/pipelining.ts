// HTTP/1.1 pipelining: a client may send its next requests before the first response comes back.
// Node parses every request in what it has read (up to 64 KiB at a time, hundreds of small
// requests) and hands each to the server at once; started at once, one connection would fan out
// to as many upstream requests and connections. Like Envoy, sluice serves one connection's
// requests one at a time: a request whose response would have to queue behind another's starts
// only when that response is done, and the connection is not read while requests wait.

import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

const kWaiting = Symbol('sluice.waitingRequests');
const kHeld = Symbol('sluice.readingHeld');

type ClientSocket = Socket & { [kWaiting]?: number; [kHeld]?: true };

/**
 * Whether the request must wait for the responses before it on its connection. Node hands a
 * response its socket only once the previous response is done; until then `res.socket` is null.
 */
export function mustWaitTurn(res: ServerResponse): boolean {
  return res.socket === null;
}

/** Calls `start` when the response's turn comes, holding the connection's reading till then. */
export function startInTurn(socket: Socket, res: ServerResponse, start: () => void): void {
  const client = socket as ClientSocket;
  const waiting = (client[kWaiting] ?? 0) + 1;
  client[kWaiting] = waiting;
  if (waiting === 1) holdReading(client);
  res.once('socket', () => {
    const left = client[kWaiting]! - 1;
    client[kWaiting] = left;
    // The last waiting request may still have body bytes to read.
    if (left === 0) client.resume();
    start();
  });
}

function holdReading(socket: ClientSocket): void {
  if (socket[kHeld] === undefined) {
    socket[kHeld] = true;
    // Node resumes a socket whenever a request body wants data (and after its own write
    // backpressure); while requests wait, it is paused again before anything is read.
    socket.on('resume', pauseWhileWaiting);
  }
  socket.pause();
}

function pauseWhileWaiting(this: ClientSocket): void {
  if (this[kWaiting]! > 0) this.pause();
}
