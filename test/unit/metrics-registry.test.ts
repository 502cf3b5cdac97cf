// MetricsRegistry (values per proxy, keyed by name and type) and MetricIds (Envoy's per-VM id
// and status rules), without a guest.

import { describe, expect, it } from 'vitest';
import { Counter, Gauge, Histogram, HISTOGRAM_BUCKETS, MetricIds, MetricsRegistry, detachedMetric } from '../../src/abi/metrics.ts';
import { MetricType, Status } from '../../src/abi/types.ts';

const { COUNTER, GAUGE, HISTOGRAM } = MetricType;
const MAX_U64 = (1n << 64n) - 1n;

function define(ids: MetricIds, registry: MetricsRegistry, type: 0 | 1 | 2, name: string): number {
  return ids.bind(registry.define(type, name)!);
}

describe('MetricsRegistry', () => {
  it('finds or creates by (name, type), in definition order', () => {
    const r = new MetricsRegistry();
    const a = r.define(COUNTER, 'a');
    const g = r.define(GAUGE, 'a');
    const h = r.define(HISTOGRAM, 'b');
    expect(a).toBeInstanceOf(Counter);
    expect(g).toBeInstanceOf(Gauge);
    expect(h).toBeInstanceOf(Histogram);
    expect(r.define(COUNTER, 'a')).toBe(a);
    expect(r.size).toBe(3);
    expect([...r.metrics()]).toEqual([a, g, h]);
  });

  it('refuses new metrics past its limit but still finds existing ones', () => {
    const r = new MetricsRegistry(2);
    const a = r.define(COUNTER, 'a');
    r.define(COUNTER, 'b');
    expect(r.define(COUNTER, 'c')).toBeNull();
    expect(r.define(GAUGE, 'a')).toBeNull();
    expect(r.define(COUNTER, 'a')).toBe(a);
    expect(r.size).toBe(2);
  });

  it('registries are independent (one per proxy)', () => {
    const one = new MetricsRegistry();
    const two = new MetricsRegistry();
    (one.define(COUNTER, 'x') as Counter).add(5n);
    expect((two.define(COUNTER, 'x') as Counter).value).toBe(0n);
  });
});

describe('MetricIds', () => {
  it('numbers each type separately from 4, 5, 6 in steps of 4, a new id per define', () => {
    const r = new MetricsRegistry();
    const ids = new MetricIds();
    expect([COUNTER, COUNTER, GAUGE, HISTOGRAM, GAUGE, HISTOGRAM, COUNTER].map((t) => define(ids, r, t, 'same'))).toEqual([
      4, 8, 5, 6, 9, 10, 12,
    ]);
    expect(r.size).toBe(3);
  });

  it('binds detached metrics too (a full registry)', () => {
    const ids = new MetricIds();
    const id = ids.bind(detachedMetric(GAUGE, 'lost'));
    expect(id).toBe(5);
    expect(ids.record(id, 3n)).toBe(Status.OK);
    expect(ids.get(id)).toEqual({ status: Status.OK, value: 3n });
  });

  it('past its id limit, gives a metric defined again the id it got last, and a new metric a new id', () => {
    const r = new MetricsRegistry();
    const ids = new MetricIds(3);
    expect([1, 2, 3, 4, 5].map(() => define(ids, r, COUNTER, 'per-request'))).toEqual([4, 8, 12, 12, 12]);
    expect(define(ids, r, COUNTER, 'new')).toBe(16);
    expect(define(ids, r, COUNTER, 'new')).toBe(16);
    expect(ids.increment(12, 2n)).toBe(Status.OK);
    expect(ids.get(4)).toEqual({ status: Status.OK, value: 2n }); // every id of a name is the same stat
  });

  describe('counter', () => {
    it('increment needs delta > 0', () => {
      const r = new MetricsRegistry();
      const ids = new MetricIds();
      const id = define(ids, r, COUNTER, 'c');
      expect(ids.increment(id, 2n)).toBe(Status.OK);
      expect(ids.increment(id, 0n)).toBe(Status.BAD_ARGUMENT);
      expect(ids.increment(id, -1n)).toBe(Status.BAD_ARGUMENT);
      expect(ids.get(id)).toEqual({ status: Status.OK, value: 2n });
    });

    it('record adds, and the sum wraps at 2^64', () => {
      const r = new MetricsRegistry();
      const ids = new MetricIds();
      const id = define(ids, r, COUNTER, 'c');
      expect(ids.record(id, 10n)).toBe(Status.OK);
      expect(ids.record(id, 10n)).toBe(Status.OK);
      expect(ids.get(id).value).toBe(20n);
      ids.record(id, MAX_U64);
      expect(ids.get(id).value).toBe(19n);
    });
  });

  describe('gauge', () => {
    it('increment adds a signed delta (0 allowed), record sets', () => {
      const r = new MetricsRegistry();
      const ids = new MetricIds();
      const id = define(ids, r, GAUGE, 'g');
      expect(ids.increment(id, 5n)).toBe(Status.OK);
      expect(ids.increment(id, -2n)).toBe(Status.OK);
      expect(ids.increment(id, 0n)).toBe(Status.OK);
      expect(ids.get(id).value).toBe(3n);
      expect(ids.record(id, 40n)).toBe(Status.OK);
      expect(ids.get(id).value).toBe(40n);
    });

    it('is one value for all ids and VMs', () => {
      const r = new MetricsRegistry();
      const vm1 = new MetricIds();
      const vm2 = new MetricIds();
      const a = define(vm1, r, GAUGE, 'g');
      const b = define(vm2, r, GAUGE, 'g');
      vm1.record(a, 1n);
      vm2.increment(b, 1n);
      expect(vm1.get(a).value).toBe(2n);
      expect(a).toBe(b); // both VMs' first gauge id
    });

    it('wraps below zero as a u64', () => {
      const r = new MetricsRegistry();
      const ids = new MetricIds();
      const id = define(ids, r, GAUGE, 'g');
      ids.increment(id, -2n);
      expect(ids.get(id).value).toBe(MAX_U64 - 1n);
    });
  });

  describe('histogram', () => {
    it('record samples into Envoy’s default buckets; increment and get are BAD_ARGUMENT', () => {
      const r = new MetricsRegistry();
      const ids = new MetricIds();
      const id = define(ids, r, HISTOGRAM, 'h');
      for (const v of [0n, 1n, 2n, 5n, 3_600_000n, 3_600_001n, MAX_U64]) expect(ids.record(id, v)).toBe(Status.OK);
      expect(ids.increment(id, 1n)).toBe(Status.BAD_ARGUMENT);
      expect(ids.get(id)).toEqual({ status: Status.BAD_ARGUMENT, value: 0n });
      const h = r.define(HISTOGRAM, 'h') as Histogram;
      expect(h.count).toBe(7);
      // The sum is a u64 like every other value: it wraps (here past MAX_U64).
      expect(h.sum).toBe(BigInt.asUintN(64, 0n + 1n + 2n + 5n + 3_600_000n + 3_600_001n + MAX_U64));
      const expected = new Array<number>(HISTOGRAM_BUCKETS.length + 1).fill(0);
      expected[0] = 1; // 0 <= 0.5
      expected[1] = 1; // 1 <= 1
      expected[2] = 2; // 2 and 5 <= 5 (bounds are inclusive)
      expected[HISTOGRAM_BUCKETS.length - 1] = 1; // 3_600_000
      expected[HISTOGRAM_BUCKETS.length] = 2; // above every bound
      expect(h.counts).toEqual(expected);
    });

    it('uses Envoy’s default bucket bounds', () => {
      expect(HISTOGRAM_BUCKETS).toEqual([
        0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
      ]);
    });
  });

  describe('unknown ids', () => {
    it('are NOT_FOUND for counter and gauge bits (Kong: id 0)', () => {
      const ids = new MetricIds();
      expect(ids.increment(0, 1n)).toBe(Status.NOT_FOUND);
      expect(ids.record(0, 1n)).toBe(Status.NOT_FOUND);
      expect(ids.get(0).status).toBe(Status.NOT_FOUND);
      expect(ids.increment(5, 1n)).toBe(Status.NOT_FOUND);
      expect(ids.get(5).status).toBe(Status.NOT_FOUND);
    });

    it('with histogram or type-3 bits: increment/get BAD_ARGUMENT, record NOT_FOUND', () => {
      const ids = new MetricIds();
      for (const id of [6, 3, 7]) {
        expect(ids.increment(id, 1n)).toBe(Status.BAD_ARGUMENT);
        expect(ids.get(id).status).toBe(Status.BAD_ARGUMENT);
        expect(ids.record(id, 1n)).toBe(Status.NOT_FOUND);
      }
    });

    it('are per MetricIds (per VM)', () => {
      const r = new MetricsRegistry();
      const vm1 = new MetricIds();
      const vm2 = new MetricIds();
      define(vm1, r, COUNTER, 'a');
      const second = define(vm1, r, COUNTER, 'b');
      expect(vm2.get(second).status).toBe(Status.NOT_FOUND);
    });
  });
});
