// The benchmark's undici peer keeps serving when clients leave mid-response, as wrk's clients do
// at the end of every timed round. It used to leave the upstream connection of each such request
// paused for good (the client's 'drain' never comes), until its pool of 128 was used up and it
// answered nothing more: the "stalled" warm-up rounds of 2026-12-03.

import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../bench/servers.ts';

const PEER = join(import.meta.dirname, '..', '..', 'bench', 'peers', 'undici-proxy.ts');
const POOL_CONNECTIONS = 128;

let upstream: Server | null = null;
let peer: ChildProcess | null = null;

afterEach(async () => {
  peer?.kill('SIGKILL');
  peer = null;
  upstream?.closeAllConnections();
  await new Promise<void>((resolve) => (upstream === null ? resolve() : upstream.close(() => resolve())));
  upstream = null;
});

/** An upstream that sends its headers at once and its body 30 ms later. */
async function slowBodyUpstream(): Promise<number> {
  upstream = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '3' });
    res.flushHeaders();
    setTimeout(() => res.end('ok\n'), 30);
  });
  upstream.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => upstream!.listen(0, '127.0.0.1', resolve));
  return (upstream.address() as AddressInfo).port;
}

function get(port: number, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ port, host: '127.0.0.1', path: '/', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** A client that sends a request and hangs up 10 ms later, before the body comes. */
function leaveMidResponse(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
      setTimeout(() => {
        socket.destroy();
        resolve();
      }, 10);
    });
    socket.on('error', reject);
  });
}

describe('bench: the undici peer', () => {
  it('still answers after more clients than its pool has connections left mid-response', async () => {
    const upstreamPort = await slowBodyUpstream();
    const port = await freePort();
    peer = spawn(process.execPath, [PEER, '--port', String(port), '--upstream', String(upstreamPort)], { stdio: 'ignore' });
    for (let i = 0; ; i++) {
      if (i === 100) throw new Error('the peer did not start');
      if (await get(port, 1000).then(() => true, () => false)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    for (let batch = 0; batch < (POOL_CONNECTIONS + 32) / 32; batch++) {
      await Promise.all(Array.from({ length: 32 }, () => leaveMidResponse(port)));
    }
    await new Promise((resolve) => setTimeout(resolve, 100)); // the bodies arrive to no one
    expect(await get(port, 3000)).toBe(200);
  }, 30_000);
});
