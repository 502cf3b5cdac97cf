// The worker thread `sluice run` starts before it loads the configuration: handed to the
// supervisor once, never when it already died, and stopped when nobody takes it.

import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import type { FromWorker, ToWorker, WorkerData } from '../../src/supervisor/messages.ts';
import { createRpcChannel } from '../../src/supervisor/sync-rpc.ts';
import { discardEarlyWorker, startWorkerEarly, takeEarlyWorker } from '../../src/supervisor/worker-thread.ts';

afterEach(() => discardEarlyWorker());

describe('the early worker thread', () => {
  it('is handed out once; later takers start their own', async () => {
    const worker = startWorkerEarly();
    const taken = takeEarlyWorker();
    expect(taken).toBe(worker);
    expect(takeEarlyWorker()).toBeNull();
    await taken!.terminate();
  });

  it('is not handed out once it has exited', async () => {
    const worker = startWorkerEarly();
    await worker.terminate();
    await new Promise((resolve) => setImmediate(resolve)); // let its exit event arrive
    expect(takeEarlyWorker()).toBeNull();
  });

  it('stops when discarded (the configuration was invalid)', async () => {
    const worker = startWorkerEarly();
    const exited = once(worker, 'exit');
    discardEarlyWorker();
    await exited;
    expect(takeEarlyWorker()).toBeNull();
  });

  it('loads the proxy, then waits for its start message, and starts from the configuration in it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-worker-'));
    writeFileSync(join(dir, 'bad.wasm'), 'not wasm');
    const file = join(dir, 'config.yaml');
    writeFileSync(file, ['listeners:', '  - name: l', '    address: 127.0.0.1:0', '    filters: [f]', '    routes: [{ match: {}, echo: true }]', 'filters:', '  - name: f', '    module: bad.wasm'].join('\n'));
    const worker = startWorkerEarly();
    const messages: FromWorker[] = [];
    worker.on('message', (m: FromWorker) => messages.push(m));
    // Before its start message it does nothing: the old worker read its configuration from
    // workerData at once, and died without one.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(messages).toEqual([]);
    const data: WorkerData = {
      config: loadConfig(file),
      index: 0,
      heartbeat: new SharedArrayBuffer(4),
      guestCalls: new SharedArrayBuffer(4),
      quarantines: [],
      stateChannel: createRpcChannel(),
      metricSlots: new SharedArrayBuffer(1024),
      connections: { total: new SharedArrayBuffer(4), share: new SharedArrayBuffer(4), max: 10 },
    };
    const exited = once(worker, 'exit');
    takeEarlyWorker()!.postMessage({ type: 'start', data } satisfies ToWorker);
    expect(await exited).toEqual([1]);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ type: 'start-failed', message: expect.stringMatching(/bad\.wasm: invalid WebAssembly module/) });
  });
});
