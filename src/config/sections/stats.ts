// `stats:` — how metric names defined by filters become Prometheus names and labels. Each tag
// rule works like Envoy's `stats_tags`: the regex's first capture group is cut out of the name
// and its second capture group (the first, if it has only one) becomes the value of the label
// `tag_name`. See src/admin/stats-tags.ts.

import type { Field, Reader } from '../reader.ts';
import type { StatsConfig, StatsTagRule } from '../types.ts';

const STATS_SHAPE = { keys: ['tags'] };
const TAG_SHAPE = { keys: ['tag_name', 'regex'], required: ['tag_name', 'regex'] };
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function readStats(r: Reader, field: Field): StatsConfig | undefined {
  const entry = r.map(field, STATS_SHAPE);
  if (!entry) return undefined;
  const tags = entry.readOr('tags', (f) => r.list(f)?.flatMap((item) => readTag(r, item) ?? []), []);
  return { tags };
}

function readTag(r: Reader, field: Field): StatsTagRule | undefined {
  const entry = r.map(field, TAG_SHAPE);
  if (!entry) return undefined;
  const tagName = entry.read('tag_name', (f) => {
    const name = r.nonEmptyString(f);
    if (name !== undefined && !LABEL_NAME.test(name)) r.report(f, 'must be a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)');
    return name;
  });
  const regex = entry.read('regex', (f) => {
    const source = r.nonEmptyString(f);
    if (source === undefined) return undefined;
    try {
      const compiled = new RegExp(source);
      if (new RegExp(`${source}|`).exec('')!.length < 2) {
        r.report(f, 'needs at least one capture group (the part to cut out of the metric name)');
        return undefined;
      }
      return compiled;
    } catch (error) {
      r.report(f, `invalid regular expression: ${(error as Error).message}`);
      return undefined;
    }
  });
  return tagName === undefined || regex === undefined ? undefined : { tagName, regex };
}
