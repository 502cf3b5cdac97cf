// @ts-check
// sluice's two threads' code, bundled (build/cli/ for the main thread, build/worker/ for a
// worker; made by scripts/bundle.ts on install and before the tests). Loading a bundle instead
// of ~150 source and dependency modules one by one, sluice serves its first request ~90 ms
// sooner on a slow 2-core machine (docs/RATIONALE.md, "What start-up loads"). The bundles are
// used only while they match what they were built from: after an edit, a checkout or an upgrade
// the threads load the sources until the next build, so sluice never starts code other than
// what is on disk.
//
// Plain JavaScript, because bin/sluice.mjs imports it first: with fresh bundles the main thread
// never loads Node's TypeScript stripper. The bundles import this very file rather than a copy,
// so the check runs once per process, and a worker restarted later runs what the others run.

import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const BUNDLE_DIR = join(import.meta.dirname, '..', 'build');
export const MANIFEST_FILE = 'bundles.json';

/** The bundles and the source module each starts from (relative to the repository). */
export const BUNDLE_ENTRIES = /** @type {const} */ ({ cli: 'src/cli.ts', worker: 'src/supervisor/worker.ts' });

/** @typedef {keyof typeof BUNDLE_ENTRIES} BundleName */
/**
 * What the bundles were built from: each input, relative to the bundle directory, with its size
 * and mtime.
 * @typedef {{ inputs: Record<string, { size: number, mtimeMs: number }> }} BundleManifest
 */

/**
 * A bundle is a directory, build/<name>/: its entry <name>.mjs and the chunks it imports lazily.
 * @param {BundleName} name
 */
export const bundleFile = (name, dir = BUNDLE_DIR) => join(dir, name, `${name}.mjs`);

/**
 * Size and mtime of each file (relative to `root`), as the manifest records them; a missing
 * file is left out.
 * @param {string} root
 * @param {readonly string[]} files
 * @returns {BundleManifest['inputs']}
 */
export function statInputs(root, files) {
  /** @type {BundleManifest['inputs']} */
  const inputs = {};
  for (const file of files) {
    const stat = statSync(join(root, file), { throwIfNoEntry: false });
    if (stat !== undefined) inputs[file] = { size: stat.size, mtimeMs: stat.mtimeMs };
  }
  return inputs;
}

/**
 * The entry of each bundle in `dir` if every input they were built from is still as it was
 * then (same size and mtime), else null: missing, unreadable or stale, the threads load the
 * sources.
 * @returns {Record<BundleName, URL> | null}
 */
export function checkBundles(dir = BUNDLE_DIR) {
  /** @type {BundleManifest} */
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8'));
  } catch {
    return null;
  }
  const files = Object.keys(manifest.inputs ?? {});
  if (files.length === 0) return null;
  const now = statInputs(dir, files);
  for (const file of files) {
    const then = manifest.inputs[file];
    const current = now[file];
    if (current === undefined || current.size !== then.size || current.mtimeMs !== then.mtimeMs) return null;
  }
  /** @type {Partial<Record<BundleName, URL>>} */
  const entries = {};
  for (const name of /** @type {BundleName[]} */ (Object.keys(BUNDLE_ENTRIES))) {
    const file = bundleFile(name, dir);
    if (statSync(file, { throwIfNoEntry: false }) === undefined) return null;
    entries[name] = pathToFileURL(file);
  }
  return /** @type {Record<BundleName, URL>} */ (entries);
}

/** @type {Record<BundleName, URL> | null | undefined} */
let checked;

/**
 * The bundle `name` of this repository if the bundles are fresh, else null. Checked once per
 * process; `SLUICE_FROM_SOURCE=1` insists on the sources, whose stack traces name the source
 * files.
 * @param {BundleName} name
 * @returns {URL | null}
 */
export function freshBundle(name) {
  if (process.env.SLUICE_FROM_SOURCE) return null;
  if (checked === undefined) checked = checkBundles();
  return checked === null ? null : checked[name];
}
