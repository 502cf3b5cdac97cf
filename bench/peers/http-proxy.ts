// The peer a user would otherwise run: http-proxy's reverse proxy with a keep-alive agent and
// nothing else (no filters, no logging). Usage: http-proxy.ts --port N --upstream M

import { Agent, createServer } from 'node:http';
import httpProxy from 'http-proxy';
import { portArg, upstreamPortArg } from './args.ts';

const proxy = httpProxy.createProxyServer({
  target: `http://127.0.0.1:${upstreamPortArg()}`,
  agent: new Agent({ keepAlive: true, maxSockets: 128 }),
});
proxy.on('error', (_err, _req, res) => {
  // `res` is a socket for WebSocket upgrades; plain requests get a 502.
  if ('writeHead' in res && !res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway\n');
  else res.destroy();
});

const server = createServer({ keepAlive: true }, (req, res) => proxy.web(req, res));
server.keepAliveTimeout = 60_000;
server.listen(portArg(), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
