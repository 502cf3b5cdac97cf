// A strict reader for the Prometheus text exposition format (0.0.4), for tests: it throws on
// anything a Prometheus server would reject (bad names, bad escapes, a second TYPE line, a family
// split in two groups, duplicate series, a TYPE after its samples, histogram buckets without
// `le`, non-cumulative buckets, +Inf bucket != count) and returns the parsed families.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  /** The value as written (exact for large integers). */
  raw: string;
}

export interface Family {
  name: string;
  type: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Record<string, string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['_sum', '_count'] };

function fail(lineNo: number, line: string, why: string): never {
  throw new Error(`line ${lineNo}: ${why}: ${JSON.stringify(line)}`);
}

function parseValue(raw: string, lineNo: number, line: string): number {
  if (raw === '+Inf') return Infinity;
  if (raw === '-Inf') return -Infinity;
  if (raw === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) fail(lineNo, line, `bad value '${raw}'`);
  return Number(raw);
}

/** Parses `{a="x",b="y"}` starting at `text[0] === '{'`; returns labels and the rest. */
function parseLabels(text: string, lineNo: number, line: string): [Record<string, string>, string] {
  const labels: Record<string, string> = {};
  let i = 1;
  for (;;) {
    if (text[i] === '}') return [labels, text.slice(i + 1)];
    const eq = text.indexOf('=', i);
    if (eq < 0) fail(lineNo, line, 'label without =');
    const name = text.slice(i, eq);
    if (!LABEL_NAME.test(name)) fail(lineNo, line, `bad label name '${name}'`);
    if (name in labels) fail(lineNo, line, `duplicate label '${name}'`);
    if (text[eq + 1] !== '"') fail(lineNo, line, 'label value not quoted');
    let value = '';
    let j = eq + 2;
    for (;;) {
      const c = text[j];
      if (c === undefined || c === '\n') fail(lineNo, line, 'unterminated label value');
      if (c === '"') break;
      if (c === '\\') {
        const n = text[j + 1];
        if (n === '\\') value += '\\';
        else if (n === '"') value += '"';
        else if (n === 'n') value += '\n';
        else fail(lineNo, line, `bad escape \\${n}`);
        j += 2;
        continue;
      }
      value += c;
      j++;
    }
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') fail(lineNo, line, 'expected , or } after a label');
  }
}

export function parsePrometheus(text: string): Map<string, Family> {
  if (text !== '' && !text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const families = new Map<string, Family>();
  const typed = new Map<string, string>();
  const closed = new Set<string>();
  const series = new Set<string>();
  const sampled = new Set<string>();
  let current: string | null = null;

  const familyOf = (sample: string): string => {
    for (const [name, type] of typed) {
      if (sample === name) return name;
      for (const suffix of SUFFIXES[type] ?? []) if (sample === name + suffix) return name;
    }
    return sample;
  };
  const enter = (family: string, lineNo: number, line: string): Family => {
    if (current !== family) {
      if (closed.has(family)) fail(lineNo, line, `family '${family}' appears in two groups`);
      if (current !== null) closed.add(current);
      current = family;
    }
    let f = families.get(family);
    if (f === undefined) families.set(family, (f = { name: family, type: typed.get(family) ?? 'untyped', samples: [] }));
    return f;
  };

  text.split('\n').forEach((line, index) => {
    const lineNo = index + 1;
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (m === null) return; // a plain comment
      const [, kind, name, rest] = m;
      if (!METRIC_NAME.test(name!)) fail(lineNo, line, 'bad metric name');
      if (kind === 'TYPE') {
        if (!TYPES.has(rest ?? '')) fail(lineNo, line, 'unknown type');
        if (typed.has(name!)) fail(lineNo, line, 'second TYPE line');
        if (sampled.has(name!)) fail(lineNo, line, 'TYPE after samples');
        typed.set(name!, rest!);
      }
      enter(name!, lineNo, line).type = typed.get(name!) ?? 'untyped';
      return;
    }
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd <= 0) fail(lineNo, line, 'no metric name');
    const name = line.slice(0, nameEnd);
    if (!METRIC_NAME.test(name)) fail(lineNo, line, 'bad metric name');
    let labels: Record<string, string> = {};
    let rest = line.slice(nameEnd);
    if (rest.startsWith('{')) [labels, rest] = parseLabels(rest, lineNo, line);
    const parts = rest.split(' ');
    if (parts[0] !== '' || parts.length < 2 || parts.length > 3) fail(lineNo, line, 'expected " value [timestamp]"');
    const raw = parts[1]!;
    const value = parseValue(raw, lineNo, line);
    if (parts.length === 3 && !/^-?\d+$/.test(parts[2]!)) fail(lineNo, line, 'bad timestamp');
    const key = `${name}{${Object.entries(labels).sort().map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
    if (series.has(key)) fail(lineNo, line, 'duplicate series');
    series.add(key);
    const family = enter(familyOf(name), lineNo, line);
    sampled.add(family.name);
    if (family.type === 'histogram' && name.endsWith('_bucket') && !('le' in labels)) fail(lineNo, line, 'bucket without le');
    family.samples.push({ name, labels, value, raw });
  });

  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

function checkHistogram(family: Family): void {
  const groups = new Map<string, { buckets: Array<[number, number]>; count?: number }>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { buckets: [] }));
    if (s.name === `${family.name}_bucket`) g.buckets.push([le === '+Inf' ? Infinity : Number(le), s.value]);
    if (s.name === `${family.name}_count`) g.count = s.value;
  }
  for (const [key, g] of groups) {
    const where = `histogram ${family.name} ${key}`;
    if (g.buckets.length === 0 || g.buckets.at(-1)![0] !== Infinity) throw new Error(`${where}: no +Inf bucket last`);
    for (let i = 1; i < g.buckets.length; i++) {
      if (!(g.buckets[i]![0] > g.buckets[i - 1]![0])) throw new Error(`${where}: le not increasing`);
      if (g.buckets[i]![1] < g.buckets[i - 1]![1]) throw new Error(`${where}: buckets not cumulative`);
    }
    if (g.count !== g.buckets.at(-1)![1]) throw new Error(`${where}: +Inf bucket != count`);
  }
}
