// Load drivers. Throughput is measured closed-loop (every connection sends its next request as
// soon as the previous answer arrived) with autocannon, and with wrk when it is on PATH.
// Latency is measured open-loop at a fixed rate by `paced`: autocannon's own rate limit sends
// each second's quota in a burst, which measures a saturated server part of every second.

import { spawn, spawnSync } from 'node:child_process';
import autocannon from 'autocannon';
import { Pool } from 'undici';

/** The request every configuration gets (the 3-filter chain checks the authorization). */
export const REQUEST_HEADERS: Record<string, string> = {
  accept: '*/*',
  'user-agent': 'sluice-bench',
  authorization: 'Bearer bench',
};

export interface ThroughputRound {
  /** 2xx answers per second over the round. */
  rps: number;
  /** 2xx answers. */
  ok: number;
  /** Anything that was not a 2xx answer (errors, timeouts, other statuses). */
  failed: number;
}

export async function autocannonRound(port: number, connections: number, seconds: number): Promise<ThroughputRound> {
  const started = performance.now();
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/`,
    connections,
    duration: seconds,
    headers: REQUEST_HEADERS,
  });
  const elapsed = (performance.now() - started) / 1000;
  const ok = result['2xx'];
  return { rps: ok / elapsed, ok, failed: result.non2xx + result.errors + result.timeouts };
}

/** What a round of `amount` requests got back. */
export interface RequestsRound {
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** The round was stopped after STALL_SECONDS without an answer (see requestsRound). */
  stalled: boolean;
}

/**
 * Seconds without a single answer after which a round of `amount` requests is stopped. A run
 * of 2026-12-03 hung for good in a warm-up round against the undici peer: its connections idle,
 * no request outstanding on the wire, autocannon still counting on answers to come (an
 * `amount` round ends only when every connection has had its share). A run under callgrind
 * answers hundreds of requests a second, so a silent half-minute is a stall.
 */
export const STALL_SECONDS = 30;

/** Sends `amount` requests over `connections` fresh connections; gives up after `stallSeconds` without an answer. */
export async function requestsRound(port: number, connections: number, amount: number, stallSeconds = STALL_SECONDS): Promise<RequestsRound> {
  const instance = autocannon({ url: `http://127.0.0.1:${port}/`, connections, amount, headers: REQUEST_HEADERS });
  let silent = 0;
  let stalled = false;
  // autocannon ticks once a second with the answers of that second.
  instance.on('tick', (tick) => {
    silent = tick.counter === 0 ? silent + 1 : 0;
    if (silent >= stallSeconds && !stalled) {
      stalled = true;
      instance.stop();
    }
  });
  const result = await instance;
  return { ok: result['2xx'], non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts, stalled };
}

/**
 * Requests per warm-up round; each round opens fresh connections. A Node.js server's CPU per
 * request keeps falling over its first tens of thousands of requests, and every new set of
 * connections brings another wave of deoptimizations and recompiles (V8's background threads)
 * before it settles: measured with 3 s rounds of fresh connections, the undici peer settled
 * after ~2 rounds, sluice-0 after ~3, the 3-filter chain (more JavaScript to settle) after ~5,
 * at up to 2.5× its settled CPU per request in the first (docs/benchmarks.md, "Warm-up").
 */
export const WARM_UP_ROUND_REQUESTS = 10_000;

/** Sends `total` requests in rounds of WARM_UP_ROUND_REQUESTS; `check` sees each round. */
export async function warmUp(port: number, connections: number, total: number, check: (round: RequestsRound) => void = () => {}): Promise<void> {
  for (let left = total; left > 0; left -= WARM_UP_ROUND_REQUESTS) {
    check(await requestsRound(port, connections, Math.min(left, WARM_UP_ROUND_REQUESTS)));
  }
}

let wrkPath: string | null | undefined;

/** wrk's path, or null when it is not installed. */
export function findWrk(): string | null {
  if (wrkPath === undefined) {
    const found = spawnSync('sh', ['-c', 'command -v wrk'], { encoding: 'utf8' });
    wrkPath = found.status === 0 && found.stdout.trim() !== '' ? found.stdout.trim() : null;
  }
  return wrkPath;
}

/** One wrk run (one thread: the machine is small and wrk is efficient). */
export function wrkRound(port: number, connections: number, seconds: number): Promise<ThroughputRound> {
  const wrk = findWrk();
  if (wrk === null) return Promise.reject(new Error('wrk is not on PATH'));
  const headers = Object.entries(REQUEST_HEADERS).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, ...headers, `http://127.0.0.1:${port}/`];
  return new Promise((resolve, reject) => {
    const child = spawn(wrk, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (out += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (out += t));
    child.on('error', reject);
    child.on('exit', () => {
      // "  123456 requests in 3.00s, ..." and, when some failed, "Non-2xx or 3xx responses: N"
      // and "Socket errors: connect A, read B, write C, timeout D".
      const done = /(\d+) requests in ([\d.]+)(m?s)/.exec(out);
      if (done === null) return reject(new Error(`cannot read wrk's output: ${out.trim()}`));
      const total = Number(done[1]);
      const elapsed = Number(done[2]) / (done[3] === 'ms' ? 1000 : 1);
      const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
      const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      const errors = socket === null ? 0 : socket.slice(1).reduce((a, n) => a + Number(n), 0);
      const ok = total - non2xx;
      resolve({ rps: ok / elapsed, ok, failed: non2xx + errors });
    });
  });
}

export interface LatencyRound {
  /** Answers received (any status). */
  completed: number;
  failed: number;
  /** Latency percentiles of 2xx answers, microseconds. */
  p50Us: number;
  p99Us: number;
  /** The rate actually sent, requests per second. */
  sentRps: number;
}

/** The q-quantile (0..1) of sorted values (nearest rank). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/**
 * Sends `rate` requests per second for `seconds`, spread evenly over 1 ms ticks, and measures
 * each answer from the moment its request was handed to the connection pool.
 */
export async function paced(port: number, rate: number, seconds: number, connections: number): Promise<LatencyRound> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections, pipelining: 1 });
  const latencies: number[] = [];
  let completed = 0;
  let failed = 0;
  let sent = 0;
  const inflight = new Set<Promise<void>>();
  const one = async (): Promise<void> => {
    const started = performance.now();
    try {
      const res = await pool.request({ method: 'GET', path: '/', headers: REQUEST_HEADERS });
      await res.body.dump();
      completed++;
      if (res.statusCode >= 200 && res.statusCode < 300) latencies.push((performance.now() - started) * 1000);
      else failed++;
    } catch {
      failed++;
    }
  };
  const total = Math.round(rate * seconds);
  const begin = performance.now();
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - begin) / 1000) * rate));
      for (; sent < due; sent++) {
        const p = one();
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
      }
      if (sent >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  const sendSeconds = (performance.now() - begin) / 1000;
  await Promise.all(inflight);
  await pool.close();
  latencies.sort((a, b) => a - b);
  return { completed, failed, p50Us: quantile(latencies, 0.5), p99Us: quantile(latencies, 0.99), sentRps: sent / sendSeconds };
}
