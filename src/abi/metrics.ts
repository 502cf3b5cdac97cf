// Metrics filters define with proxy_define_metric. One registry per proxy holds the values,
// keyed by (name, type) and shared by every VM and plugin, like Envoy's stats store; each VM
// knows them by its own ids (MetricIds). Values are u64 as in Envoy: arithmetic wraps mod 2^64.
// Values live in SharedArrayBuffer slots so worker threads share them (see MetricStorage).

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
/** Longest metric name (characters) a filter may define; a longer one is not exported. */
export const MAX_METRIC_NAME_CHARS = 1024;
/**
 * Ids one VM hands out freely. Envoy gives a new id for every define, so a filter that defines
 * its metrics on every request would grow the table for ever; past this many ids, a metric
 * defined again gets the id it got last.
 */
export const MAX_METRIC_IDS = 100_000;

const u64 = (value: bigint): bigint => BigInt.asUintN(64, value);
const i64 = (value: bigint): bigint => BigInt.asIntN(64, value);

/** 64-bit slots per metric type: one value, or the buckets (+ overflow), the count and the sum. */
const HISTOGRAM_SLOTS = HISTOGRAM_BUCKETS.length + 3;
export function slotsFor(type: MetricKind): number {
  return type === MetricType.HISTOGRAM ? HISTOGRAM_SLOTS : 1;
}

/** Slots for every filter metric, enough for MAX_FILTER_METRICS histograms. */
const DEFAULT_STORAGE_SLOTS = MAX_FILTER_METRICS * HISTOGRAM_SLOTS;

/**
 * Where metric values live: 64-bit slots in a SharedArrayBuffer, updated with Atomics, so the
 * supervisor and every worker thread read and write the same values without messages. Only
 * the owner of a storage allocates slots (workers ask the supervisor, see src/supervisor).
 */
export class MetricStorage {
  readonly buffer: SharedArrayBuffer;
  readonly slots: BigInt64Array;
  #next = 0;

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(DEFAULT_STORAGE_SLOTS * 8)) {
    this.buffer = buffer;
    this.slots = new BigInt64Array(buffer);
  }

  /** The first of `count` fresh slots, or null when the storage is full. */
  allocate(count: number): number | null {
    if (this.#next + count > this.slots.length) return null;
    const offset = this.#next;
    this.#next += count;
    return offset;
  }
}

abstract class MetricBase {
  readonly name: string;
  /** First slot of this metric in `slots`. */
  readonly offset: number;
  protected readonly slots: BigInt64Array;

  constructor(name: string, storage: MetricStorage, offset: number) {
    this.name = name;
    this.slots = storage.slots;
    this.offset = offset;
  }
}

/** Storage for a metric that lives on its own (tests, or a define past the registry's cap). */
function privateStorage(type: MetricKind): MetricStorage {
  return new MetricStorage(new SharedArrayBuffer(slotsFor(type) * 8));
}

export class Counter extends MetricBase {
  readonly type = MetricType.COUNTER;
  constructor(name: string, storage = privateStorage(MetricType.COUNTER), offset = 0) {
    super(name, storage, offset);
  }
  get value(): bigint {
    return u64(Atomics.load(this.slots, this.offset));
  }
  add(amount: bigint): void {
    Atomics.add(this.slots, this.offset, i64(amount));
  }
}

export class Gauge extends MetricBase {
  readonly type = MetricType.GAUGE;
  constructor(name: string, storage = privateStorage(MetricType.GAUGE), offset = 0) {
    super(name, storage, offset);
  }
  get value(): bigint {
    return u64(Atomics.load(this.slots, this.offset));
  }
  /** Adds a signed delta; going below zero wraps, as Envoy's u64 gauges do. */
  add(delta: bigint): void {
    Atomics.add(this.slots, this.offset, i64(delta));
  }
  set(value: bigint): void {
    Atomics.store(this.slots, this.offset, i64(value));
  }
}

export class Histogram extends MetricBase {
  readonly type = MetricType.HISTOGRAM;
  constructor(name: string, storage = privateStorage(MetricType.HISTOGRAM), offset = 0) {
    super(name, storage, offset);
  }
  /** Samples per bucket (not cumulative); the extra last entry counts samples above every bound. */
  get counts(): number[] {
    const out = new Array<number>(HISTOGRAM_BUCKETS.length + 1);
    for (let i = 0; i <= HISTOGRAM_BUCKETS.length; i++) out[i] = Number(Atomics.load(this.slots, this.offset + i));
    return out;
  }
  get count(): number {
    return Number(Atomics.load(this.slots, this.offset + HISTOGRAM_BUCKETS.length + 1));
  }
  get sum(): bigint {
    return u64(Atomics.load(this.slots, this.offset + HISTOGRAM_BUCKETS.length + 2));
  }
  record(sample: bigint): void {
    const v = Number(sample);
    let i = 0;
    while (i < HISTOGRAM_BUCKETS.length && v > HISTOGRAM_BUCKETS[i]!) i++;
    Atomics.add(this.slots, this.offset + i, 1n);
    Atomics.add(this.slots, this.offset + HISTOGRAM_BUCKETS.length + 1, 1n);
    Atomics.add(this.slots, this.offset + HISTOGRAM_BUCKETS.length + 2, i64(sample));
  }
}

export type Metric = Counter | Gauge | Histogram;

function createMetric(type: MetricKind, name: string, storage?: MetricStorage, offset?: number): Metric {
  if (type === MetricType.COUNTER) return new Counter(name, storage, offset);
  if (type === MetricType.GAUGE) return new Gauge(name, storage, offset);
  return new Histogram(name, storage, offset);
}

/**
 * Asks the owner of the storage for a metric's slots (a worker asking its supervisor); null when
 * the owner's registry is full.
 */
export type RemoteDefine = (type: MetricKind, name: string) => number | null;

export interface MetricsRegistryOptions {
  limit?: number;
  storage?: MetricStorage;
  /** Set in workers: slots come from the supervisor's registry, which alone renders them. */
  remoteDefine?: RemoteDefine;
}

/** Every metric filters defined in one proxy, in definition order. */
export class MetricsRegistry {
  readonly #byKey = new Map<string, Metric>();
  readonly #limit: number;
  readonly storage: MetricStorage;
  readonly #remoteDefine: RemoteDefine | undefined;

  constructor(options: number | MetricsRegistryOptions = {}) {
    const o = typeof options === 'number' ? { limit: options } : options;
    this.#limit = o.limit ?? MAX_FILTER_METRICS;
    this.storage = o.storage ?? new MetricStorage();
    this.#remoteDefine = o.remoteDefine;
  }

  /** Finds or creates the metric; null when it is new and the registry (or storage) is full. */
  define(type: MetricKind, name: string): Metric | null {
    const key = `${type}\0${name}`;
    const existing = this.#byKey.get(key);
    if (existing !== undefined) return existing;
    let offset: number | null;
    if (this.#remoteDefine !== undefined) {
      offset = this.#remoteDefine(type, name);
    } else {
      offset = this.#byKey.size >= this.#limit ? null : this.storage.allocate(slotsFor(type));
    }
    if (offset === null) return null;
    const metric = createMetric(type, name, this.storage, offset);
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
  readonly #lastIdOf = new Map<Metric, number>();
  readonly #next = [ID_STEP + MetricType.COUNTER, ID_STEP + MetricType.GAUGE, ID_STEP + MetricType.HISTOGRAM];
  readonly #maxIds: number;

  constructor(maxIds = MAX_METRIC_IDS) {
    this.#maxIds = maxIds;
  }

  /**
   * Binds a new id to `metric` (a detached one too, when the registry is full); past maxIds, a
   * metric bound before gets its last id again.
   */
  bind(metric: Metric): number {
    if (this.#metrics.size >= this.#maxIds) {
      const last = this.#lastIdOf.get(metric);
      if (last !== undefined) return last;
    }
    const id = this.#next[metric.type]!;
    this.#next[metric.type] = (id + ID_STEP) >>> 0;
    this.#metrics.set(id, metric);
    this.#lastIdOf.set(metric, id);
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
