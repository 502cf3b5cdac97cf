// What the proxy's modules load when a thread starts: not all of undici, and not Node's own
// bundled copy of it (docs/RATIONALE.md, "What start-up loads").

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Pool } from '../../src/proxy/undici-pool.ts';

const SRC = join(import.meta.dirname, '..', '..', 'src');

/** Imports `modules` in a fresh Node.js process and reports what got loaded. */
function loadedBy(modules: string[]): Record<string, boolean> {
  const probe = `
    for (const m of ${JSON.stringify(modules.map((m) => join(SRC, m)))}) await import(m);
    const { createRequire } = await import('node:module');
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((f) => f.includes('/node_modules/undici/'));
    process.stdout.write(JSON.stringify({
      nodeBundledUndici: process.moduleLoadList.some((m) => m.includes('internal/deps/undici/undici')),
      undiciEntry: loaded.some((f) => f.endsWith('/node_modules/undici/index.js')),
      undiciFetch: loaded.some((f) => f.includes('/lib/web/fetch/')),
      undiciPool: loaded.some((f) => f.endsWith('/lib/dispatcher/pool.js')),
    }));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as Record<string, boolean>;
}

describe('what start-up loads', () => {
  it("undici's Pool, taken from its own file, is the class the package entry exports", async () => {
    const undici = await import('undici');
    expect(Pool).toBe(undici.Pool);
  });

  it('the upstream modules load only the Pool of undici, and Node.js does not load its bundled copy', () => {
    expect(loadedBy(['proxy/cluster.ts', 'proxy/http-call.ts'])).toEqual({
      nodeBundledUndici: false,
      undiciEntry: false,
      undiciFetch: false,
      undiciPool: true,
    });
  });

  it("the listeners' and the admin port's servers do not make Node.js load its bundled undici", () => {
    expect(loadedBy(['proxy/sluice.ts', 'admin/server.ts']).nodeBundledUndici).toBe(false);
  });
});
