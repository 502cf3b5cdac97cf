import { GCProfiler } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { OLD_GARBAGE_LIMIT_BYTES, OldGenerationPacer } from '../../src/proxy/old-generation-gc.ts';
import { privateGc } from '../../src/proxy/private-gc.ts';

const MiB = 1024 * 1024;

describe('OldGenerationPacer', () => {
  it('asks for a full GC once the heap has grown by the limit over the lowest size seen', () => {
    let used = 40 * MiB;
    let gcs = 0;
    const pacer = new OldGenerationPacer(() => gcs++, () => used);
    expect(pacer.check()).toBe(false); // learns 40
    used = 30 * MiB;
    expect(pacer.check()).toBe(false); // V8 collected by itself: the floor follows it down
    used = 30 * MiB + OLD_GARBAGE_LIMIT_BYTES - 1;
    expect(pacer.check()).toBe(false);
    used = 30 * MiB + OLD_GARBAGE_LIMIT_BYTES;
    expect(pacer.check()).toBe(true);
    expect(gcs).toBe(1);
  });

  it('learns the floor again after its GC, so a grown live heap does not mean a GC per look', () => {
    let used = 20 * MiB;
    let gcs = 0;
    const pacer = new OldGenerationPacer(() => gcs++, () => used);
    pacer.check();
    used = 20 * MiB + OLD_GARBAGE_LIMIT_BYTES;
    expect(pacer.check()).toBe(true);
    used = 50 * MiB; // what survived: live data grew (more connections, shared data)
    expect(pacer.check()).toBe(false);
    used = 60 * MiB;
    expect(pacer.check()).toBe(false);
    expect(gcs).toBe(1);
    used = 50 * MiB + OLD_GARBAGE_LIMIT_BYTES;
    expect(pacer.check()).toBe(true);
    expect(gcs).toBe(2);
  });

  it('the gc function it is given in the worker runs a real full GC', () => {
    const gc = privateGc();
    expect(gc).not.toBeNull();
    const profiler = new GCProfiler();
    profiler.start();
    gc!({ type: 'major' });
    const kinds = profiler.stop()!.statistics.map((s) => s.gcType);
    expect(kinds).toContain('MarkSweepCompact');
    expect(typeof (globalThis as { gc?: unknown }).gc).toBe('undefined');
  });
});
