// Metric host functions driven from a real module: ids per VM with the type in the low two bits,
// values shared per proxy, i64 arguments (signed delta, unsigned value), Envoy's status rules and
// Kong's invalid-id cases (reference §3.8, §3.10, §4.13, §7.12, §10 item 25).

import { describe, expect, it } from 'vitest';
import { MetricsRegistry, type Counter, type Histogram } from '../../src/abi/metrics.ts';
import { MetricType, Status } from '../../src/abi/types.ts';
import { CallServices, harness, OUT_U32, OUT_U64, PINO, SCRATCH, type Harness } from './helpers.ts';

const { COUNTER, GAUGE, HISTOGRAM } = MetricType;
const BAD_PTR = 0x7fff_fff0;

function halves(value: bigint): [number, number] {
  const u = BigInt.asUintN(64, value);
  return [Number(u & 0xffff_ffffn), Number(u >> 32n)];
}

class Metrics {
  readonly h: Harness;
  constructor(h: Harness) {
    this.h = h;
  }
  /** Defines from the root context; returns [status, id slot]. */
  define(type: number, name: string, ctx: { id: number } | null = this.h.plugin.root): [number, number] {
    const [ptr, len] = this.h.mem.write(SCRATCH, Buffer.from(name, 'utf8'));
    this.h.mem.setU32(OUT_U32, 0xdeadbeef);
    const status = this.h.call('define', ctx, type, ptr, len);
    return [status, this.h.mem.u32(OUT_U32)];
  }
  /** Defines and expects OK; returns the id. */
  id(type: number, name: string): number {
    const [status, id] = this.define(type, name);
    expect(status).toBe(Status.OK);
    return id;
  }
  increment(id: number, delta: bigint): number {
    return this.h.call('increment', this.h.plugin.root, id, ...halves(delta));
  }
  record(id: number, value: bigint): number {
    return this.h.call('record', this.h.plugin.root, id, ...halves(value));
  }
  get(id: number): { status: number; value: bigint | null } {
    this.h.mem.write(OUT_U64, Buffer.alloc(8, 0xee));
    const status = this.h.call('get', this.h.plugin.root, id);
    return { status, value: status === Status.OK ? this.h.mem.u64(OUT_U64) : null };
  }
}

async function setup(services = new CallServices()): Promise<Metrics> {
  return new Metrics(await harness('abi-metrics', { services }));
}

describe('proxy_define_metric', () => {
  it('hands out a new id on every define, with the type in the low two bits', async () => {
    const m = await setup();
    expect(m.define(COUNTER, 'c')).toEqual([Status.OK, 4]);
    expect(m.define(GAUGE, 'g')).toEqual([Status.OK, 5]);
    expect(m.define(HISTOGRAM, 'h')).toEqual([Status.OK, 6]);
    expect(m.define(COUNTER, 'c')).toEqual([Status.OK, 8]);
    expect(m.define(COUNTER, 'other')).toEqual([Status.OK, 12]);
    expect(m.define(GAUGE, 'g')).toEqual([Status.OK, 9]);
    expect(m.define(HISTOGRAM, 'h2')).toEqual([Status.OK, 10]);
  });

  it('gives the same stat to every id defined for one name and type', async () => {
    const m = await setup();
    const first = m.id(COUNTER, 'requests');
    const second = m.id(COUNTER, 'requests');
    expect(m.increment(first, 2n)).toBe(Status.OK);
    expect(m.increment(second, 3n)).toBe(Status.OK);
    expect(m.get(first)).toEqual({ status: Status.OK, value: 5n });
    expect(m.get(second)).toEqual({ status: Status.OK, value: 5n });
    expect(m.h.services.metrics.size).toBe(1);
  });

  it('keeps a counter and a gauge of the same name apart', async () => {
    const m = await setup();
    const c = m.id(COUNTER, 'same');
    const g = m.id(GAUGE, 'same');
    m.increment(c, 1n);
    m.record(g, 42n);
    expect(m.get(c).value).toBe(1n);
    expect(m.get(g).value).toBe(42n);
    expect([...m.h.services.metrics.metrics()].map((x) => [x.type, x.name])).toEqual([[COUNTER, 'same'], [GAUGE, 'same']]);
  });

  it('reads the name as UTF-8', async () => {
    const m = await setup();
    m.id(GAUGE, 'température_°C');
    expect([...m.h.services.metrics.metrics()][0]!.name).toBe('température_°C');
  });

  it('refuses a type above 2 with BAD_ARGUMENT and writes no id', async () => {
    const m = await setup();
    expect(m.define(3, 'x')).toEqual([Status.BAD_ARGUMENT, 0xdeadbeef]);
    expect(m.define(-1, 'x')).toEqual([Status.BAD_ARGUMENT, 0xdeadbeef]);
    expect(m.h.services.metrics.size).toBe(0);
  });

  it('returns INVALID_MEMORY_ACCESS for a bad name or id pointer and defines nothing', async () => {
    const m = await setup();
    const h = m.h;
    expect(h.call('define', h.plugin.root, COUNTER, BAD_PTR, 4)).toBe(Status.INVALID_MEMORY_ACCESS);
    const [ptr, len] = h.mem.write(SCRATCH, 'fine');
    expect(h.call('define_to', h.plugin.root, COUNTER, ptr, len, BAD_PTR)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(h.call('define_to', h.plugin.root, COUNTER, ptr, len, h.mem.size - 2)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(h.services.metrics.size).toBe(0);
    // The failed calls used no ids.
    expect(m.define(COUNTER, 'fine')).toEqual([Status.OK, 4]);
  });

  it('works from a stream context', async () => {
    const m = await setup();
    const { ctx } = m.h.stream();
    expect(m.define(COUNTER, 'per_request', ctx)).toEqual([Status.OK, 4]);
  });

  it('answers BAD_ARGUMENT outside any context (while the VM starts)', async () => {
    const m = await setup();
    expect(m.define(COUNTER, 'early', null)).toEqual([Status.BAD_ARGUMENT, 0xdeadbeef]);
    expect(m.h.services.metrics.size).toBe(0);
  });

  it('keeps ids per VM and values per proxy', async () => {
    const services = new CallServices();
    const a = await setup(services);
    const b = await setup(services);
    a.id(COUNTER, 'zero'); // a's next counter id is now 8
    const inA = a.id(COUNTER, 'shared');
    const inB = b.id(COUNTER, 'shared');
    expect([inA, inB]).toEqual([8, 4]);
    a.increment(inA, 10n);
    b.increment(inB, 1n);
    expect(a.get(inA).value).toBe(11n);
    expect(b.get(inB).value).toBe(11n);
    // An id means nothing in the other VM.
    expect(b.get(8).status).toBe(Status.NOT_FOUND);

    const other = await setup(new CallServices());
    const alone = other.id(COUNTER, 'shared');
    expect(other.get(alone).value).toBe(0n);
  });

  it('still answers OK when the registry is full, with a working id that is not exported', async () => {
    class SmallServices extends CallServices {
      override readonly metrics = new MetricsRegistry(1);
    }
    const m = await setup(new SmallServices());
    const kept = m.id(COUNTER, 'kept');
    const extra = m.id(COUNTER, 'extra');
    const extra2 = m.id(GAUGE, 'extra2');
    expect([kept, extra, extra2]).toEqual([4, 8, 5]);
    expect(m.increment(extra, 7n)).toBe(Status.OK);
    expect(m.get(extra)).toEqual({ status: Status.OK, value: 7n });
    expect([...m.h.services.metrics.metrics()].map((x) => x.name)).toEqual(['kept']);
    const warnings = m.h.lines.filter((l) => l.level === PINO.warn && l.msg.includes('too many filter metrics'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!['metric']).toBe('extra');
  });
});

describe('names', () => {
  it('a name over 1024 characters answers OK with a working id, is not exported, and is quoted in the warning', async () => {
    const m = await setup();
    const long = `n${'a'.repeat(1024)}`;
    const first = m.id(COUNTER, long);
    const second = m.id(COUNTER, `${long}b`);
    expect(m.increment(first, 2n)).toBe(Status.OK);
    expect(m.increment(second, 3n)).toBe(Status.OK);
    // Such defines share one metric per type: a filter making up names cannot grow the VM.
    expect(m.get(first)).toEqual({ status: Status.OK, value: 5n });
    expect([...m.h.services.metrics.metrics()]).toEqual([]);
    const warnings = m.h.lines.filter((l) => l.level === PINO.warn && l.msg.includes('filter metric name over 1024 characters'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!['metric']).toBe(`${long.slice(0, 100)}… (1025 characters)`);
    expect(m.id(COUNTER, 'a'.repeat(1024))).toBeGreaterThan(0);
    expect([...m.h.services.metrics.metrics()].map((x) => x.name.length)).toEqual([1024]);
  });
});

describe('counters', () => {
  it('increment with a positive delta; 0 and negative deltas are BAD_ARGUMENT', async () => {
    const m = await setup();
    const id = m.id(COUNTER, 'c');
    expect(m.increment(id, 1n)).toBe(Status.OK);
    expect(m.increment(id, 0n)).toBe(Status.BAD_ARGUMENT);
    expect(m.increment(id, -5n)).toBe(Status.BAD_ARGUMENT);
    expect(m.get(id)).toEqual({ status: Status.OK, value: 1n });
  });

  it('record adds (Envoy), with the full unsigned 64-bit range', async () => {
    const m = await setup();
    const id = m.id(COUNTER, 'c');
    expect(m.record(id, 5n)).toBe(Status.OK);
    expect(m.record(id, 0n)).toBe(Status.OK);
    expect(m.get(id).value).toBe(5n);
    expect(m.record(id, 1n << 63n)).toBe(Status.OK); // would be negative as a signed i64
    expect(m.get(id).value).toBe((1n << 63n) + 5n);
  });

  it('receives a large i64 delta intact', async () => {
    const m = await setup();
    const id = m.id(COUNTER, 'c');
    expect(m.increment(id, 0x1_0000_0001n)).toBe(Status.OK);
    expect(m.get(id).value).toBe(0x1_0000_0001n);
  });

  it('wrap around at 2^64 like Envoy’s u64 counters', async () => {
    const m = await setup();
    const id = m.id(COUNTER, 'c');
    m.record(id, (1n << 64n) - 1n);
    m.increment(id, 2n);
    expect(m.get(id).value).toBe(1n);
  });
});

describe('gauges', () => {
  it('increment adds and subtracts; record sets', async () => {
    const m = await setup();
    const id = m.id(GAUGE, 'g');
    expect(m.increment(id, 10n)).toBe(Status.OK);
    expect(m.increment(id, -3n)).toBe(Status.OK);
    expect(m.increment(id, 0n)).toBe(Status.OK);
    expect(m.get(id).value).toBe(7n);
    expect(m.record(id, 100n)).toBe(Status.OK);
    expect(m.get(id).value).toBe(100n);
  });

  it('below zero wraps to a large u64, as Envoy stores gauges', async () => {
    const m = await setup();
    const id = m.id(GAUGE, 'g');
    m.increment(id, -1n);
    expect(m.get(id).value).toBe((1n << 64n) - 1n);
  });

  it('one value for every VM: the last record wins', async () => {
    const services = new CallServices();
    const a = await setup(services);
    const b = await setup(services);
    const ga = a.id(GAUGE, 'g');
    const gb = b.id(GAUGE, 'g');
    a.record(ga, 3n);
    b.record(gb, 9n);
    expect(a.get(ga).value).toBe(9n);
  });
});

describe('histograms', () => {
  it('record samples; increment and get are BAD_ARGUMENT', async () => {
    const m = await setup();
    const id = m.id(HISTOGRAM, 'latency');
    expect(m.record(id, 3n)).toBe(Status.OK);
    expect(m.record(id, 70n)).toBe(Status.OK);
    expect(m.increment(id, 1n)).toBe(Status.BAD_ARGUMENT);
    expect(m.get(id)).toEqual({ status: Status.BAD_ARGUMENT, value: null });
    const h = [...m.h.services.metrics.metrics()][0] as Histogram;
    expect(h.count).toBe(2);
    expect(h.sum).toBe(73n);
  });
});

describe('unknown and invalid ids', () => {
  it('Kong’s invalid cases: increment(0, 1), record(0, 1) and get(0) are NOT_FOUND', async () => {
    const m = await setup();
    expect(m.increment(0, 1n)).toBe(Status.NOT_FOUND);
    expect(m.record(0, 1n)).toBe(Status.NOT_FOUND);
    expect(m.get(0)).toEqual({ status: Status.NOT_FOUND, value: null });
  });

  it('never-defined ids of each type', async () => {
    const m = await setup();
    m.id(COUNTER, 'c');
    expect(m.increment(8, 1n)).toBe(Status.NOT_FOUND);
    expect(m.increment(9, 1n)).toBe(Status.NOT_FOUND); // gauge bits
    expect(m.increment(10, 1n)).toBe(Status.BAD_ARGUMENT); // histogram bits: never incrementable
    expect(m.record(10, 1n)).toBe(Status.NOT_FOUND);
    expect(m.get(9).status).toBe(Status.NOT_FOUND);
    expect(m.get(10).status).toBe(Status.BAD_ARGUMENT);
  });

  it('type bits 3: increment and get BAD_ARGUMENT, record NOT_FOUND (the statuses SDKs accept)', async () => {
    const m = await setup();
    expect(m.increment(7, 1n)).toBe(Status.BAD_ARGUMENT);
    expect(m.get(7).status).toBe(Status.BAD_ARGUMENT);
    expect(m.record(7, 1n)).toBe(Status.NOT_FOUND);
  });

  it('an id with the high bit set is looked up unsigned', async () => {
    const m = await setup();
    expect(m.get(-4).status).toBe(Status.NOT_FOUND); // 0xfffffffc: counter bits
  });
});

describe('proxy_get_metric', () => {
  it('returns INVALID_MEMORY_ACCESS for a bad value pointer', async () => {
    const m = await setup();
    const id = m.id(COUNTER, 'c');
    expect(m.h.call('get_to', m.h.plugin.root, id, BAD_PTR)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(m.h.call('get_to', m.h.plugin.root, id, m.h.mem.size - 4)).toBe(Status.INVALID_MEMORY_ACCESS);
  });

  it('writes a little-endian u64 at an unaligned address', async () => {
    const m = await setup();
    const id = m.id(COUNTER, 'c');
    m.record(id, 0x0102_0304_0506_0708n);
    expect(m.h.call('get_to', m.h.plugin.root, id, SCRATCH + 3)).toBe(Status.OK);
    expect(m.h.mem.bytes(SCRATCH + 3, 8)).toEqual(Buffer.from([8, 7, 6, 5, 4, 3, 2, 1]));
  });

  it('counters read through the registry object too', async () => {
    const m = await setup();
    m.increment(m.id(COUNTER, 'seen'), 4n);
    expect(([...m.h.services.metrics.metrics()][0] as Counter).value).toBe(4n);
  });
});
