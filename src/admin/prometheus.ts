// Filter metrics in Prometheus text format (0.0.4). Names go through the stats tag rules, then
// are sanitised; no prefix is added (Envoy shows custom Wasm stats bare too). Metrics that end up
// with the same family name and type share one `# TYPE` line; the same family and labels twice
// (two raw names that tag out identically) are summed. A family whose sample names would clash
// with an earlier family of another type (or with the proxy's own) gets `_<type>` appended.

import type { StatsTagRule } from '../config/types.ts';
import { HISTOGRAM_BUCKETS, type Metric, type MetricsRegistry } from '../abi/metrics.ts';
import { MetricType } from '../abi/types.ts';
import { extractTags, sanitizeMetricName, type TaggedName } from './stats-tags.ts';

const TYPE_NAMES = ['counter', 'gauge', 'histogram'] as const;

export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(labels: ReadonlyArray<readonly [string, string]>): string {
  return labels.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',');
}

/** The sample names a family of this type writes. */
function sampleNames(name: string, type: Metric['type']): string[] {
  return type === MetricType.HISTOGRAM ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`] : [name];
}

interface Series {
  labels: Array<[string, string]>;
  value: bigint;
  buckets: number[];
  count: number;
}

interface Family {
  name: string;
  type: Metric['type'];
  series: Map<string, Series>;
}

export class FilterMetricsRenderer {
  readonly #registry: MetricsRegistry;
  readonly #rules: readonly StatsTagRule[];
  /** Tag extraction per raw name; names are few and stable, rules fixed for this renderer. */
  readonly #tagged = new Map<string, TaggedName>();

  constructor(registry: MetricsRegistry, rules: readonly StatsTagRule[]) {
    this.#registry = registry;
    this.#rules = rules;
  }

  /** Lines for every filter metric; `taken` holds sample names already used (it is extended). */
  render(taken: Set<string>): string[] {
    const families = this.#families(taken);
    const out: string[] = [];
    for (const family of [...families.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      out.push(`# TYPE ${family.name} ${TYPE_NAMES[family.type]}`);
      for (const s of family.series.values()) {
        if (family.type !== MetricType.HISTOGRAM) {
          out.push(s.labels.length === 0 ? `${family.name} ${s.value}` : `${family.name}{${labelText(s.labels)}} ${s.value}`);
          continue;
        }
        // `le` is the bucket label; a tag with that name cannot be shown on a histogram.
        const l = labelText(s.labels.filter(([k]) => k !== 'le'));
        const prefix = l === '' ? '' : `${l},`;
        let cumulative = 0;
        HISTOGRAM_BUCKETS.forEach((le, i) => {
          cumulative += s.buckets[i]!;
          out.push(`${family.name}_bucket{${prefix}le="${le}"} ${cumulative}`);
        });
        out.push(`${family.name}_bucket{${prefix}le="+Inf"} ${s.count}`);
        const braces = l === '' ? '' : `{${l}}`;
        out.push(`${family.name}_sum${braces} ${s.value}`);
        out.push(`${family.name}_count${braces} ${s.count}`);
      }
    }
    return out;
  }

  #families(taken: Set<string>): Map<string, Family> {
    const families = new Map<string, Family>();
    for (const metric of this.#registry.metrics()) {
      const tagged = this.#tag(metric.name);
      const base = sanitizeMetricName(tagged.name);
      const key = `${metric.type}\0${base}`;
      let family = families.get(key);
      if (family === undefined) {
        let name = base;
        while (sampleNames(name, metric.type).some((n) => taken.has(n))) name = `${name}_${TYPE_NAMES[metric.type]}`;
        for (const n of sampleNames(name, metric.type)) taken.add(n);
        family = { name, type: metric.type, series: new Map() };
        families.set(key, family);
      }
      const labelKey = labelText(tagged.labels);
      let series = family.series.get(labelKey);
      if (series === undefined) {
        series = { labels: tagged.labels, value: 0n, buckets: new Array<number>(HISTOGRAM_BUCKETS.length).fill(0), count: 0 };
        family.series.set(labelKey, series);
      }
      if (metric.type === MetricType.HISTOGRAM) {
        for (let i = 0; i < HISTOGRAM_BUCKETS.length; i++) series.buckets[i]! += metric.counts[i]!;
        series.count += metric.count;
        series.value += metric.sum;
      } else {
        series.value += metric.value;
      }
    }
    return families;
  }

  #tag(name: string): TaggedName {
    let tagged = this.#tagged.get(name);
    if (tagged === undefined) {
      tagged = extractTags(name, this.#rules);
      this.#tagged.set(name, tagged);
    }
    return tagged;
  }
}
