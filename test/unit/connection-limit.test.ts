import { describe, expect, it } from 'vitest';
import { ConnectionLimit, connectionShare, connectionTotal, openFileLimit, reclaimShare, resolveMaxConnections, unbackedLimit, UNLIMITED } from '../../src/proxy/connection-limit.ts';

const LIMITS = (files: string) => `Limit                     Soft Limit           Hard Limit           Units
Max processes             63704                63704                processes
Max open files            ${files}                files
Max locked memory         8388608              8388608              bytes
`;

describe('max_connections: auto', () => {
  it('reads the soft open-file limit from /proc/self/limits', () => {
    expect(openFileLimit(LIMITS('20000                1048576    '))).toBe(20000);
    expect(openFileLimit(LIMITS('unlimited            unlimited  '))).toBeNull();
    expect(openFileLimit('nothing here')).toBeNull();
  });

  it('leaves a reserve and an upstream descriptor per client connection', () => {
    expect(resolveMaxConnections('auto', 20000)).toBe(9872);
    expect(resolveMaxConnections('auto', 1024)).toBe(384);
    expect(resolveMaxConnections('auto', 300)).toBe(22);
    expect(resolveMaxConnections('auto', 100)).toBe(16);
    expect(resolveMaxConnections('auto', null)).toBe(UNLIMITED);
    expect(resolveMaxConnections(7, 20000)).toBe(7);
  });

  it('tells a limit set by hand that the descriptors cannot back', () => {
    expect(unbackedLimit(5000, 1024)).toEqual({ openFileLimit: 1024, supported: 384 });
    expect(unbackedLimit(384, 1024)).toBeNull();
    expect(unbackedLimit('auto', 1024)).toBeNull();
    expect(unbackedLimit(5000, null)).toBeNull();
  });
});

describe('ConnectionLimit', () => {
  it('admits up to the limit over every worker, and takes a gone worker’s share back', () => {
    const total = connectionTotal();
    const first = connectionShare();
    const a = new ConnectionLimit(3, total, first);
    const b = new ConnectionLimit(3, total, connectionShare());
    expect([a.admit(), a.admit(), b.admit(), b.admit()]).toEqual([true, true, true, false]);
    expect(a.open).toBe(3);
    b.release();
    expect(b.open).toBe(2);
    // The first worker dies holding two: they are counted out, and the second admits again.
    expect(reclaimShare(total, first)).toBe(2);
    expect(b.open).toBe(0);
    expect([b.admit(), b.admit(), b.admit(), b.admit()]).toEqual([true, true, true, false]);
  });
});
