// The bench scripts' command lines: --help, a flag they do not know and a bad number, through
// the scripts themselves (each exits before it starts any server).

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const SCRIPTS: Array<[file: string, command: string]> = [
  ['bench/run.ts', 'bench'],
  ['bench/instructions.ts', 'bench:instructions'],
  ['bench/abi.ts', 'bench:abi'],
  ['bench/abi-instructions.ts', 'bench:abi:instructions'],
  ['bench/streaming.ts', 'bench:streaming'],
];

const run = (args: string[]) => spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });

describe('bench scripts: flags', () => {
  it.each(SCRIPTS)('%s prints its usage for --help and exits 0', (file, command) => {
    const result = run([file, '--help']);
    expect(result.status).toBe(0);
    expect(result.stdout.startsWith(`Usage: npm run ${command} -- [flags]\n`)).toBe(true);
  });

  it.each(SCRIPTS)('%s refuses a flag it does not know in one line, exit code 2', (file, command) => {
    const result = run([file, '--no-such-flag']);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe(`${command}: Unknown option '--no-such-flag' (npm run ${command} -- --help lists the flags)\n`);
  });

  it('refuses a number out of range or not a number, naming the flag', () => {
    const gib = run(['bench/streaming.ts', '--gib', 'lots']);
    expect(gib.status).toBe(2);
    expect(gib.stderr).toBe('bench:streaming: --gib expects a number > 0, got lots\n');
    const rounds = run(['bench/instructions.ts', '--rounds', '1.5']);
    expect(rounds.status).toBe(2);
    expect(rounds.stderr).toBe('bench:instructions: --rounds expects a whole number ≥ 1, got 1.5\n');
    const lastLevel = run(['bench/instructions.ts', '--last-level', '32']);
    expect(lastLevel.status).toBe(2);
    expect(lastLevel.stderr).toBe('bench:instructions: --last-level expects a whole number ≥ 64, got 32\n');
    const missing = run(['bench/abi.ts', '--n']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^bench:abi: Option '--n <value>' argument missing \(npm run bench:abi -- --help lists the flags\)\n$/);
  });
});
