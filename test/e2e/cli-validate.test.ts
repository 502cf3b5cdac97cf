import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureWasm } from '../helpers/wat.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/sluice.mjs');
const FIXTURES = 'test/fixtures/configs';

interface Result { status: number | null; stdout: string; stderr: string }

/** Runs the CLI the way users do, from the repository root unless told otherwise. */
function sluice(args: string[], cwd = ROOT, nodeFlags: string[] = []): Result {
  const { status, stdout, stderr } = spawnSync(process.execPath, [...nodeFlags, BIN, ...args], { cwd, encoding: 'utf8', timeout: 20_000 });
  return { status, stdout, stderr };
}

const lines = (text: string): string[] => text.split('\n').filter(Boolean);

beforeAll(() => {
  // The CLI refuses Node < 22.12; vitest must be running on the project's Node 24 for these to mean anything.
  expect(Number(process.versions.node.split('.')[0]), `running on ${process.version}`).toBeGreaterThanOrEqual(24);
});

describe('sluice validate', () => {
  it('prints a summary and exits 0 for a valid config (--config-only: its placeholder modules are not started)', () => {
    const result = sluice(['validate', '--config-only', '--config', `${FIXTURES}/full.yaml`]);
    expect(result).toEqual({ status: 0, stdout: `${FIXTURES}/full.yaml: ok (2 listeners, 2 clusters, 2 filters)\n`, stderr: '' });
  });

  it('prints every issue as FILE:LINE:COL path: message and exits 1', () => {
    const file = `${FIXTURES}/many-errors.yaml`;
    const result = sluice(['validate', '--config', file]);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(lines(result.stderr)).toEqual([
      `${file}:2:12 log_level: expected one of trace, debug, info, warn, error, critical (got "loud")`,
      `${file}:5:14 listeners[0].address: port must be between 0 and 65535 (got 99999)`,
      `${file}:6:24 listeners[0].filters[1]: unknown filter "missing" (defined: headers)`,
      `${file}:8:32 listeners[0].routes[0].match.path: "path" cannot be combined with "prefix"; use either "prefix" or "path"`,
      `${file}:9:18 listeners[0].routes[0].cluster: unknown cluster "nowhere" (defined: app)`,
      `${file}:10:9 listeners[0].routes[0].echo: "echo" cannot be combined with "cluster"; a route takes exactly one of "cluster", "direct_response", "echo: true"`,
      `${file}:12:9 listeners[0].routes[1].colour: unknown key "colour" (allowed: name, match, cluster, direct_response, echo, filters, max_request_body_bytes, max_response_body_bytes, metadata)`,
      `${file}:17:22 clusters[0].connect_timeout: expected a duration like "250ms", "1.5s", "2m" or a number of milliseconds (got "soon")`,
      `${file}:18:11 clusters[1].name: duplicate cluster name "app" (first at line 15)`,
      `${file}:19:16 clusters[1].endpoints: expected a list, got a string ("127.0.0.1:3001")`,
      `${file}:22:13 filters[0].module: module file not found: modules/missing.wasm (resolved to ${join(ROOT, FIXTURES, 'modules/missing.wasm')})`,
    ]);
  });

  it('reports YAML syntax errors with their position', () => {
    const file = `${FIXTURES}/syntax-error.yaml`;
    const result = sluice(['validate', '-c', file]);
    expect(result.status).toBe(1);
    expect(lines(result.stderr)).toEqual([
      `${file}:3:14: invalid YAML: Nested mappings are not allowed in compact mappings`,
      `${file}:3:14: invalid YAML: Implicit keys need to be on a single line`,
    ]);
  });

  it('works where Node strips types only behind a flag (Node 22.12-22.17), by re-spawning itself', () => {
    const result = sluice(['validate', '--config', `${FIXTURES}/minimal.yaml`], ROOT, ['--no-experimental-strip-types']);
    expect(result).toEqual({ status: 0, stdout: `${FIXTURES}/minimal.yaml: ok (1 listeners, 1 clusters, 0 filters)\n`, stderr: '' });
    expect(sluice(['validate', '--config', `${FIXTURES}/absent.yaml`], ROOT, ['--no-experimental-strip-types']).status).toBe(1);
  });

  it('reports a missing config file in one line', () => {
    const result = sluice(['validate', '--config', `${FIXTURES}/absent.yaml`]);
    expect(result).toEqual({ status: 1, stdout: '', stderr: `${FIXTURES}/absent.yaml: cannot read config: file not found\n` });
  });

  describe('without --config', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('reads ./config.yaml', () => {
      expect(sluice(['validate'], dir)).toEqual({ status: 1, stdout: '', stderr: 'config.yaml: cannot read config: file not found\n' });
      writeFileSync(join(dir, 'config.yaml'), 'listeners: [{ name: a, address: "127.0.0.1:0", routes: [{ match: {}, echo: true }] }]\n');
      expect(sluice(['validate'], dir)).toEqual({ status: 0, stdout: 'config.yaml: ok (1 listeners, 0 clusters, 0 filters)\n', stderr: '' });
    });
  });
});

describe('sluice validate starts and stops every filter, as run would', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-validate-'));
    writeFileSync(join(dir, 'garbage.wasm'), 'not a module\n');
    writeFileSync(join(dir, 'loop.wasm'), await fixtureWasm('e2e-loop-on-configure'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A config with one filter, `filter` (its YAML, indented under `filters:`), in the scratch directory. */
  function configWith(filter: string, top = ''): string {
    writeFileSync(
      join(dir, 'config.yaml'),
      `${top}listeners:
  - name: main
    address: 127.0.0.1:0
    filters: [f]
    routes: [{ match: {}, direct_response: { status: 200, body: "ok" } }]
filters:
  - name: f
${filter}`,
    );
    return 'config.yaml';
  }

  it('accepts the demo configuration, whose filters all start', () => {
    expect(sluice(['validate'])).toEqual({ status: 0, stdout: 'config.yaml: ok (1 listeners, 1 clusters, 3 filters)\n', stderr: '' });
  });

  it('names the filter and the reason for a module that is not WebAssembly', () => {
    const result = sluice(['validate', '-c', configWith('    module: garbage.wasm\n')], dir);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(lines(result.stderr)).toEqual([
      `config.yaml:7:5 filters[0]: filter 'f': ${join(dir, 'garbage.wasm')}: invalid WebAssembly module (not a WebAssembly binary): WebAssembly.Module(): expected magic word 00 61 73 6d, found 6e 6f 74 20 @+0`,
    ]);
    // --config-only checks the file alone.
    expect(sluice(['validate', '--config-only', '-c', 'config.yaml'], dir).status).toBe(0);
  });

  it('reports a filter that rejects its configuration, with what the filter logged about it', () => {
    const auth = join(ROOT, 'filters/build/auth.wasm');
    const result = sluice(['validate', '-c', configWith(`    module: ${auth}\n    configuration: { path: 7 }\n`)], dir);
    expect(result.status).toBe(1);
    expect(lines(result.stderr)).toEqual([
      "config.yaml:7:5 filters[0]: filter 'f': proxy_on_configure returned false (the filter rejected its configuration)",
      '  f (error): auth: configuration: cluster is required',
      '  f (error): auth: configuration: path must be a string, got number',
    ]);
  });

  it('stops a filter whose start loops after watchdog_timeout, naming it', () => {
    const started = Date.now();
    const result = sluice(['validate', '-c', configWith('    module: loop.wasm\n', 'watchdog_timeout: 500ms\n')], dir);
    expect(result.status).toBe(1);
    expect(lines(result.stderr)).toEqual(["config.yaml:8:5 filters[0]: filter 'f' did not finish starting within watchdog_timeout (500 ms): stuck in a loop?"]);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('sluice usage', () => {
  it('prints usage for --help and exits 0', () => {
    const result = sluice(['--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Usage: sluice \[command\] \[--config FILE\]/);
  });

  it('rejects an unknown command or option with usage and exit 2', () => {
    const command = sluice(['frobnicate']);
    expect(command.status).toBe(2);
    expect(lines(command.stderr)[0]).toBe('sluice: unknown command "frobnicate"');
    expect(command.stderr).toContain('Usage: sluice');
    const option = sluice(['validate', '--bogus']);
    expect(option.status).toBe(2);
    expect(lines(option.stderr)[0]).toMatch(/^sluice: Unknown option '--bogus'/);
  });

  it('inspect needs exactly one module file, else exit 2 (the command itself: cli-inspect.test.ts)', () => {
    const result = sluice(['inspect']);
    expect(result.status).toBe(2);
    expect(lines(result.stderr)[0]).toBe('sluice: inspect takes exactly one module file');
  });

  it('fails run with the config issues before starting anything', () => {
    const result = sluice(['run', '--config', `${FIXTURES}/syntax-error.yaml`]);
    expect(result.status).toBe(1);
    expect(lines(result.stderr)).toHaveLength(2);
  });
});
