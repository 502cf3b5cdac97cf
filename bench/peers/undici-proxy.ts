// The floor a Node.js reverse proxy can reach: node:http in front, one undici Pool behind,
// request and response streamed with raw headers (order and duplicates kept), hop-by-hop
// headers dropped, backpressure both ways, the upstream request abandoned when the client
// leaves. No routing, no logging, no filters.
// Usage: undici-proxy.ts --port N --upstream M

import { createServer } from 'node:http';
import { Pool, type Dispatcher } from 'undici';
import { portArg, upstreamPortArg } from './args.ts';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'upgrade', 'proxy-connection', 'trailer']);

const pool = new Pool(`http://127.0.0.1:${upstreamPortArg()}`, { connections: 128, headersTimeout: 0, bodyTimeout: 0 });

/** Raw name/value pairs (strings or Buffers) without hop-by-hop headers, flattened. */
function forwardable(raw: ReadonlyArray<string | Buffer>): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1');
    if (HOP_BY_HOP.has(name.toLowerCase())) continue;
    out.push(name, raw[i + 1]!.toString('latin1'));
  }
  return out;
}

const server = createServer({ keepAlive: true }, (req, res) => {
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  let abort: ((err?: Error) => void) | null = null;
  // A client that leaves mid-response never drains: without the abort its upstream connection
  // stayed paused for good, and after 128 of them (wrk leaves mid-response at the end of every
  // timed round) the pool had none left and the peer answered nothing more.
  res.on('close', () => {
    if (!res.writableFinished) abort?.(new Error('client closed the connection'));
  });
  const handler: Dispatcher.DispatchHandler = {
    onConnect(abortRequest) {
      abort = abortRequest;
    },
    onHeaders(status, rawHeaders, resume) {
      res.writeHead(status, forwardable(rawHeaders as unknown as Buffer[]));
      res.on('drain', resume);
      return true;
    },
    onData(chunk) {
      return res.write(chunk);
    },
    onComplete() {
      res.end();
    },
    onError(err) {
      if (res.headersSent) res.destroy(err);
      else res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway\n');
    },
  };
  pool.dispatch(
    { method: req.method as Dispatcher.HttpMethod, path: req.url!, headers: forwardable(req.rawHeaders), body: hasBody ? req : null },
    handler,
  );
});
server.keepAliveTimeout = 60_000;
server.listen(portArg(), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
