// Command-line arguments shared by the benchmark peers.

import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { port: { type: 'string' }, upstream: { type: 'string' } },
  strict: true,
});

function parsePort(text: string | undefined, flag: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    process.stderr.write(`${flag} PORT is required (got ${text ?? 'nothing'})\n`);
    process.exit(2);
  }
  return port;
}

/** The port to listen on (127.0.0.1). */
export function portArg(): number {
  return parsePort(values.port, '--port');
}

/** The upstream's port (127.0.0.1), for proxies. */
export function upstreamPortArg(): number {
  return parsePort(values.upstream, '--upstream');
}
