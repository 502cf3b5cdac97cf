// How host log lines quote what a guest passed: short text whole, long text cut with its length,
// and the cut a copy: a throttled warning keeps its last details, and a slice would keep the
// guest's whole megabytes alive with it.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { MAX_QUOTED_CHARS, quoted } from '../../src/abi/quoted.ts';

describe('quoted', () => {
  it('keeps short text and cuts long text, saying how long it was', () => {
    expect(quoted('cluster_a')).toBe('cluster_a');
    expect(quoted('x'.repeat(MAX_QUOTED_CHARS))).toBe('x'.repeat(MAX_QUOTED_CHARS));
    expect(quoted('y'.repeat(5000))).toBe(`${'y'.repeat(MAX_QUOTED_CHARS)}… (5000 characters)`);
  });

  it('does not keep the text it cut from alive', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const before = process.memoryUsage().external;
    // Large latin1 strings from a Buffer are external strings: counted in `external`.
    const kept = Array.from({ length: 10 }, (_, i) => quoted(Buffer.alloc(5_000_000, 65 + i).toString('latin1')));
    gc();
    gc();
    expect(process.memoryUsage().external - before).toBeLessThan(10_000_000);
    expect(kept[9]!.startsWith('J')).toBe(true);
  });
});
