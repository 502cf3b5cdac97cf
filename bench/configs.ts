// The configurations the harness compares, and how to start each one. Every server runs in its
// own process so its CPU time and memory can be read from /proc.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { checkBundles } from '../src/bundles.mjs';
import { REQUEST_HEADERS } from './load.ts';
import { watToWasm } from '../test/helpers/wat.ts';
import { freePort, startServer, type RunningServer, type ServerSpec } from './servers.ts';

export const ROOT = join(import.meta.dirname, '..');
const FILTERS = join(ROOT, 'filters', 'build');
const PEERS = join(import.meta.dirname, 'peers');

/** What a configuration needs to start. */
export interface StartContext {
  upstream: RunningServer;
  /** A scratch directory for config files. */
  dir: string;
  /** When set, Node-based proxies write V8 CPU profiles here (`--cpu-prof`). */
  cpuProfDir?: string;
  /** A command prefix the server runs under (a tool and its options, e.g. valgrind's). */
  wrap?: string[];
  /** Node-based servers write /tmp/perf-<pid>.map (`--perf-basic-prof`): names for JIT code. */
  perfMap?: boolean;
  /** How long the server may take to answer its first request, ms (startServer's default when unset). */
  readyTimeoutMs?: number;
  /** More flags for Node-based servers (e.g. V8's --print-opt-code). */
  nodeFlags?: string[];
  /** Where a Node-based server's stdout goes (an open file descriptor); discarded when unset. */
  stdoutFd?: number;
}

export interface BenchConfig {
  name: string;
  /** One line for the report. */
  label: string;
  /** Why this row is not measured on this machine, or null. */
  skip: string | null;
  /** Starts the server under test; `direct` measures the upstream itself. */
  start(ctx: StartContext): Promise<RunningServer>;
}

export interface SluiceOptions {
  port: number;
  upstreamPort: number;
  /**
   * 'wat': the 1-filter edit in a hand-written module (host cost without an SDK); 'noop': a
   * hand-written filter that does nothing (the host's own cost of a filter, without the edit).
   */
  filters: 0 | 1 | 3 | 'wat' | 'noop';
  logLevel: 'warn' | 'info';
  workers?: number;
}

/** A bundled filter as the benchmark configures it. */
export interface BenchFilter {
  name: string;
  /** Under filters/build/. */
  module: string;
  configuration: Record<string, unknown>;
}

/** The 1-filter chain: one request header and one response header added. */
export const HEADERS_FILTER: BenchFilter = {
  name: 'headers',
  module: 'headers.wasm',
  configuration: { request: { add: { 'x-bench': '1' } }, response: { add: { 'x-proxy': 'sluice' } } },
};

/** Header-based auth inside the filter (no http_call), accepting the harness's request. */
export const AUTH_FILTER: BenchFilter = {
  name: 'auth',
  module: 'auth.wasm',
  configuration: { allow: { header: 'authorization', values: [REQUEST_HEADERS.authorization] } },
};

/**
 * Response body pass-through: body-rewrite with a replacement but a content type the upstream
 * never sends, so every response chunk reaches the filter and it answers Continue without
 * buffering (test/e2e/bench-smoke.test.ts checks both).
 */
export const BODY_FILTER: BenchFilter = {
  name: 'body',
  module: 'body-rewrite.wasm',
  configuration: { response: { replace: [['never-in-the-body', 'x']] }, content_types: ['application/x-never'] },
};

export const filterPath = (filter: BenchFilter) => join(FILTERS, filter.module);

// JSON is YAML flow syntax: the configuration goes in as written above.
const filterYaml = (filter: BenchFilter) => `
  - name: ${filter.name}
    module: ${filterPath(filter)}
    configuration: ${JSON.stringify(filter.configuration)}`;

export function sluiceYaml(o: SluiceOptions & { watModule?: string }): string {
  const hand = o.filters === 'wat' || o.filters === 'noop';
  const chain = o.filters === 0 ? [] : o.filters === 1 ? ['headers'] : hand ? ['minimal'] : ['headers', 'auth', 'body'];
  const defs =
    o.filters === 0
      ? ''
      : o.filters === 1
        ? filterYaml(HEADERS_FILTER)
        : hand
          ? `\n  - name: minimal\n    module: ${o.watModule}`
          : [HEADERS_FILTER, AUTH_FILTER, BODY_FILTER].map(filterYaml).join('');
  return `log_level: ${o.logLevel}
${o.workers === undefined ? '' : `workers: ${o.workers}\n`}listeners:
  - name: bench
    address: 127.0.0.1:${o.port}
    filters: [${chain.join(', ')}]
    routes:
      - match: { prefix: / }
        cluster: app
clusters:
  - name: app
    endpoints: [127.0.0.1:${o.upstreamPort}]
filters:${defs === '' ? ' []' : defs}
`;
}

const LARGE_PAGES = '--use-largepages=on';

/**
 * Why Node cannot put its code on huge pages here, or null. It needs Linux with transparent huge
 * pages not set to `never` (`madvise` is enough: Node asks for them with madvise).
 */
function largePagesSkip(): string | null {
  if (process.platform !== 'linux') return 'large pages: Linux only';
  let setting: string;
  try {
    setting = readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8');
  } catch {
    return 'large pages: this kernel has no transparent huge pages';
  }
  return setting.includes('[never]') ? 'large pages: transparent huge pages are off (never)' : null;
}

/** Whether sluice's configuration has a `workers` key yet (src/config/types.ts). */
function workersSupported(): boolean {
  return /^\s*workers\??:/m.test(readFileSync(join(ROOT, 'src', 'config', 'types.ts'), 'utf8'));
}

function onPath(command: string): string | null {
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  return found.status === 0 && found.stdout.trim() !== '' ? found.stdout.trim() : null;
}

/** The context with profiles going to <cpuProfDir>/<name>/ (created), when profiling. */
function profileDir(ctx: StartContext, name: string): StartContext {
  if (ctx.cpuProfDir === undefined) return ctx;
  const dir = join(ctx.cpuProfDir, name);
  mkdirSync(dir, { recursive: true });
  return { ...ctx, cpuProfDir: dir };
}

function nodeArgs(ctx: StartContext): string[] {
  // http-proxy uses util._extend, deprecated since Node 22; the warning is noise here.
  const args = ['--no-deprecation'];
  if (ctx.cpuProfDir !== undefined) args.push('--cpu-prof', `--cpu-prof-dir=${ctx.cpuProfDir}`);
  // V8 also opens its event log for the perf map, as isolate-*-v8.log in the working directory.
  if (ctx.perfMap === true) args.push('--perf-basic-prof', '--logfile=/dev/null');
  args.push(...(ctx.nodeFlags ?? []));
  return args;
}

/** The program and arguments to spawn, under ctx.wrap when set. */
function launch(ctx: StartContext, program: string, args: string[]): Pick<ServerSpec, 'command' | 'args' | 'timeoutMs'> {
  const wrap = ctx.wrap ?? [];
  const spec = wrap.length === 0 ? { command: program, args } : { command: wrap[0]!, args: [...wrap.slice(1), program, ...args] };
  return ctx.readyTimeoutMs === undefined ? spec : { ...spec, timeoutMs: ctx.readyTimeoutMs };
}

function peer(name: string, label: string, file: string): BenchConfig {
  return {
    name,
    label,
    skip: null,
    async start(ctx) {
      const port = await freePort();
      return startServer({
        name,
        ...launch(ctx, process.execPath, [...nodeArgs(profileDir(ctx, name)), join(PEERS, file), '--port', String(port), '--upstream', String(ctx.upstream.port)]),
        port,
        headers: REQUEST_HEADERS,
        stdoutFd: ctx.stdoutFd,
      });
    },
  };
}

/** Node flags a sluice row runs with, beyond the harness's own (`nodeArgs`). */
type SluiceRowOptions = Omit<SluiceOptions, 'port' | 'upstreamPort'> & { nodeFlags?: string[] };

function sluice(name: string, label: string, { nodeFlags = [], ...options }: SluiceRowOptions, skip: string | null = null): BenchConfig {
  return {
    name,
    label,
    skip,
    async start(ctx) {
      const port = await freePort();
      const file = join(ctx.dir, `${name}.yaml`);
      let watModule: string | undefined;
      if (options.filters === 'wat' || options.filters === 'noop') {
        const wat = options.filters === 'wat' ? 'minimal-headers' : 'noop';
        watModule = join(ctx.dir, `${wat}.wasm`);
        const source = readFileSync(join(import.meta.dirname, 'filters', `${wat}.wat`), 'utf8');
        writeFileSync(watModule, await watToWasm(source, `${wat}.wat`));
      }
      writeFileSync(file, sluiceYaml({ ...options, port, upstreamPort: ctx.upstream.port, watModule }));
      return startServer({
        name,
        ...launch(ctx, process.execPath, [...nodeArgs(profileDir(ctx, name)), ...nodeFlags, join(ROOT, 'bin', 'sluice.mjs'), 'run', '--config', file]),
        port,
        headers: REQUEST_HEADERS,
        stdoutFd: ctx.stdoutFd,
      });
    },
  };
}

/**
 * `singleProcess`: serve from the master process itself (`master_process off`), for a tool that
 * wraps the command: its worker would otherwise drop to another user, out of the tool's reach.
 */
function nginxConf(dir: string, port: number, upstreamPort: number, singleProcess: boolean): string {
  return `${singleProcess ? 'master_process off;\n' : ''}worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream app {
    server 127.0.0.1:${upstreamPort};
    keepalive 128;
  }
  server {
    listen 127.0.0.1:${port};
    keepalive_requests 1000000;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

function nginx(): BenchConfig {
  const bin = onPath('nginx');
  return {
    name: 'nginx',
    label: 'nginx reverse proxy, 1 worker process, upstream keepalive',
    skip: bin === null ? 'nginx not on PATH' : null,
    async start(ctx) {
      const port = await freePort();
      const dir = join(ctx.dir, 'nginx');
      mkdirSync(dir, { recursive: true });
      const conf = join(dir, 'nginx.conf');
      writeFileSync(conf, nginxConf(dir, port, ctx.upstream.port, (ctx.wrap ?? []).length > 0));
      return startServer({ name: 'nginx', ...launch(ctx, bin!, ['-p', dir, '-e', 'stderr', '-c', conf]), port, headers: REQUEST_HEADERS });
    },
  };
}

/** Every configuration, in report order. */
export function allConfigs(): BenchConfig[] {
  const workers = workersSupported();
  return [
    {
      name: 'direct',
      label: 'no proxy: the load goes straight to the upstream (CPU is the upstream\'s)',
      skip: null,
      start: async (ctx) => ctx.upstream,
    },
    peer('http-proxy', 'http-proxy reverse proxy (keep-alive agent, no filters)', 'http-proxy.ts'),
    peer('undici', 'minimal node:http + undici Pool proxy (the floor)', 'undici-proxy.ts'),
    sluice('sluice-0', 'sluice, no filters', { filters: 0, logLevel: 'warn' }),
    sluice('sluice-0-info', 'sluice, no filters, log_level info (access log on)', { filters: 0, logLevel: 'info' }),
    sluice('sluice-1-noop', 'sluice, 1 hand-written WAT filter that does nothing (the host per filter)', { filters: 'noop', logLevel: 'warn' }),
    sluice('sluice-1-wat', 'sluice, 1 hand-written WAT filter doing the same edit (no SDK runtime)', { filters: 'wat', logLevel: 'warn' }),
    sluice('sluice-1', 'sluice, 1 filter (headers: +1 request, +1 response header)', { filters: 1, logLevel: 'warn' }),
    sluice('sluice-3', 'sluice, 3 filters (headers, static auth, body pass-through)', { filters: 3, logLevel: 'warn' }),
    // Node's own code on 2 MiB pages (docs/benchmarks.md, "Large pages"): what users get by
    // starting sluice with NODE_OPTIONS=--use-largepages=on.
    sluice('sluice-0-largepages', 'sluice, no filters, Node started with --use-largepages=on', { filters: 0, logLevel: 'warn', nodeFlags: [LARGE_PAGES] }, largePagesSkip()),
    sluice('sluice-3-largepages', 'sluice, 3 filters, Node started with --use-largepages=on', { filters: 3, logLevel: 'warn', nodeFlags: [LARGE_PAGES] }, largePagesSkip()),
    sluice(
      'sluice-3-w2',
      'sluice, 3 filters, workers: 2',
      { filters: 3, logLevel: 'warn', workers: 2 },
      workers ? null : 'workers not implemented',
    ),
    nginx(),
  ];
}

/** The bundled filters and sluice's bundles the sluice rows need; an error names the build command when missing. */
export function checkBuilt(): void {
  const missing = ['headers', 'auth', 'body-rewrite'].filter((f) => !existsSync(join(FILTERS, `${f}.wasm`)));
  if (missing.length > 0) throw new Error(`missing ${missing.map((f) => `filters/build/${f}.wasm`).join(', ')}: run npm run build:filters`);
  // sluice would silently start from its sources, slower than what users run (src/bundles.mjs).
  if (!process.env.SLUICE_FROM_SOURCE && checkBundles() === null) {
    throw new Error("sluice's bundles are missing or older than the sources: run npm run bundle (or set SLUICE_FROM_SOURCE=1 to measure the sources)");
  }
}

export async function startUpstream(): Promise<RunningServer> {
  const port = await freePort();
  return startServer({ name: 'upstream', command: process.execPath, args: [join(PEERS, 'upstream.ts'), '--port', String(port)], port });
}
