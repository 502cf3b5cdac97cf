// A listener's HTTP server: which client connections it takes and how long it keeps them. Each
// request it accepts becomes an HttpStream, in turn on its connection (pipelining.ts).

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ThrottledWarning } from '../abi/throttled-warning.ts';
import { createServer } from '../node-http.ts';
import { logAccess } from './access-log.ts';
import { answerClientError, type ClientErrorAnswer } from './client-error.ts';
import type { ConnectionLimit } from './connection-limit.ts';
import { lastWaitingResponse, mustWaitTurn, startInTurn } from './pipelining.ts';
import { RawHeadersMessage } from './raw-headers-message.ts';
import { HttpStream, type ListenerRuntime } from './stream.ts';

/**
 * How often Node looks for requests over request_headers_timeout / request_timeout. Its default
 * (30 s) would let a 60 s timeout run to 90 s; the check walks the open connections only.
 */
const TIMEOUT_CHECK_INTERVAL_MS = 1000;

const refusedWarning = new ThrottledWarning('client connection refused: the process holds max_connections client connections');
const acceptFailedWarning = new ThrottledWarning('accepting a client connection failed', undefined, 'error');

export function listenerServer(runtime: ListenerRuntime, limit: ConnectionLimit): Server {
  const config = runtime.config;
  const stats = runtime.metrics.listenerConnections(config.name);
  const idleMs = config.idleTimeoutMs;
  const connectionIds = new WeakMap<Socket, number>();
  let nextConnectionId = 1;
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const socket = req.socket;
    // The first request ends the wait for one (Node resets the timeout only after its own).
    if (socket.timeout) socket.setTimeout(0);
    const connectionId = connectionIds.get(socket) ?? 0;
    // A request waiting behind another on its connection becomes a stream when its turn comes:
    // its clock starts then (as in Envoy, which reads it only then), and it holds less meanwhile.
    if (mustWaitTurn(res)) startInTurn(socket, res, () => new HttpStream(runtime, req, res, connectionId).start());
    else new HttpStream(runtime, req, res, connectionId).start();
  };
  const server = createServer(
    {
      keepAlive: true,
      IncomingMessage: RawHeadersMessage,
      // Between requests Node closes the connection after this (and a second more than the
      // Keep-Alive header says, so that the client gives up first); before the first, see below.
      keepAliveTimeout: idleMs,
      headersTimeout: config.requestHeadersTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
    },
    handle,
  );
  // The open connections, for a drain to reach the answers they are carrying.
  const sockets = new Set<Socket>();
  // Draining swaps the handler rather than testing a flag on every request, and reaches the
  // answer each connection carries through its socket (Node's `_httpMessage`).
  drains.set(server, {
    start() {
      // An answer under way whose head is not written yet says `Connection: close` too.
      for (const socket of sockets) {
        const res = currentAnswer(socket);
        if (res != null && !res.headersSent) res.shouldKeepAlive = false;
      }
      server.off('request', handle);
      server.on('request', (req: IncomingMessage, res: ServerResponse) => {
        res.shouldKeepAlive = false;
        handle(req, res);
      });
    },
    sweep(lastRead: WeakMap<Socket, number>) {
      // Closed only when idle since the last sweep: a kept-alive client about to send its next
      // request on a connection that has just gone idle would see it reset under that request.
      for (const socket of sockets) {
        const read = socket.bytesRead;
        if (currentAnswer(socket) == null && lastRead.get(socket) === read) socket.destroy();
        else lastRead.set(socket, read);
      }
    },
  });
  // One function for every connection's close, not a closure each.
  const closed = function (this: Socket): void {
    sockets.delete(this);
    stats.open--;
    limit.release();
  };
  server.on('connection', (socket: Socket) => {
    if (!limit.admit()) {
      stats.rejected++;
      refusedWarning.warn(runtime.logger, { max_connections: limit.max });
      socket.destroy();
      return;
    }
    stats.open++;
    sockets.add(socket);
    socket.on('close', closed);
    connectionIds.set(socket, nextConnectionId++);
    // A connection that never sends a request is idle too. With no 'timeout' listener on the
    // server, Node destroys a socket whose timeout fires.
    if (idleMs > 0) socket.setTimeout(idleMs);
  });
  // Accepting fails when the process is out of descriptors (libuv mostly drops such a
  // connection without telling). Unheard, the error would throw; before listening, listen's own
  // handler reports it.
  server.on('error', (err: NodeJS.ErrnoException) => {
    if (server.listening) acceptFailedWarning.warn(runtime.logger, { code: err.code, err: err.message });
  });
  // A request Node could not make has no stream to count and log it: this does, with what is
  // known (no method, path or route).
  const unmade = (answer: ClientErrorAnswer): void => {
    runtime.metrics.request(config.name, '', answer.status);
    if (!runtime.logger.isLevelEnabled('info')) return;
    logAccess(runtime.logger, {
      method: null,
      path: null,
      status: answer.status,
      duration_ms: null,
      route: null,
      cluster: null,
      filters: [],
      details: answer.details,
      bytes_in: 0,
      bytes_out: 0,
    });
  };
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => answerClientError(err, socket, lastWaitingResponse(socket), unmade));
  server.on('connect', refuseConnect);
  return server;
}

/** The answer a connection carries now, if any (Node's own link from socket to response). */
function currentAnswer(socket: Socket): ServerResponse | null | undefined {
  return (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
}

/** What drainListener does to a listener's connections (set up by listenerServer). */
const drains = new WeakMap<Server, { start(): void; sweep(lastRead: WeakMap<Socket, number>): void }>();

/** How often a draining listener looks for connections that stayed idle since it last looked. */
const DRAIN_SWEEP_MS = 250;

/**
 * Stops `server` taking connections and lets the open ones finish: every answer not yet begun
 * closes its connection, and a connection idle for a whole sweep is closed. Resolves once none
 * is left; after `timeoutMs` the rest are closed, requests in flight with them.
 */
export function drainListener(server: Server, timeoutMs: number): Promise<void> {
  const drain = drains.get(server);
  drain?.start();
  return new Promise((resolve) => {
    const lastRead = new WeakMap<Socket, number>();
    const sweep = setInterval(() => drain?.sweep(lastRead), DRAIN_SWEEP_MS);
    drain?.sweep(lastRead);
    const force = setTimeout(() => server.closeAllConnections(), timeoutMs);
    // net.Server's close: stops listening and waits for the connections. http.Server's would
    // also close every idle connection at once, under any request a client is sending on one.
    NetServer.prototype.close.call(server, () => {
      clearInterval(sweep);
      clearTimeout(force);
      resolve();
    });
  });
}

/** sluice is a reverse proxy, not a tunnel: CONNECT gets 405 (without a listener Node would just close). */
function refuseConnect(_req: IncomingMessage, socket: Duplex): void {
  socket.end('HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
}
