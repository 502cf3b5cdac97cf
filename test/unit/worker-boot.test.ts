// A worker's first module pins the shape of Node's tick objects, so that a full GC cannot turn
// `process.nextTick`'s feedback megamorphic (src/supervisor/worker-boot.mjs). The state is read
// with V8's %GetFeedback, in a child Node.js with natives syntax allowed.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const BOOT = pathToFileURL(join(import.meta.dirname, '..', '..', 'src', 'supervisor', 'worker-boot.mjs')).href;
const BODY = pathToFileURL(join(import.meta.dirname, '..', 'fixtures', 'workers', 'tick-feedback.mjs')).href;

/** The states of nextTick's computed-key definitions after the fixture's GC, in a worker started from `entry`. */
function definitionStates(entry: string, workerData?: unknown): string[] {
  const script = `
    const { Worker } = require('node:worker_threads');
    new Worker(new URL(${JSON.stringify(entry)}), { workerData: ${JSON.stringify(workerData ?? null)} })
      .on('message', (states) => console.log(JSON.stringify(states)));`;
  const run = spawnSync(process.execPath, ['--allow-natives-syntax', '--expose-gc', '-e', script], { encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as string[];
}

describe("a worker's boot module", () => {
  it('without it, a full GC with no tick object alive leaves nextTick megamorphic (what it prevents)', () => {
    expect(definitionStates(BODY)).toContain('MEGAMORPHIC');
  });

  it('keeps every computed-key definition of nextTick monomorphic through that GC, and runs the entry it is given', () => {
    const states = definitionStates(BOOT, { entry: BODY });
    expect(states.length).toBeGreaterThanOrEqual(3);
    expect(new Set(states)).toEqual(new Set(['MONOMORPHIC']));
  });
});
