// The benchmark's upstream: a minimal keep-alive node:http server answering every request with
// the same ~100-byte body and a few headers, in one write. Usage: upstream.ts --port N

import { createServer } from 'node:http';
import { portArg } from './args.ts';

const BODY = Buffer.from(`${JSON.stringify({ ok: true, service: 'bench-upstream', note: 'a small fixed JSON body of about 100 bytes' })}\n`);
const HEADERS = {
  'content-type': 'application/json',
  'content-length': String(BODY.length),
  'cache-control': 'no-store',
  'x-upstream': 'bench',
};

const server = createServer({ keepAlive: true }, (req, res) => {
  // Drain any request body before answering, so keep-alive connections stay usable.
  req.resume();
  req.on('end', () => {
    res.writeHead(200, HEADERS);
    res.end(BODY);
  });
});
// Load generators keep connections busy; never let an idle timeout close one mid-round.
server.keepAliveTimeout = 60_000;
server.listen(portArg(), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
