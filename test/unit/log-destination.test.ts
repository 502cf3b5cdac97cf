// The default log destination: lines batched for a moment, written whole, never lost at exit.

import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BATCH_BYTES, LineBatcher, batchedDestination, forwardingDestination } from '../../src/log-destination.ts';

const LOG_MODULE = join(import.meta.dirname, '..', '..', 'src', 'log.ts');
const DESTINATION_MODULE = join(import.meta.dirname, '..', '..', 'src', 'log-destination.ts');

describe('LineBatcher', () => {
  it('hands on the lines that came within the delay as one chunk, when the delay is over', async () => {
    const chunks: string[] = [];
    const batcher = new LineBatcher((chunk) => chunks.push(chunk), 30);
    batcher.push('a\n');
    batcher.push('b\n');
    await nextTurn();
    batcher.push('c\n');
    expect(chunks).toEqual([]);
    await sleep(60);
    expect(chunks).toEqual(['a\nb\nc\n']);
    batcher.push('d\n');
    await sleep(60);
    expect(chunks).toEqual(['a\nb\nc\n', 'd\n']);
  });

  it('keeps chunks within BATCH_BYTES at line boundaries, a longer line whole and alone, in order', async () => {
    const chunks: string[] = [];
    const batcher = new LineBatcher((chunk) => chunks.push(chunk), 10);
    const line = (n: number, size: number) => `${String(n).padStart(size - 1, '.')}\n`;
    const lines = [line(1, 1000), line(2, 1000), line(3, 1000), line(4, 1000), line(5, 1000), line(6, 5000), line(7, 10)];
    for (const l of lines) batcher.push(l);
    expect(chunks).toEqual([lines.slice(0, 4).join(''), lines[4], lines[5]]); // full chunks go at once
    await sleep(30);
    expect(chunks.join('')).toBe(lines.join(''));
    expect(chunks).toEqual([lines.slice(0, 4).join(''), lines[4], lines[5], lines[6]]);
    for (const chunk of chunks) expect(chunk.endsWith('\n')).toBe(true);
    expect(chunks.filter((c) => c.length > BATCH_BYTES)).toEqual([lines[5]]);
  });

  it('flush hands on what is pending at once, and the delay then finds nothing more', async () => {
    const chunks: string[] = [];
    const batcher = new LineBatcher((chunk) => chunks.push(chunk), 10);
    batcher.push('x\n');
    batcher.flush();
    expect(chunks).toEqual(['x\n']);
    await sleep(30);
    expect(chunks).toEqual(['x\n']);
  });

});

describe('forwardingDestination', () => {
  it('hands on batches of whole lines instead of writing them, and flushSync hands on at once', async () => {
    const sent: string[] = [];
    const destination = forwardingDestination((chunk) => sent.push(chunk));
    destination.write('{"n":1}\n');
    destination.write('{"n":2}\n');
    expect(sent).toEqual([]);
    for (let i = 0; i < 50 && sent.length === 0; i++) await sleep(10);
    expect(sent).toEqual(['{"n":1}\n{"n":2}\n']);
    destination.write('{"n":3}\n');
    destination.flushSync();
    expect(sent).toEqual(['{"n":1}\n{"n":2}\n', '{"n":3}\n']);
  });
});

describe('batchedDestination', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-log-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the lines to its descriptor soon after the turn, and flushSync writes at once', async () => {
    const file = join(dir, 'log');
    const fd = openSync(file, 'w');
    try {
      const destination = batchedDestination(fd);
      destination.write('{"n":1}\n');
      destination.write('{"n":2}\n');
      for (let i = 0; i < 50 && readFileSync(file, 'utf8') === ''; i++) await sleep(10);
      expect(readFileSync(file, 'utf8')).toBe('{"n":1}\n{"n":2}\n');
      destination.write('{"n":3}\n');
      destination.flushSync();
      expect(readFileSync(file, 'utf8')).toBe('{"n":1}\n{"n":2}\n{"n":3}\n');
      // Another thread's batch goes after the lines this one holds, and a long line stays whole.
      const long = `{"n":5,"pad":"${'x'.repeat(3 * BATCH_BYTES)}"}\n`;
      destination.write('{"n":4}\n');
      destination.writeLines(long);
      for (let i = 0; i < 50 && !readFileSync(file, 'utf8').endsWith(long); i++) await sleep(10);
      expect(readFileSync(file, 'utf8')).toBe(`{"n":1}\n{"n":2}\n{"n":3}\n{"n":4}\n${long}`);
    } finally {
      closeSync(fd);
    }
  });

  it('loses no line when the process exits in the turn that logged it, on the main thread or a worker', async () => {
    const script = join(dir, 'exit.mts');
    writeFileSync(
      script,
      `import { Worker, isMainThread } from 'node:worker_threads';
import { createLogger } from ${JSON.stringify(LOG_MODULE)};
if (isMainThread) {
  const worker = new Worker(new URL(import.meta.url));
  worker.once('exit', () => {
    createLogger('info').info({ thread: 'main' }, 'last words');
    process.exit(0);
  });
} else {
  const logger = createLogger('info');
  for (let i = 0; i < 3; i++) logger.info({ thread: 'worker', i }, 'last words');
  process.exit(0);
}
`,
    );
    const { code, stdout } = await runNode(script);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { thread: string; i?: number });
    expect(lines.map((l) => `${l.thread}${l.i ?? ''}`)).toEqual(['worker0', 'worker1', 'worker2', 'main']);
  });

  it('does not keep a process alive, and writes its lines when it ends by itself', async () => {
    const script = join(dir, 'natural.mts');
    writeFileSync(
      script,
      `import { createLogger } from ${JSON.stringify(LOG_MODULE)};
createLogger('info').info({ at: 'end' }, 'nothing else to do');
`,
    );
    const started = Date.now();
    const { code, stdout } = await runNode(script);
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(JSON.parse(stdout) as { at: string }).toMatchObject({ at: 'end', msg: 'nothing else to do' });
  });

  it('drops and counts lines past its backlog when stdout does not keep up, and serves on', async () => {
    // The child logs ~2 MiB to a stdout nobody reads yet, with a 64 KiB backlog.
    const script = join(dir, 'stall.mts');
    writeFileSync(
      script,
      `import { batchedDestination } from ${JSON.stringify(DESTINATION_MODULE)};
const destination = batchedDestination(1, 64 << 10);
let n = 0;
for (let turn = 0; turn < 200; turn++) {
  for (let i = 0; i < 100; i++) destination.write(JSON.stringify({ n: n++, pad: 'x'.repeat(80) }) + '\\n');
  await new Promise((resolve) => setImmediate(resolve));
}
process.stderr.write('logged ' + n + '\\n');
`,
    );
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    child.stdout.pause();
    for (let i = 0; i < 500 && !stderr.includes('logged'); i++) await sleep(10);
    expect(stderr).toMatch(/sluice: stdout is not keeping up with the log; \d+ lines dropped so far/);
    expect(stderr).toContain('logged 20000');
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stdout.resume();
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(code).toBe(0);
    const numbers = stdout.trim().split('\n').map((l) => (JSON.parse(l) as { n: number }).n);
    expect(numbers.length).toBeGreaterThan(0);
    expect(numbers.length).toBeLessThan(20000);
    for (let i = 1; i < numbers.length; i++) expect(numbers[i]).toBeGreaterThan(numbers[i - 1]!);
  });
});

function runNode(script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
