// End-to-end helpers: a real sluice started from YAML on 127.0.0.1 port 0, real upstream
// servers, and an HTTP client that shows raw headers (order and duplicates).

import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.ts';
import { startSluice, type RunningSluice } from '../../src/proxy/sluice.ts';

export const FILTERS_DIR = join(import.meta.dirname, '..', '..', 'filters', 'build');

/** Absolute path of a bundled filter built by filters/build.ts. */
export function bundledFilter(name: string): string {
  return join(FILTERS_DIR, `${name}.wasm`);
}

export type LogRecord = Record<string, any> & { level: number; msg?: string };

/**
 * Starts (then stops) sluice with one bundled filter configured as `configuration` (YAML, as it
 * goes after `configuration:`), to see whether it loads: the start error, and the filter's own
 * error lines (what it logged through proxy_log at error level).
 */
export async function tryFilterConfiguration(filter: string, configuration: string): Promise<{ error: Error | null; filterErrors: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), `sluice-${filter}-config-`));
  const file = join(dir, 'config.yaml');
  writeFileSync(
    file,
    `
listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [${filter}]
    routes:
      - match: { prefix: / }
        direct_response: { status: 200 }
filters:
  - name: ${filter}
    module: ${bundledFilter(filter)}
    configuration: ${configuration}
`,
  );
  const logs: LogRecord[] = [];
  let error: Error | null = null;
  try {
    const sluice = await startSluice(loadConfig(file), { logDestination: { write: (line: string) => void logs.push(JSON.parse(line)) } });
    await sluice.close();
  } catch (err) {
    error = err as Error;
  }
  return { error, filterErrors: logs.filter((r) => r.wasm !== undefined && r.level === 50).map((r) => r.msg ?? '') };
}

export interface TestProxy {
  readonly sluice: RunningSluice;
  readonly logs: LogRecord[];
  readonly dir: string;
  /** http://127.0.0.1:<port> of a listener (the first one by default). */
  url(listener?: string): string;
  adminUrl(): string;
  /** Guest log messages (records with a `wasm` key), in order. */
  wasmLogs(): string[];
  waitFor(predicate: (r: LogRecord) => boolean, timeoutMs?: number): Promise<LogRecord>;
  close(): Promise<void>;
}

/** Writes `yaml` (and any extra files) to a temp dir, validates it and starts sluice. */
export async function startProxy(yaml: string, files: Record<string, string | Uint8Array> = {}): Promise<TestProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-test-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  const file = join(dir, 'config.yaml');
  writeFileSync(file, yaml);
  const config = loadConfig(file);
  const logs: LogRecord[] = [];
  const sluice = await startSluice(config, {
    logDestination: { write: (line: string) => void logs.push(JSON.parse(line)) },
  });
  const first = config.listeners[0]!.name;
  return {
    sluice,
    logs,
    dir,
    url(listener = first) {
      const a = sluice.listeners.get(listener)!;
      return `http://127.0.0.1:${a.port}`;
    },
    adminUrl() {
      return `http://127.0.0.1:${sluice.admin!.port}`;
    },
    wasmLogs() {
      return logs.filter((r) => r.wasm !== undefined).map((r) => r.msg ?? '');
    },
    async waitFor(predicate, timeoutMs = 2000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = logs.find(predicate);
        if (found !== undefined) return found;
        if (Date.now() > deadline) throw new Error('timed out waiting for a log record');
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    close: () => sluice.close(),
  };
}

export interface RecordedRequest {
  method: string;
  url: string;
  rawHeaders: [string, string][];
  headers: IncomingMessage['headers'];
  body: string;
}

export interface TestUpstream {
  readonly port: number;
  readonly address: string;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

export type UpstreamHandler = (req: RecordedRequest, res: ServerResponse) => void;

/** An upstream that records every request; the default handler answers 200 with a JSON summary. */
export async function startUpstream(handler?: UpstreamHandler): Promise<TestUpstream> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawHeaders: [string, string][] = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) rawHeaders.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
      const recorded: RecordedRequest = {
        method: req.method!,
        url: req.url!,
        rawHeaders,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      if (handler !== undefined) return handler(recorded, res);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ method: recorded.method, url: recorded.url, body: recorded.body }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    address: `127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface ClientResponse {
  status: number;
  /** The body as received. */
  bytes: Buffer;
  /** Raw header pairs as received, names lower-cased. */
  headers: [string, string][];
  body: string;
  /** First value of a header (lower-case name). */
  header(name: string): string | undefined;
  /** Every value of a header, in order. */
  all(name: string): string[];
}

export interface ClientRequest {
  method?: string;
  headers?: [string, string][];
  body?: string | Buffer;
  /** Send the body in these pieces with small pauses (chunked transfer encoding). */
  chunks?: string[];
}

export function send(url: string, options: ClientRequest = {}): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    const headers = [...(options.headers ?? [])];
    // With array headers Node adds no Host of its own, and HTTP/1.1 requires one.
    if (!headers.some(([n]) => n.toLowerCase() === 'host')) headers.unshift(['host', new URL(url).host]);
    const req = httpRequest(url, { method: options.method ?? (options.body !== undefined || options.chunks !== undefined ? 'POST' : 'GET'), headers: headers.flat(), agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const pairs: [string, string][] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) pairs.push([res.rawHeaders[i]!.toLowerCase(), res.rawHeaders[i + 1]!]);
        const bytes = Buffer.concat(chunks);
        resolve({
          status: res.statusCode!,
          bytes,
          headers: pairs,
          body: bytes.toString('utf8'),
          header: (name) => pairs.find((p) => p[0] === name)?.[1],
          all: (name) => pairs.filter((p) => p[0] === name).map((p) => p[1]),
        });
      });
    });
    req.on('error', reject);
    if (options.chunks !== undefined) {
      const pieces = [...options.chunks];
      const next = () => {
        const piece = pieces.shift();
        if (piece === undefined) return req.end();
        req.write(piece);
        setTimeout(next, 5);
      };
      next();
    } else {
      req.end(options.body);
    }
  });
}

/**
 * Sends `requests` as written on one connection to `url`'s port, each `gapMs` after the previous
 * one, and returns all the bytes that came back until the proxy closed the connection. The last
 * request should say `connection: close` (or be one the proxy closes after); a connection reset
 * after an earlier one leaves the later answers out.
 */
export function onOneConnection(url: string, requests: string[], gapMs = 200): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(new URL(url).port), '127.0.0.1');
    const timer = setTimeout(() => socket.destroy(new Error('no close within 5 s')), 5000);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {});
    socket.on('close', (hadError) => {
      clearTimeout(timer);
      if (hadError && chunks.length === 0) reject(new Error('connection failed'));
      else resolve(Buffer.concat(chunks).toString('latin1'));
    });
    const next = (i: number): void => {
      if (i === requests.length || socket.destroyed) return;
      socket.write(requests[i]!);
      setTimeout(() => next(i + 1), gapMs);
    };
    socket.on('connect', () => next(0));
  });
}
