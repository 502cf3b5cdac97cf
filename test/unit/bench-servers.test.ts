// The harness's servers go down with it when it is stopped by a signal.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

// A harness in miniature: starts the bench upstream through startServer, prints its pid, waits.
const HARNESS = `
import { freePort, startServer } from ${JSON.stringify(join(ROOT, 'bench', 'servers.ts'))};
const port = await freePort();
const server = await startServer({ name: 'upstream', command: process.execPath, args: [${JSON.stringify(join(ROOT, 'bench', 'peers', 'upstream.ts'))}, '--port', String(port)], port });
process.stdout.write(server.pid + '\\n');
setInterval(() => {}, 1000);
`;

describe('bench: servers started by the harness', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`stop when the harness gets ${signal}`, async () => {
      const harness = spawn(process.execPath, ['--input-type=module', '-e', HARNESS], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
      const pid = await new Promise<number>((resolve, reject) => {
        let out = '';
        harness.stdout.setEncoding('utf8').on('data', (t: string) => {
          out += t;
          if (out.includes('\n')) resolve(Number(out.trim()));
        });
        harness.once('exit', (code) => reject(new Error(`harness exited ${code} before the server served`)));
      });
      expect(alive(pid)).toBe(true);
      const exited = new Promise<number | null>((resolve) => harness.once('exit', (code) => resolve(code)));
      harness.kill(signal);
      expect(await exited).toBe(signal === 'SIGTERM' ? 143 : 130);
      const deadline = Date.now() + 5000;
      while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(alive(pid)).toBe(false);
    }, 20_000);
  }
});
