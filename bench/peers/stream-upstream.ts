// Upstream for the streaming benchmark: GET /bytes/<n> answers n bytes in 64 KiB writes
// (respecting backpressure), POST counts the body and answers its size, anything else answers
// a small 200. Usage: stream-upstream.ts --port N

import { createServer } from 'node:http';
import { portArg } from './args.ts';

const CHUNK = Buffer.alloc(64 * 1024, 0x61);

createServer((req, res) => {
  if (req.method === 'POST') {
    let received = 0;
    req.on('data', (c: Buffer) => (received += c.length));
    req.on('end', () => res.end(String(received)));
    return;
  }
  const match = /^\/bytes\/(\d+)$/.exec(req.url ?? '');
  if (match === null) {
    res.end('ok');
    return;
  }
  const total = Number(match[1]);
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total) });
  let sent = 0;
  const pump = (): void => {
    while (sent < total) {
      const piece = total - sent >= CHUNK.length ? CHUNK : CHUNK.subarray(0, total - sent);
      sent += piece.length;
      if (!res.write(piece)) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}).listen(portArg(), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
