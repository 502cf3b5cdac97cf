// Starting the servers under test as child processes and knowing when they serve: each is
// polled with a real request until it answers 200, and the time from spawn to that first
// answer is its start-up time.

import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { processTree } from './proc.ts';

export interface ServerSpec {
  name: string;
  command: string;
  args: string[];
  /** The port the server will listen on (127.0.0.1). */
  port: number;
  env?: NodeJS.ProcessEnv;
  /** Headers of the readiness request (e.g. the credentials a filter checks). */
  headers?: Record<string, string>;
  timeoutMs?: number;
  /** Where the server's stdout goes (an open file descriptor); discarded when unset. */
  stdoutFd?: number;
}

export interface RunningServer {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  /** Spawn to first 200 answer, in milliseconds. */
  readonly readyMs: number;
  /** The server's process and its children (filled once it serves). */
  readonly pids: number[];
  /** The last lines the server wrote to stderr (for error messages). */
  stderr(): string;
  stop(): Promise<void>;
}

/** A port that was free a moment ago (the kernel picks it; the race is harmless on loopback). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** One GET; resolves with the status, or 0 when the connection failed. */
export function probe(port: number, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The servers started and not yet gone. A harness stopped by a signal (`kill`, a CI timeout)
// takes them down with it: on 2026-12-03 a harness killed mid-run left five servers running,
// and they would have taken CPU from the next run's rows.
const alive = new Set<ChildProcess>();
let signalsHooked = false;

function stopAllNow(): void {
  for (const child of alive) child.kill('SIGTERM');
}

function track(child: ChildProcess): void {
  alive.add(child);
  child.once('exit', () => alive.delete(child));
  if (signalsHooked) return;
  signalsHooked = true;
  process.once('exit', stopAllNow);
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      stopAllNow();
      process.exit(code);
    });
  }
}

export async function startServer(spec: ServerSpec): Promise<RunningServer> {
  const startedAt = performance.now();
  const child: ChildProcess = spawn(spec.command, spec.args, {
    env: spec.env ?? process.env,
    // stdout is not read: a server that logs (sluice at info) writes to /dev/null, as cheap as it gets.
    stdio: ['ignore', spec.stdoutFd ?? 'ignore', 'pipe'],
  });
  track(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => {
    stderr = (stderr + text).slice(-4000);
  });
  let exited: string | null = null;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = signal ?? `exit code ${code}`;
      resolve();
    });
  });
  child.once('error', (err) => {
    exited = err.message;
  });

  const deadline = startedAt + (spec.timeoutMs ?? 15_000);
  let readyMs = -1;
  while (readyMs < 0) {
    if (exited !== null) throw new Error(`${spec.name} exited before serving (${exited}): ${stderr.trim()}`);
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${spec.name} did not answer 200 on port ${spec.port} in time: ${stderr.trim()}`);
    }
    const status = await probe(spec.port, spec.headers);
    if (status === 200) readyMs = performance.now() - startedAt;
    else if (status !== 0) throw new Error(`${spec.name} answered ${status} instead of 200: ${stderr.trim()}`);
    else await sleep(2);
  }

  const pid = child.pid!;
  return {
    name: spec.name,
    port: spec.port,
    pid,
    readyMs,
    pids: processTree(pid),
    stderr: () => stderr,
    async stop() {
      if (exited !== null) return;
      child.kill('SIGTERM');
      // Profiles (--cpu-prof) are written on the way out: give the server time, then insist.
      const insist = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(insist);
    },
  };
}
