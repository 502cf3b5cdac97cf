// `sluice run` on bad input: one line naming the config entry, the file and the reason, exit 1,
// no stack trace. And a clean start/stop.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT, configWith } from '../helpers/cli.ts';
import { watToWasm } from '../helpers/wat.ts';

function run(config: string) {
  return spawnSync(process.execPath, [CLI, 'run', '--config', config], { encoding: 'utf8', timeout: 10_000 });
}

describe('sluice run with bad input', () => {
  it('names the config entry and the reason for a file that is not WebAssembly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
    writeFileSync(join(dir, 'bad.wasm'), 'not wasm');
    const result = run(configWith(dir, 'bad.wasm'));
    expect(result.status).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^sluice: .*config\.yaml:7:5 filters\[0\]: filter 'f': .*bad\.wasm: invalid WebAssembly module \(not a WebAssembly binary\)/);
  });

  it('lists the ABI markers found and supported for a module without one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
    writeFileSync(join(dir, 'old.wasm'), await watToWasm('(module (memory (export "memory") 1) (func (export "proxy_abi_version_0_0_1")))'));
    const result = run(configWith(dir, 'old.wasm'));
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toMatch(
      /old\.wasm: no supported Proxy-Wasm ABI marker: found proxy_abi_version_0_0_1; supported: proxy_abi_version_0_2_1, proxy_abi_version_0_2_0, proxy_abi_version_0_1_0$/,
    );
    expect(result.stderr).not.toContain('    at ');
  });

  it('reports a filter that rejects its configuration', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
    const result = run(configWith(dir, join(ROOT, 'filters', 'build', 'auth.wasm'), '{ cluster: 5 }'));
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/sluice: .*filters\[0\]: filter 'f': proxy_on_configure returned false/);
  });
});

describe('sluice run', () => {
  it('starts, logs its listeners, and exits 0 on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
    const child = spawn(process.execPath, [CLI, 'run', '--config', configWith(dir, join(ROOT, 'filters', 'build', 'headers.wasm'))], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line; output: ${out}`)), 8000);
      child.stdout.on('data', () => {
        if (out.includes('"msg":"listening"')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
  });

  it("refuses a port another sluice listens on, instead of sharing it (SO_REUSEPORT)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
    const first = spawn(process.execPath, [CLI, 'run', '--config', configWith(dir, join(ROOT, 'filters', 'build', 'headers.wasm'))], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      first.stdout.on('data', (c: Buffer) => (out += c.toString()));
      const address = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no listening line; output: ${out}`)), 8000);
        first.stdout.on('data', () => {
          const match = /"address":"(127\.0\.0\.1:\d+)","workers"/.exec(out);
          if (match !== null) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        });
      });
      const second = join(dir, 'second.yaml');
      writeFileSync(second, ['listeners:', '  - name: again', `    address: ${address}`, '    routes: [{ match: {}, echo: true }]'].join('\n'));
      const result = run(second);
      expect(result.status).toBe(1);
      expect(result.stderr.trim()).toBe(`sluice: cannot listen: listener 'again': ${address} is already in use (another sluice, or another program, listens there)`);
      // The first one still serves.
      const res = await fetch(`http://${address}/x`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { path: string }).path).toBe('/x');
    } finally {
      first.kill('SIGTERM');
      await new Promise((resolve) => first.on('exit', resolve));
    }
  });
});
