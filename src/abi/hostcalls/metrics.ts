// proxy_define_metric / increment / record / get. Values live in the proxy's MetricsRegistry
// (reached through PluginServices); ids are per VM, so the id table lives with this VM's imports.
// The two i64 parameters arrive as BigInt: increment's delta is signed, record's value unsigned.

import { detachedMetric, MAX_METRIC_NAME_CHARS, MetricIds, type Metric, type MetricKind } from '../metrics.ts';
import { quoted } from '../quoted.ts';
import { ThrottledWarnings } from '../throttled-warning.ts';
import { MetricType, Status } from '../types.ts';
import type { Vm } from '../vm.ts';
import { enter } from './util.ts';

/** JS imports are not type-checked: a module declaring an i32 here would pass a Number. */
function toBigInt(value: bigint | number): bigint {
  return typeof value === 'bigint' ? value : BigInt(Math.trunc(Number(value) || 0));
}

export function metricsImports(vm: Vm) {
  const mem = vm.memory;
  const ids = new MetricIds();
  const warnings = new ThrottledWarnings();
  /**
   * What defines the registry does not take share, one metric per type: they are not exported,
   * and a metric each would let a filter that keeps defining new names grow this VM without end.
   */
  const unexported = new Map<MetricKind, Metric>();

  function proxy_define_metric(metricType: number, namePtr: number, nameSize: number, idPtr: number): number {
    const ctx = enter(vm);
    const type = metricType >>> 0;
    if (type > MetricType.HISTOGRAM) return Status.BAD_ARGUMENT;
    const name = mem.utf8(namePtr, nameSize);
    if (name === null || !mem.inBounds(idPtr, 4)) return Status.INVALID_MEMORY_ACCESS;
    // No plugin is known while the VM starts (Envoy traps on this call there).
    if (ctx === null) return Status.BAD_ARGUMENT;
    const kind = type as MetricKind;
    const tooLong = name.length > MAX_METRIC_NAME_CHARS;
    let metric = tooLong ? null : ctx.plugin.services.metrics.define(kind, name);
    if (metric === null) {
      // The filter keeps working (Rust SDKs panic on any non-OK define); the metric is not exported.
      const why = tooLong ? `filter metric name over ${MAX_METRIC_NAME_CHARS} characters; not exported` : 'too many filter metrics; new ones are not exported';
      warnings.warn(why, ctx.logger, { metric: quoted(name) });
      metric = unexported.get(kind) ?? null;
      if (metric === null) unexported.set(kind, (metric = detachedMetric(kind, '(not exported)')));
    }
    mem.writeU32(idPtr, ids.bind(metric));
    return Status.OK;
  }

  function proxy_increment_metric(metricId: number, delta: bigint | number): number {
    enter(vm);
    return ids.increment(metricId >>> 0, BigInt.asIntN(64, toBigInt(delta)));
  }

  function proxy_record_metric(metricId: number, value: bigint | number): number {
    enter(vm);
    return ids.record(metricId >>> 0, BigInt.asUintN(64, toBigInt(value)));
  }

  function proxy_get_metric(metricId: number, valuePtr: number): number {
    enter(vm);
    const { status, value } = ids.get(metricId >>> 0);
    if (status !== Status.OK) return status;
    return mem.writeU64(valuePtr, value) ? Status.OK : Status.INVALID_MEMORY_ACCESS;
  }

  return { proxy_define_metric, proxy_increment_metric, proxy_record_metric, proxy_get_metric };
}
