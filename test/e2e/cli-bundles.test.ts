// `sluice run` from the bundles scripts/bundle.ts builds, and from the sources when asked to:
// the same proxy either way, and its listening line says which code its workers run.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkBundles } from '../../src/bundles.mjs';
import { CLI, ROOT, configWith } from '../helpers/cli.ts';
import { send } from '../helpers/proxy.ts';

/** Runs sluice until its listening line, sends one request through it (the body it echoed comes back), and stops it. */
async function serveOnce(env: NodeJS.ProcessEnv): Promise<{ listening: Record<string, unknown>; status: number; header: unknown; body: string }> {
  const config = configWith(mkdtempSync(join(tmpdir(), 'sluice-bundles-')), join(ROOT, 'filters', 'build', 'headers.wasm'), '{"response":{"add":{"x-filtered":"yes"}}}');
  const child = spawn(process.execPath, [CLI, 'run', '--config', config], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  try {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const listening = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line; output: ${out}`)), 10_000);
      child.stdout.on('data', () => {
        const line = out.split('\n').find((l) => l.includes('"msg":"listening"') && l.includes('"supervisor":true'));
        if (line !== undefined) {
          clearTimeout(timer);
          resolve(JSON.parse(line) as Record<string, unknown>);
        }
      });
    });
    const response = await send(`http://${String(listening.address)}/`, { method: 'POST', body: 'ping' });
    // An echo route answers with the request it saw, as JSON.
    return { listening, status: response.status, header: response.header('x-filtered'), body: (JSON.parse(response.body) as { body: string }).body };
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  }
}

describe('sluice run and its bundles', () => {
  beforeAll(() => {
    const build = spawnSync(process.execPath, [join(ROOT, 'scripts', 'bundle.ts')], { encoding: 'utf8' });
    expect(build.status, build.stderr).toBe(0);
    expect(checkBundles()).not.toBeNull();
  });

  it('runs its workers from the bundle while it is fresh', async () => {
    const result = await serveOnce({});
    expect(result.listening.from).toBe('bundle');
    expect(result).toMatchObject({ status: 200, header: 'yes', body: 'ping' });
  });

  it('runs from the sources with SLUICE_FROM_SOURCE=1, the same way', async () => {
    const result = await serveOnce({ SLUICE_FROM_SOURCE: '1' });
    expect(result.listening.from).toBe('sources');
    expect(result).toMatchObject({ status: 200, header: 'yes', body: 'ping' });
  });
});
