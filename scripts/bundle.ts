// Bundles each of sluice's threads: build/cli/ (src/cli.ts and everything it imports; what it
// imports lazily goes in chunks of their own, so `run` starts its first worker before the rest
// loads) and build/worker/worker.mjs (src/supervisor/worker.ts, pino and undici's Pool
// included), with build/bundles.json, the manifest of their inputs as they were read.
// bin/sluice.mjs and the supervisor load the bundles while they match the sources
// (src/bundles.mjs). Runs on every `npm install` and before the tests; fresh bundles are left
// alone. Usage: node scripts/bundle.ts [--force]

import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { BUNDLE_DIR, BUNDLE_ENTRIES, MANIFEST_FILE, checkBundles, statInputs, type BundleManifest, type BundleName } from '../src/bundles.mjs';

const repo = join(import.meta.dirname, '..');
const src = join(repo, 'src');
const nodeModules = join(repo, 'node_modules');
const bundlesModule = join(src, 'bundles.mjs');

// CommonJS dependencies (pino, undici) require Node's builtins, and an ES module has no
// `require`; the helpers serve fromBundleDir below.
const BANNER = [
  "import { createRequire as __sluiceCreateRequire } from 'node:module';",
  "import { dirname as __sluiceDirname } from 'node:path';",
  "import { fileURLToPath as __sluiceFileURLToPath } from 'node:url';",
  'const require = __sluiceCreateRequire(import.meta.url);',
  'const __sluiceSourceURL = (file) => new URL(file, import.meta.url);',
].join('\n');

/**
 * Adapts our modules to running from the bundle directory `outdir`:
 * - In a bundle, `import.meta` is the bundle's. Our modules use it to find files next to them
 *   (the worker's entry, build/), so each use becomes the same value for the module's source
 *   file, found relative to the bundle: the bundle keeps working wherever the repository moves.
 * - src/bundles.mjs stays a module of its own, imported from where it is, so bin/sluice.mjs and
 *   the bundle share one instance (and one freshness check).
 */
function fromBundleDir(outdir: string): Plugin {
  return {
    name: 'from-bundle-dir',
    setup(esbuild) {
      esbuild.onResolve({ filter: /bundles\.mjs$/ }, (args) => {
        const path = join(args.resolveDir, args.path);
        return path === bundlesModule ? { path: relative(outdir, path), external: true } : undefined;
      });
      esbuild.onLoad({ filter: /\.m?[jt]s$/ }, (args) => {
        if (!args.path.startsWith(src + '/')) return undefined;
        const source = JSON.stringify(relative(outdir, args.path));
        const contents = readFileSync(args.path, 'utf8')
          .replaceAll('import.meta.url', `__sluiceSourceURL(${source}).href`)
          .replaceAll('import.meta.filename', `__sluiceFileURLToPath(__sluiceSourceURL(${source}))`)
          .replaceAll('import.meta.dirname', `__sluiceDirname(__sluiceFileURLToPath(__sluiceSourceURL(${source})))`);
        return { contents, loader: args.path.endsWith('.ts') ? 'ts' : 'js', resolveDir: dirname(args.path) };
      });
    },
  };
}

/** Builds build/<name>/ through a temporary directory; returns the absolute paths of its inputs. */
async function bundle(name: BundleName): Promise<string[]> {
  const outdir = join(BUNDLE_DIR, name);
  rmSync(`${outdir}.tmp`, { recursive: true, force: true });
  const result = await build({
    entryPoints: [join(repo, BUNDLE_ENTRIES[name])],
    outdir: `${outdir}.tmp`,
    entryNames: name,
    chunkNames: `${name}-[hash]`,
    outExtension: { '.js': '.mjs' },
    splitting: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22.12', // the oldest Node bin/sluice.mjs accepts
    metafile: true,
    logLevel: 'warning',
    absWorkingDir: repo,
    banner: { js: BANNER },
    plugins: [fromBundleDir(outdir)],
  });
  rmSync(outdir, { recursive: true, force: true });
  renameSync(`${outdir}.tmp`, outdir);
  return Object.keys(result.metafile.inputs).map((input) => join(repo, input));
}

/**
 * What the manifest lists: our sources one by one; the dependencies as npm's record of
 * node_modules (node_modules/.package-lock.json, rewritten whenever npm changes the tree), which
 * saves a start-up ~100 file checks, else file by file; and how the bundles were made (this
 * script and esbuild).
 */
function manifestInputs(inputs: string[]): string[] {
  const npmRecord = join(nodeModules, '.package-lock.json');
  const byRecord = existsSync(npmRecord);
  const esbuildPackage = createRequire(import.meta.url).resolve('esbuild/package.json');
  const files = new Set<string>([import.meta.filename, esbuildPackage, bundlesModule]);
  for (const input of inputs) files.add(byRecord && input.startsWith(nodeModules + '/') ? npmRecord : input);
  return [...files].map((file) => relative(BUNDLE_DIR, file));
}

const force = process.argv.includes('--force');
if (!force && checkBundles() !== null) {
  console.log('bundles: up to date');
} else {
  // The old manifest goes first and the new one comes last: a thread starting meanwhile finds
  // no manifest and loads the sources, never bundles that do not match their manifest.
  mkdirSync(BUNDLE_DIR, { recursive: true });
  const manifest = join(BUNDLE_DIR, MANIFEST_FILE);
  rmSync(manifest, { force: true });
  const started = performance.now();
  const startedAt = Date.now();
  const inputs: string[] = [];
  for (const name of Object.keys(BUNDLE_ENTRIES) as BundleName[]) inputs.push(...(await bundle(name)));
  const files = manifestInputs(inputs);
  const stats = statInputs(BUNDLE_DIR, files);
  // A file edited while the build ran may be in a bundle as it was before: no manifest then,
  // and the threads load the sources until the next build.
  const edited = files.filter((file) => stats[file] === undefined || stats[file].mtimeMs >= startedAt);
  if (edited.length > 0) {
    console.warn(`bundles: ${edited.join(', ')} changed during the build; sluice runs from the sources until the next one`);
  } else {
    writeFileSync(`${manifest}.tmp`, JSON.stringify({ inputs: stats } satisfies BundleManifest, null, 1) + '\n');
    renameSync(`${manifest}.tmp`, manifest);
    console.log(`bundles: ${new Set(inputs).size} modules -> build/cli/, build/worker/ in ${(performance.now() - started).toFixed(0)} ms (${files.length} inputs to check)`);
  }
}
