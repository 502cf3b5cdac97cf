// Metrics filters define with proxy_define_metric. One registry per proxy holds the values,
// keyed by (name, type) and shared by every VM and plugin, like Envoy's stats store; each VM
// knows them by its own ids (MetricIds). Values are u64 as in Envoy: arithmetic wraps mod 2^64.
// The interface is synchronous on purpose: a later worker-thread version keeps the same shape.

import { MetricType, Status } from './types.ts';

export type MetricKind = (typeof MetricType)[keyof typeof MetricType];

/**
 * Upper bounds of histogram buckets: Envoy's default bucket set. The unit is whatever the filter
 * records (Envoy's defaults assume milliseconds); above the last bound only +Inf counts.
 */
export const HISTOGRAM_BUCKETS: readonly number[] = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
];

/** Distinct (name, type) pairs a proxy accepts; names often carry client input (header values). */
export const MAX_FILTER_METRICS = 10_000;

const u64 = (value: bigint): bigint => BigInt.asUintN(64, value);

export class Counter {
  readonly type = MetricType.COUNTER;
  readonly name: string;
  value = 0n;
  constructor(name: string) {
    this.name = name;
  }
  add(amount: bigint): void {
    this.value = u64(this.value + amount);
  }
}

export class Gauge {
  readonly type = MetricType.GAUGE;
  readonly name: string;
  value = 0n;
  constructor(name: string) {
    this.name = name;
  }
  /** Adds a signed delta; going below zero wraps, as Envoy's u64 gauges do. */
  add(delta: bigint): void {
    this.value = u64(this.value + delta);
  }
  set(value: bigint): void {
    this.value = u64(value);
  }
}

export class Histogram {
  readonly type = MetricType.HISTOGRAM;
  readonly name: string;
  /** Samples per bucket (not cumulative); the extra last slot counts samples above every bound. */
  readonly counts: number[] = new Array<number>(HISTOGRAM_BUCKETS.length + 1).fill(0);
  count = 0;
  sum = 0n;
  constructor(name: string) {
    this.name = name;
  }
  record(sample: bigint): void {
    const v = Number(sample);
    let i = 0;
    while (i < HISTOGRAM_BUCKETS.length && v > HISTOGRAM_BUCKETS[i]!) i++;
    this.counts[i]!++;
    this.count++;
    this.sum += sample;
  }
}

export type Metric = Counter | Gauge | Histogram;

function createMetric(type: MetricKind, name: string): Metric {
  if (type === MetricType.COUNTER) return new Counter(name);
  if (type === MetricType.GAUGE) return new Gauge(name);
  return new Histogram(name);
}

/** Every metric filters defined in one proxy, in definition order. */
export class MetricsRegistry {
  readonly #byKey = new Map<string, Metric>();
  readonly #limit: number;

  constructor(limit = MAX_FILTER_METRICS) {
    this.#limit = limit;
  }

  /** Finds or creates the metric; null when it is new and the registry is full. */
  define(type: MetricKind, name: string): Metric | null {
    const key = `${type}\0${name}`;
    const existing = this.#byKey.get(key);
    if (existing !== undefined) return existing;
    if (this.#byKey.size >= this.#limit) return null;
    const metric = createMetric(type, name);
    this.#byKey.set(key, metric);
    return metric;
  }

  get size(): number {
    return this.#byKey.size;
  }

  metrics(): IterableIterator<Metric> {
    return this.#byKey.values();
  }
}

const TYPE_MASK = 3;
const ID_STEP = 4;

/**
 * The metric ids of one VM, with Envoy's rules: every define hands out a new id (even for a
 * name already defined) whose low two bits are the type, so counters are 4, 8, ...,
 * gauges 5, 9, ... and histograms 6, 10, ...; id 0 is never valid.
 */
export class MetricIds {
  readonly #metrics = new Map<number, Metric>();
  readonly #next = [ID_STEP + MetricType.COUNTER, ID_STEP + MetricType.GAUGE, ID_STEP + MetricType.HISTOGRAM];

  /** Binds a new id to `metric`; `metric` may also be a detached one when the registry is full. */
  bind(metric: Metric): number {
    const id = this.#next[metric.type]!;
    this.#next[metric.type] = (id + ID_STEP) >>> 0;
    this.#metrics.set(id, metric);
    return id;
  }

  /** Counter: delta > 0 only; gauge: signed add; histogram or type bits 3: BAD_ARGUMENT. */
  increment(id: number, delta: bigint): Status {
    const type = id & TYPE_MASK;
    if (type !== MetricType.COUNTER && type !== MetricType.GAUGE) return Status.BAD_ARGUMENT;
    const metric = this.#metrics.get(id);
    if (metric === undefined) return Status.NOT_FOUND;
    if (metric.type === MetricType.COUNTER) {
      if (delta <= 0n) return Status.BAD_ARGUMENT;
      metric.add(delta);
    } else {
      (metric as Gauge).add(delta);
    }
    return Status.OK;
  }

  /** Counter: adds; gauge: sets; histogram: records a sample. Unknown ids: NOT_FOUND. */
  record(id: number, value: bigint): Status {
    const metric = this.#metrics.get(id);
    if (metric === undefined) return Status.NOT_FOUND;
    if (metric.type === MetricType.COUNTER) metric.add(value);
    else if (metric.type === MetricType.GAUGE) metric.set(value);
    else metric.record(value);
    return Status.OK;
  }

  /** The value of a counter or gauge; histograms (and type bits 3) have none: BAD_ARGUMENT. */
  get(id: number): { status: Status; value: bigint } {
    const type = id & TYPE_MASK;
    if (type !== MetricType.COUNTER && type !== MetricType.GAUGE) return { status: Status.BAD_ARGUMENT, value: 0n };
    const metric = this.#metrics.get(id) as Counter | Gauge | undefined;
    if (metric === undefined) return { status: Status.NOT_FOUND, value: 0n };
    return { status: Status.OK, value: metric.value };
  }
}

/** A metric not in any registry: what a define gets when the registry is full (never rendered). */
export function detachedMetric(type: MetricKind, name: string): Metric {
  return createMetric(type, name);
}
