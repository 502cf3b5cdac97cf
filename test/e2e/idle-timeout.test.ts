// stream_idle_timeout: a stream on which nothing moves for that long is ended (408 before the
// response starts, a reset after), whoever stalls it: a filter that pauses and never continues,
// or an upstream that stops sending with its own timeout off. A stream that keeps moving,
// however slowly, is never cut.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureWasm } from '../helpers/wat.ts';
import { send, startProxy, startUpstream, type TestProxy, type TestUpstream } from '../helpers/proxy.ts';

const IDLE_MS = 600;

let app: TestUpstream;
let proxy: TestProxy;

beforeAll(async () => {
  app = await startUpstream((req, res) => {
    if (req.url === '/stall') {
      // Headers and a first chunk, then nothing.
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first\n');
      return;
    }
    if (req.url === '/trickle') {
      // Ten chunks, 150 ms apart: 1.5 s in all, each gap well under the idle timeout (600 ms).
      res.writeHead(200, { 'content-type': 'text/plain' });
      let n = 0;
      const timer = setInterval(() => {
        res.write(`${n}\n`);
        if (++n === 10) {
          clearInterval(timer);
          res.end();
        }
      }, 150);
      return;
    }
    res.end('ok');
  });
  proxy = await startProxy(
    `
listeners:
  - name: main
    address: 127.0.0.1:0
    stream_idle_timeout: ${IDLE_MS}ms
    routes:
      - match: { prefix: /filtered }
        cluster: app
        filters: [probe]
      - match: { prefix: / }
        cluster: app
  - name: patient
    address: 127.0.0.1:0
    stream_idle_timeout: 0
    routes:
      - match: { prefix: / }
        cluster: app
clusters:
  - name: app
    endpoints: [${app.address}]
    timeout: 0
filters:
  - name: probe
    module: probe.wasm
`,
    { 'probe.wasm': await fixtureWasm('e2e-probe') },
  );
});

afterAll(async () => {
  await proxy.close();
  await app.close();
});

describe('stream_idle_timeout', () => {
  it('answers 408 when a filter pauses the request and never continues, naming the filter', async () => {
    const started = Date.now();
    const res = await send(`${proxy.url()}/filtered/paused`, { headers: [['x-pause', '1']] });
    const took = Date.now() - started;
    expect(res.status).toBe(408);
    expect(res.body).toBe('stream timeout\n');
    // The check runs every 100 ms and activity is stamped with its last run: up to a tick early.
    expect(took).toBeGreaterThanOrEqual(IDLE_MS - 150);
    expect(app.requests.some((r) => r.url === '/filtered/paused')).toBe(false);
    const warning = await proxy.waitFor((r) => r.msg === 'stream idle timeout');
    expect(warning.waiting_for_filters).toEqual(['probe']);
    const access = await proxy.waitFor((r) => r.access?.path === '/filtered/paused');
    expect(access.access.status).toBe(408);
  });

  it('pauses a request whose filter returns a value that is no action, and says so in the log', async () => {
    const res = await send(`${proxy.url()}/filtered/no-action`, { headers: [['x-no-action', '1']] });
    // Envoy takes such a value for its most stopping action: the stream waits for a continue.
    expect(res.status).toBe(408);
    expect(app.requests.some((r) => r.url === '/filtered/no-action')).toBe(false);
    const warning = await proxy.waitFor((r) => typeof r.msg === 'string' && r.msg.startsWith('filter callback returned a value that is no action'));
    expect(warning).toMatchObject({ filter: 'probe', callback: 'proxy_on_request_headers', returned: 7, level: 40 });
    // A pause (1) is an action: it is not reported.
    expect(proxy.logs.filter((r) => r.returned !== undefined).length).toBe(1);
  });

  it('resets the stream when the upstream stops sending mid-body (its own timeout is off)', async () => {
    await expect(send(`${proxy.url()}/stall`)).rejects.toThrow(/aborted|socket hang up|ECONNRESET/);
  });

  it('never cuts a stream that keeps moving, however long it takes', async () => {
    const res = await send(`${proxy.url()}/trickle`);
    expect(res.status).toBe(200);
    expect(res.body).toBe('0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n');
  });

  it('0 turns it off', async () => {
    const pending = send(`${proxy.url('patient')}/stall`);
    const outcome = await Promise.race([pending.then(() => 'ended', () => 'ended'), new Promise((r) => setTimeout(() => r('still open'), IDLE_MS * 3))]);
    expect(outcome).toBe('still open');
  });

  it('leaves no stream tracked once they have ended', async () => {
    const { streamIdleDeadlines } = await import('../../src/proxy/deadlines.ts');
    for (let i = 0; i < 20; i++) expect((await send(`${proxy.url()}/ok`)).status).toBe(200);
    // The 'patient' listener's stalled stream is still open; it was never tracked.
    await new Promise((r) => setTimeout(r, 50));
    expect(streamIdleDeadlines.size).toBe(0);
  });
});
