// The workers' own metrics as the admin port shows them. Each worker counts in its own heap, and
// a worker that ends (retired by a reload, crashed, replaced while stuck) takes its counts with
// it. So the series of one worker slot, `worker="i"`, are what every worker that served the slot
// counted: the last counts of the ended ones plus the counts of the live ones (the serving worker,
// and after a reload the one still finishing its requests). Counters and histograms only grow
// across reloads and restarts, as Envoy keeps its stats across a hot restart; gauges are the live
// workers' sum.

/** One metric family of a worker's text: its HELP/TYPE lines and its samples, series → value. */
interface Family {
  header: string[];
  type: string;
  samples: Map<string, number>;
}

type Families = Map<string, Family>;

/** Kinds whose samples count from the start: an ended worker's stay in its slot's series. */
const CUMULATIVE = new Set(['counter', 'histogram']);

/** A worker's Prometheus text as families; a sample belongs to the family whose header it follows. */
function parse(text: string): Families {
  const families: Families = new Map();
  let current: Family | undefined;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta !== null) {
      const name = meta[2]!;
      current = families.get(name);
      if (current === undefined) families.set(name, (current = { header: [], type: 'untyped', samples: new Map() }));
      if (meta[1] === 'TYPE') current.type = meta[3]!;
      if (!current.header.some((h) => h.startsWith(`# ${meta[1]} `))) current.header.push(line);
      continue;
    }
    if (line.startsWith('#')) continue;
    if (current === undefined) families.set('', (current = { header: [], type: 'untyped', samples: new Map() }));
    const space = line.lastIndexOf(' ');
    const series = line.slice(0, space);
    current.samples.set(series, (current.samples.get(series) ?? 0) + Number(line.slice(space + 1)));
  }
  return families;
}

/** Adds `from`'s samples into `into` (only counters and histograms when `cumulativeOnly`). */
function add(into: Families, from: Families, cumulativeOnly: boolean): void {
  for (const [name, family] of from) {
    if (cumulativeOnly && !CUMULATIVE.has(family.type)) continue;
    let target = into.get(name);
    if (target === undefined) into.set(name, (target = { header: [...family.header], type: family.type, samples: new Map() }));
    for (const [series, value] of family.samples) target.samples.set(series, (target.samples.get(series) ?? 0) + value);
  }
}

function render(families: Families): string {
  const out: string[] = [];
  for (const { header, samples } of families.values()) {
    out.push(...header);
    for (const [series, value] of samples) out.push(`${series} ${value}`);
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

/** The counts of ended workers, by slot, and the series each slot shows. */
export class SlotMetrics {
  readonly #ended = new Map<number, Families>();

  /** A worker of slot `index` ended; `lastText` is the last it reported (its counts at the end, when it drained). */
  ended(index: number, lastText: string): void {
    if (lastText === '') return; // it never reported (a start that failed)
    let families = this.#ended.get(index);
    if (families === undefined) this.#ended.set(index, (families = new Map()));
    add(families, parse(lastText), true);
  }

  /** Slots whose ended workers counted something: shown even when no worker serves them now. */
  slots(): IterableIterator<number> {
    return this.#ended.keys();
  }

  /** Slot `index`'s series, labelled `worker="index"`: its live workers' texts summed, plus what its ended workers counted. */
  render(index: number, liveTexts: readonly string[]): string {
    const families: Families = new Map();
    const ended = this.#ended.get(index);
    // Live texts first: a slot's families keep the order a worker writes them in.
    for (const text of liveTexts) add(families, parse(text), false);
    if (ended !== undefined) add(families, ended, false);
    return withWorkerLabel(render(families), index);
  }
}

/** Adds `worker="i"` to every sample of a worker's Prometheus text. */
export function withWorkerLabel(text: string, index: number): string {
  return text
    .split('\n')
    .map((line) => {
      if (line === '' || line.startsWith('#')) return line;
      const brace = line.indexOf('{');
      const space = line.indexOf(' ');
      if (brace !== -1 && brace < space) return `${line.slice(0, brace + 1)}worker="${index}",${line.slice(brace + 1)}`;
      return `${line.slice(0, space)}{worker="${index}"}${line.slice(space)}`;
    })
    .join('\n');
}

/** Concatenates several texts, keeping one HELP/TYPE header per metric family. */
export function mergeFamilies(texts: readonly string[]): string {
  const families = new Map<string, { header: string[]; samples: string[] }>();
  for (const text of texts) {
    let current: { header: string[]; samples: string[] } | undefined;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const meta = /^# (HELP|TYPE) (\S+)/.exec(line);
      if (meta !== null) {
        const name = meta[2]!;
        current = families.get(name);
        if (current === undefined) families.set(name, (current = { header: [], samples: [] }));
        if (!current.header.some((h) => h.startsWith(`# ${meta[1]} `))) current.header.push(line);
        continue;
      }
      if (current === undefined) families.set('', (current = { header: [], samples: [] }));
      current.samples.push(line);
    }
  }
  const out: string[] = [];
  for (const { header, samples } of families.values()) out.push(...header, ...samples);
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}
