// Envoy's `stats_tags` for filter metric names. Every rule is searched in the ORIGINAL name (not
// in what earlier rules left); on a match its first capture group is cut out of the name and its
// second group (the first when there is only one) is the label value. The cuts are applied
// together at the end. When two rules share a tag name, only the first that matches counts.
// Labels keep the order of the rules. (Envoy: TagProducerImpl::produceTags, TagExtractorStdRegexImpl.)

import type { StatsTagRule } from '../config/types.ts';

export interface TaggedName {
  /** The name with every matched first group removed (not yet sanitised). */
  name: string;
  labels: Array<[name: string, value: string]>;
}

// The configured regexes are compiled without the `d` flag; match indices need it.
const withIndices = new WeakMap<RegExp, RegExp>();

function indexed(regex: RegExp): RegExp {
  let r = withIndices.get(regex);
  if (r === undefined) {
    r = new RegExp(regex.source, regex.flags.replace(/[gyd]/g, '') + 'd');
    withIndices.set(regex, r);
  }
  return r;
}

export function extractTags(name: string, rules: readonly StatsTagRule[]): TaggedName {
  const labels: Array<[string, string]> = [];
  const cuts: Array<[start: number, end: number]> = [];
  for (const rule of rules) {
    if (labels.some(([tag]) => tag === rule.tagName)) continue;
    const match = indexed(rule.regex).exec(name);
    const cut = match?.indices?.[1];
    if (match === null || cut === undefined) continue;
    const value = match.length > 2 ? (match[2] ?? '') : match[1]!;
    labels.push([rule.tagName, value]);
    cuts.push(cut);
  }
  return { name: cuts.length === 0 ? name : removeRanges(name, cuts), labels };
}

/** `name` without the characters covered by any of the (possibly overlapping) ranges. */
function removeRanges(name: string, ranges: Array<[number, number]>): string {
  ranges.sort((a, b) => a[0] - b[0]);
  let out = '';
  let at = 0;
  for (const [start, end] of ranges) {
    if (start > at) out += name.slice(at, start);
    at = Math.max(at, end);
  }
  return out + name.slice(at);
}

/**
 * A valid Prometheus metric name: every character outside [a-zA-Z0-9_] becomes `_` (Envoy's
 * rule; ':' is left to recording rules), and a leading digit or an empty name gets a `_` first.
 */
export function sanitizeMetricName(name: string): string {
  const clean = name.replace(/[^a-zA-Z0-9_]/gu, '_');
  return clean === '' || (clean[0]! >= '0' && clean[0]! <= '9') ? `_${clean}` : clean;
}
