// An answer that comes before the client has sent its whole body (the upstream's 413, a filter's
// 401) ends the connection once it is written, so the proxy does not go on reading an upload
// nobody wants; an answer after the whole body keeps the connection.

import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, startUpstream, type TestProxy, type TestUpstream } from '../helpers/proxy.ts';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

let rejecting: Server;
let app: TestUpstream;
let proxy: TestProxy;
let port: number;

beforeAll(async () => {
  // Answers 413 as soon as the headers arrive, without reading the body.
  rejecting = createServer((_req, res) => {
    res.writeHead(413, { 'content-type': 'text/plain' });
    res.end('too large\n');
  });
  await new Promise<void>((resolve) => rejecting.listen(0, '127.0.0.1', resolve));
  app = await startUpstream();
  proxy = await startProxy(`
listeners:
  - name: main
    address: 127.0.0.1:0
    routes:
      - match: { prefix: /upload }
        cluster: rejecting
      - match: { prefix: / }
        cluster: app
clusters:
  - name: rejecting
    endpoints: [127.0.0.1:${(rejecting.address() as AddressInfo).port}]
  - name: app
    endpoints: [${app.address}]
`);
  port = Number(new URL(proxy.url()).port);
});

afterAll(async () => {
  await proxy.close();
  await app.close();
  rejecting.closeAllConnections();
  await new Promise((resolve) => rejecting.close(resolve));
});

interface Upload {
  socket: Socket;
  received: () => string;
  closed: Promise<void>;
}

/** Starts a POST of `length` bytes and sends only its first 64 KiB. */
function startUpload(path: string, length: number): Upload {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
  socket.on('error', () => {}); // the proxy closing mid-upload may surface as EPIPE/ECONNRESET
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.write(`POST ${path} HTTP/1.1\r\nhost: app.test\r\ncontent-length: ${length}\r\n\r\n`);
  socket.write(Buffer.alloc(64 * 1024, 'a'));
  return { socket, received: () => text, closed };
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

describe('an answer before the whole request body', () => {
  it('closes the connection after it instead of reading the rest of the upload', async () => {
    const upload = startUpload('/upload', 100 * 1024 * 1024);
    expect(await until(() => upload.received().includes('too large'), 3000)).toBe(true);
    expect(upload.received()).toMatch(/^HTTP\/1\.1 413 /);
    expect(upload.received().toLowerCase()).toContain('connection: close');
    // The client keeps sending; the proxy has closed its side regardless.
    const feeding = setInterval(() => upload.socket.writable && upload.socket.write(Buffer.alloc(64 * 1024, 'b')), 20);
    const closedInTime = await Promise.race([upload.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3000))]);
    clearInterval(feeding);
    upload.socket.destroy();
    expect(closedInTime).toBe(true);
  });

  it('keeps the connection when the answer comes after the whole body', async () => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    const body = 'x'.repeat(1000);
    const request = `POST /echo HTTP/1.1\r\nhost: app.test\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
    socket.write(request);
    expect(await until(() => text.includes('"body"'), 3000)).toBe(true);
    socket.write(request);
    expect(await until(() => text.split('HTTP/1.1 200').length === 3, 3000)).toBe(true);
    expect(text.toLowerCase()).not.toContain('connection: close');
    socket.destroy();
  });
});
