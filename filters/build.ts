// Builds the bundled Proxy-Wasm filters: filters/<name>/index.ts ->
// filters/build/<name>.wasm, using AssemblyScript 0.17 and the
// @solo-io/proxy-runtime SDK. The test filters are built the same way:
// test/fixtures/as/<name>/index.ts -> test/fixtures/build/<name>.wasm.
//
// Runs on every `npm install` (postinstall) and before the tests, so a
// filter is only recompiled when one of its inputs is newer than its wasm.
// Usage: node filters/build.ts [--force]
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const filtersDir = import.meta.dirname;
const repoDir = join(filtersDir, "..");
const libDir = join(filtersDir, "lib");
const fixturesDir = join(repoDir, "test", "fixtures", "as");
const ascBin = join(repoDir, "node_modules", "assemblyscript", "bin", "asc");
const sdkDir = join(repoDir, "node_modules", "@solo-io", "proxy-runtime", "assembly");

// Directories under a source root that are not filters.
const NOT_FILTERS = new Set(["lib", "build", "node_modules"]);

// Where filters are found and where their wasm goes. A root's own lib/ (if
// any) is an input of every filter in it, like filters/lib/ is of all.
interface SourceRoot {
  dir: string;
  outDir: string;
}

const ROOTS: SourceRoot[] = [
  { dir: filtersDir, outDir: join(filtersDir, "build") },
  { dir: fixturesDir, outDir: join(repoDir, "test", "fixtures", "build") },
];

// `--runtime half` is the reference-counting runtime without exporting its
// internals; the SDK's malloc/free need it (stub/none do not compile).
// `--use abort=...` routes AssemblyScript aborts to the SDK's handler, which
// logs the message before exiting instead of needing an `env.abort` import.
const ASC_FLAGS = ["--use", "abort=abort_proc_exit", "-O3", "--runtime", "half"];

interface Outcome {
  name: string;
  ok: boolean;
  message: string;
}

function main(): void {
  const force = process.argv.includes("--force");
  if (!existsSync(ascBin) || !existsSync(sdkDir)) {
    // e.g. `npm install --omit=dev`: the toolchain is a dev dependency.
    console.warn("filters: assemblyscript or @solo-io/proxy-runtime not installed; skipping filter build");
    return;
  }
  const shared = newestMtime([libDir, sdkDir, import.meta.filename, join(repoDir, "node_modules", "assemblyscript", "package.json")]);
  const jobs: Promise<Outcome>[] = [];
  for (const root of ROOTS) {
    const names = listFilters(root.dir);
    if (names.length === 0) continue;
    mkdirSync(root.outDir, { recursive: true });
    const rootShared = Math.max(shared, newestMtime([join(root.dir, "lib")]));
    for (const name of names) jobs.push(buildFilter(root, name, rootShared, force).then(report));
  }
  Promise.all(jobs).then((outcomes) => {
    if (outcomes.some((o) => !o.ok)) process.exitCode = 1;
  });
}

function report(outcome: Outcome): Outcome {
  if (outcome.ok) console.log(outcome.message);
  else console.error(outcome.message);
  return outcome;
}

// Every <dir>/<name>/ directory with an index.ts, in a stable order.
function listFilters(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !NOT_FILTERS.has(entry.name))
    .filter((entry) => existsSync(join(dir, entry.name, "index.ts")))
    .map((entry) => entry.name)
    .sort();
}

async function buildFilter(root: SourceRoot, name: string, sharedMtime: number, force: boolean): Promise<Outcome> {
  const outDir = root.outDir;
  const output = join(outDir, `${name}.wasm`);
  const shown = relative(repoDir, output);
  const inputsMtime = Math.max(sharedMtime, newestMtime([join(root.dir, name)]));
  if (!force && existsSync(output) && statSync(output).mtimeMs > inputsMtime) {
    return { name, ok: true, message: `${shown} up to date` };
  }
  const started = performance.now();
  // Compile to a temporary file and rename, so an interrupted build never
  // leaves a truncated wasm that looks up to date.
  const temp = join(outDir, `.${name}.${process.pid}.wasm`);
  const result = await runAsc([relative(repoDir, join(root.dir, name, "index.ts")), "-b", temp, ...ASC_FLAGS]);
  if (result.code !== 0 || !existsSync(temp)) {
    rmSync(temp, { force: true });
    return { name, ok: false, message: `failed to build ${shown}:\n${result.output.trimEnd()}` };
  }
  renameSync(temp, output);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  return { name, ok: true, message: `built ${shown} in ${seconds}s` };
}

// Runs asc with the current Node binary (PATH may hold an older node).
function runAsc(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [ascBin, ...args], { cwd: repoDir, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", (err) => resolve({ code: 1, output: String(err) }));
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

// Newest modification time (ms) of the given files, or of any file below
// the given directories.
function newestMtime(paths: string[]): number {
  let newest = 0;
  for (const path of paths) {
    if (!existsSync(path)) continue;
    const stat = statSync(path);
    if (!stat.isDirectory()) {
      newest = Math.max(newest, stat.mtimeMs);
      continue;
    }
    for (const entry of readdirSync(path, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
    }
  }
  return newest;
}

main();
