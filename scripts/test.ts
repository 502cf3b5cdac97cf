// `npm test`: build the bundled filters and sluice's bundles, typecheck, run every test, and end with one line
// `N passed, N failed` (what .ci/run reports). A failed typecheck or filter build counts as a
// failed check, so the summary can never read green when the build is red.

import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const root = join(import.meta.dirname, '..');
const bin = (name: string) => join(root, 'node_modules', '.bin', name);

function run(label: string, command: string, args: string[]): boolean {
  console.log(`\n> ${label}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  return result.status === 0;
}

let failedChecks = 0;
if (!run('build filters', process.execPath, [join(root, 'filters', 'build.ts')])) failedChecks++;
if (!run('bundle', process.execPath, [join(root, 'scripts', 'bundle.ts')])) failedChecks++;
if (!run('typecheck', bin('tsc'), ['--noEmit', '-p', root])) failedChecks++;

const report = join(tmpdir(), `sluice-vitest-${process.pid}.json`);
run('tests', bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)]);

let passed = 0;
let failed = failedChecks;
try {
  const summary = JSON.parse(readFileSync(report, 'utf8')) as {
    numPassedTests: number;
    numFailedTests: number;
    numTotalTestSuites: number;
    testResults: Array<{ status: string; assertionResults: unknown[] }>;
  };
  passed += summary.numPassedTests;
  failed += summary.numFailedTests;
  // A test file that fails to load has no assertions but is still a failure.
  failed += summary.testResults.filter((f) => f.status === 'failed' && f.assertionResults.length === 0).length;
  rmSync(report, { force: true });
} catch {
  failed++;
  console.error('no test report was written');
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
