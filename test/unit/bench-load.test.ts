import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { requestsRound } from '../../bench/load.ts';

let close: (() => Promise<void>) | null = null;
afterEach(async () => {
  await close?.();
  close = null;
});

/** A server that answers the first `answered` requests and holds every later one open. */
async function serverAnswering(answered: number): Promise<number> {
  let seen = 0;
  const held: ServerResponse[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    if (++seen <= answered) res.end('ok');
    else held.push(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  close = async () => {
    for (const res of held) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return (server.address() as AddressInfo).port;
}

describe('bench: a round of N requests', () => {
  it('ends with every answer counted when the server answers', async () => {
    const port = await serverAnswering(Number.POSITIVE_INFINITY);
    const round = await requestsRound(port, 4, 200, 2);
    expect(round).toMatchObject({ ok: 200, non2xx: 0, errors: 0, stalled: false });
  });

  it('is stopped, and says so, when the server stops answering', async () => {
    const port = await serverAnswering(50);
    const started = performance.now();
    const round = await requestsRound(port, 4, 200, 2);
    expect(round.stalled).toBe(true);
    expect(round.ok).toBe(50);
    // 2 silent seconds, ticked once a second: well before autocannon's own 10 s request timeout.
    expect(performance.now() - started).toBeLessThan(8000);
  }, 20_000);
});
