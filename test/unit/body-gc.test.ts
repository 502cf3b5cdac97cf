import { Worker } from 'node:worker_threads';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { bodyBytesForwarded, disableBodyGcPacing, enableBodyGcPacing, minorGcFunction, SCAVENGE_EVERY_BYTES } from '../../src/proxy/body-gc.ts';
import { FrameKind, Pipeline, type Sink } from '../../src/proxy/pipeline.ts';

afterEach(() => disableBodyGcPacing());

describe('body GC pacing', () => {
  it('asks for a scavenge once every SCAVENGE_EVERY_BYTES forwarded', () => {
    let scavenges = 0;
    enableBodyGcPacing(() => scavenges++);
    bodyBytesForwarded(SCAVENGE_EVERY_BYTES - 1);
    expect(scavenges).toBe(0);
    bodyBytesForwarded(1);
    expect(scavenges).toBe(1);
    bodyBytesForwarded(SCAVENGE_EVERY_BYTES / 2);
    bodyBytesForwarded(SCAVENGE_EVERY_BYTES / 2 - 1);
    expect(scavenges).toBe(1);
    bodyBytesForwarded(1);
    expect(scavenges).toBe(2);
  });

  it('does nothing unless enabled', () => {
    let scavenges = 0;
    enableBodyGcPacing(() => scavenges++);
    disableBodyGcPacing();
    bodyBytesForwarded(3 * SCAVENGE_EVERY_BYTES);
    expect(scavenges).toBe(0);
  });

  it('counts the body chunks a pipeline hands to its sink', () => {
    let scavenges = 0;
    enableBodyGcPacing(() => scavenges++);
    const sink: Sink = { headers() {}, data() {}, trailers() {} };
    const pipeline = new Pipeline([], sink, 0);
    const half = Buffer.alloc(SCAVENGE_EVERY_BYTES / 2);
    pipeline.push({ kind: FrameKind.HEADERS, eos: false });
    pipeline.push({ kind: FrameKind.DATA, chunk: half, eos: false });
    expect(scavenges).toBe(0);
    pipeline.push({ kind: FrameKind.DATA, chunk: half, eos: true });
    expect(scavenges).toBe(1);
  });

  it('runs real young-generation GCs without leaving gc() exposed', async () => {
    const minors: number[] = [];
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        if ((entry as unknown as { detail: { kind: number } }).detail.kind === constants.NODE_PERFORMANCE_GC_MINOR) minors.push(entry.startTime);
      }
    });
    observer.observe({ entryTypes: ['gc'] });
    try {
      const gc = minorGcFunction();
      expect(gc).not.toBeNull();
      for (let i = 0; i < 5; i++) gc!();
      // gc entries are delivered later (later still on a loaded machine): wait up to 2 s
      for (let waited = 0; minors.length < 5 && waited < 2000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      observer.disconnect();
    }
    expect(minors.length).toBeGreaterThanOrEqual(5);
    expect(typeof (globalThis as { gc?: unknown }).gc).toBe('undefined');
    expect(runInNewContext('typeof gc')).toBe('undefined');
  });

  it('gives every thread a gc function when several ask at once (they race on the V8 flag)', async () => {
    const moduleUrl = new URL('../../src/proxy/body-gc.ts', import.meta.url).href;
    const code = `
      const { parentPort } = require('node:worker_threads');
      import(${JSON.stringify(moduleUrl)}).then(({ minorGcFunction }) => {
        let missing = 0;
        for (let i = 0; i < 200; i++) if (minorGcFunction() === null) missing++;
        parentPort.postMessage(missing);
      });`;
    const results = await Promise.all(
      Array.from({ length: 4 }, () => new Promise<number>((resolve, reject) => {
        const worker = new Worker(code, { eval: true });
        worker.once('message', (missing: number) => {
          resolve(missing);
          void worker.terminate();
        });
        worker.once('error', reject);
      })),
    );
    expect(results).toEqual([0, 0, 0, 0]);
  });
});
