// When sluice runs from its bundles: only while every input they were built from is unchanged.

import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MANIFEST_FILE, bundleFile, checkBundles, statInputs } from '../../src/bundles.mjs';

/** A repository-like directory: two sources, build/ with both bundles and a manifest of the sources. */
function builtRepo(): { build: string; sources: string[] } {
  const repo = mkdtempSync(join(tmpdir(), 'sluice-bundles-'));
  mkdirSync(join(repo, 'src'));
  writeFileSync(join(repo, 'src', 'a.ts'), 'export const a = 1;\n');
  writeFileSync(join(repo, 'src', 'b.ts'), 'export const b = 2;\n');
  const build = join(repo, 'build');
  for (const name of ['cli', 'worker'] as const) {
    mkdirSync(join(build, name), { recursive: true });
    writeFileSync(bundleFile(name, build), '// bundled\n');
  }
  const sources = ['../src/a.ts', '../src/b.ts'];
  writeFileSync(join(build, MANIFEST_FILE), JSON.stringify({ inputs: statInputs(build, sources) }));
  return { build, sources };
}

describe('checkBundles', () => {
  it('gives both entries while the sources are as they were built', () => {
    const { build } = builtRepo();
    expect(checkBundles(build)).toEqual({
      cli: pathToFileURL(join(build, 'cli', 'cli.mjs')),
      worker: pathToFileURL(join(build, 'worker', 'worker.mjs')),
    });
  });

  it('gives none once a source has been touched, even with the same content', () => {
    const { build } = builtRepo();
    const later = new Date(Date.now() + 5000);
    utimesSync(join(build, '..', 'src', 'b.ts'), later, later);
    expect(checkBundles(build)).toBeNull();
  });

  it('gives none once a source changed size (an edit within the same mtime tick)', () => {
    const { build } = builtRepo();
    const file = join(build, '..', 'src', 'a.ts');
    const { mtimeMs } = statInputs(build, ['../src/a.ts'])['../src/a.ts']!;
    writeFileSync(file, 'export const a = 100;\n');
    utimesSync(file, new Date(mtimeMs), new Date(mtimeMs));
    expect(checkBundles(build)).toBeNull();
  });

  it('gives none once a source is gone', () => {
    const { build } = builtRepo();
    rmSync(join(build, '..', 'src', 'a.ts'));
    expect(checkBundles(build)).toBeNull();
  });

  it('gives none without a manifest, with an unreadable one, or with one that lists nothing', () => {
    const { build } = builtRepo();
    writeFileSync(join(build, MANIFEST_FILE), '{"inputs":');
    expect(checkBundles(build)).toBeNull();
    writeFileSync(join(build, MANIFEST_FILE), '{"inputs":{}}');
    expect(checkBundles(build)).toBeNull();
    rmSync(join(build, MANIFEST_FILE));
    expect(checkBundles(build)).toBeNull();
  });

  it('gives none when a bundle is missing', () => {
    const { build } = builtRepo();
    rmSync(bundleFile('worker', build));
    expect(checkBundles(build)).toBeNull();
  });
});
