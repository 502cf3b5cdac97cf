// Reads typed values out of a YAML document while recording, for each value
// that is missing or of the wrong shape, an issue positioned at its source.
// Getters return undefined after reporting, so callers simply skip the value
// and keep validating the rest: every problem gets reported in one pass.

import { isAlias, isMap, isNode, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import { ValueError, type ConfigIssue } from './errors.ts';
import type { SourceLocation } from './types.ts';

/** A value in the document, with its key path and the offset issues about it point at. */
export interface Field {
  /** Aliases are already followed; null when there is no value at all. */
  readonly node: Node | null;
  readonly path: string;
  readonly offset: number;
}

export interface MapEntry {
  readonly key: string;
  /** The key itself as a value (same path as the value), for reporting at or checking the key. */
  readonly keyField: Field;
  readonly field: Field;
}

/** Which keys a map may hold (in the order error messages list them); anything else is reported as unknown. */
export interface MapShape {
  readonly keys: readonly string[];
  /** A subset of `keys`. */
  readonly required?: readonly string[];
}

/** A map's entries in file order. */
export class MapFields {
  readonly field: Field;
  readonly entries: readonly MapEntry[];

  constructor(field: Field, entries: readonly MapEntry[]) {
    this.field = field;
    this.entries = entries;
  }

  get(key: string): Field | undefined {
    return this.entries.find((entry) => entry.key === key)?.field;
  }

  /** `key`'s value through `read`; undefined when absent (a missing required key is reported by the shape check). */
  read<T>(key: string, read: (field: Field) => T | undefined): T | undefined {
    const field = this.get(key);
    return field ? read(field) : undefined;
  }

  /** Like read(), with `fallback` for an absent key. An invalid value is reported and also falls back. */
  readOr<T>(key: string, read: (field: Field) => T | undefined, fallback: T): T {
    return this.read(key, read) ?? fallback;
  }

  /** The entries among `keys` that are present, in file order (for "only one of" checks). */
  pick(keys: readonly string[]): MapEntry[] {
    return this.entries.filter((entry) => keys.includes(entry.key));
  }
}

export class Reader {
  /** The config file as shown in issues. */
  readonly file: string;
  readonly issues: ConfigIssue[] = [];
  readonly #doc: Document;
  readonly #lines: LineCounter;

  constructor(doc: Document, lines: LineCounter, file: string) {
    this.#doc = doc;
    this.#lines = lines;
    this.file = file;
  }

  /** The document's top-level value. */
  root(): Field {
    const node = this.#resolve(this.#doc.contents);
    return { node, path: '', offset: node?.range?.[0] ?? 0 };
  }

  locate(offset: number): SourceLocation {
    const { line, col } = this.#lines.linePos(offset);
    return { file: this.file, line, col };
  }

  report(field: Field, message: string): void {
    const { file, line, col } = this.locate(field.offset);
    this.issues.push({ file, line, col, path: field.path, message });
  }

  // The one-argument getters are arrow-function fields so they can be handed
  // over unbound, as in `entry.read('name', r.string)`.

  string = (field: Field): string | undefined => {
    const value = scalarValue(field.node);
    if (typeof value === 'string') return value;
    this.expected(field, 'a string');
    return undefined;
  };

  nonEmptyString = (field: Field): string | undefined => {
    const value = this.string(field);
    if (value === '') this.report(field, 'must not be empty');
    return value || undefined;
  };

  number = (field: Field): number | undefined => {
    const value = scalarValue(field.node);
    if (typeof value === 'number' && Number.isFinite(value)) return value;
    this.expected(field, 'a number');
    return undefined;
  };

  boolean = (field: Field): boolean | undefined => {
    const value = scalarValue(field.node);
    if (typeof value === 'boolean') return value;
    this.expected(field, 'true or false');
    return undefined;
  };

  /** One of a fixed set of strings. */
  oneOf<T extends string>(field: Field, allowed: readonly T[]): T | undefined {
    const value = this.string(field);
    if (value === undefined) return undefined;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.report(field, `expected one of ${allowed.join(', ')} (got ${JSON.stringify(value)})`);
    return undefined;
  }

  /** Runs a string parser (see address.ts), turning its ValueError into an issue at this field. */
  parse<T>(field: Field, parser: (raw: string) => T): T | undefined {
    const raw = this.string(field);
    return raw === undefined ? undefined : this.#convert(field, () => parser(raw));
  }

  /** Like parse(), for quantities (see units.ts) that may also be written as plain numbers. */
  parseQuantity<T>(field: Field, parser: (raw: string | number) => T): T | undefined {
    const raw = scalarValue(field.node);
    if (typeof raw === 'string' || typeof raw === 'number') return this.#convert(field, () => parser(raw));
    this.expected(field, 'a string or a number');
    return undefined;
  }

  list = (field: Field): Field[] | undefined => {
    const node = field.node;
    if (!isSeq(node)) {
      this.expected(field, 'a list');
      return undefined;
    }
    const items: Field[] = [];
    node.items.forEach((item, index) => {
      const path = `${field.path}[${index}]`;
      if (isPair(item)) {
        // `[a: b]` is a one-pair map in YAML; almost certainly a typo here.
        this.report({ node: null, path, offset: offsetOf(item.key, field.offset) }, 'expected a list item, got "key: value" (missing braces?)');
        return;
      }
      items.push({ node: this.#resolve(item), path, offset: offsetOf(item, field.offset) });
    });
    return items;
  };

  /**
   * A map. With a shape, unknown keys are reported at the key and missing
   * required keys at the map; without one, any keys are accepted.
   */
  map(field: Field, shape?: MapShape): MapFields | undefined {
    const node = field.node;
    if (!isMap(node)) {
      this.expected(field, 'a map');
      return undefined;
    }
    const entries: MapEntry[] = [];
    for (const pair of node.items) {
      const keyOffset = offsetOf(pair.key, field.offset);
      const key = scalarValue(pair.key);
      if (typeof key !== 'string' && typeof key !== 'number') {
        this.report({ node: null, path: field.path, offset: keyOffset }, 'map keys must be plain strings');
        continue;
      }
      const path = childPath(field.path, String(key));
      entries.push({
        key: String(key),
        keyField: { node: this.#resolve(pair.key), path, offset: keyOffset },
        field: { node: this.#resolve(pair.value), path, offset: valueOffset(pair.value, keyOffset) },
      });
    }
    const fields = new MapFields(field, entries);
    if (shape) this.#checkShape(fields, shape);
    return fields;
  }

  /** The plain JavaScript value (maps as objects), for free-form data. */
  toJS(field: Field): unknown {
    return field.node ? field.node.toJS(this.#doc) : null;
  }

  #convert<T>(field: Field, convert: () => T): T | undefined {
    try {
      return convert();
    } catch (error) {
      if (!(error instanceof ValueError)) throw error;
      this.report(field, error.message);
      return undefined;
    }
  }

  #checkShape(fields: MapFields, { keys, required = [] }: MapShape): void {
    for (const entry of fields.entries) {
      if (keys.includes(entry.key)) continue;
      this.report(entry.keyField, `unknown key "${entry.key}" (allowed: ${keys.join(', ')})`);
    }
    for (const key of required) {
      if (!fields.get(key)) this.report(fields.field, `missing required key "${key}"`);
    }
  }

  /** Reports a value of the wrong type: "expected <what>, got <what it is>". */
  expected(field: Field, what: string): void {
    this.report(field, `expected ${what}, got ${describe(field.node)}`);
  }

  #resolve(node: unknown): Node | null {
    const target = isAlias(node) ? node.resolve(this.#doc) : node;
    return isNode(target) ? target : null;
  }
}

/** Reads every item (so every problem is reported); undefined if any item failed. */
export function readAll<T>(items: Field[] | undefined, read: (item: Field) => T | undefined): T[] | undefined {
  if (!items) return undefined;
  const values = items.map((item) => read(item));
  return values.every((value) => value !== undefined) ? values : undefined;
}

/** Reports, at the key, every key of `keys` after the first one present: at most one may be set. */
export function reportConflicts(r: Reader, entry: MapFields, keys: readonly string[], advice: string): void {
  const [first, ...others] = entry.pick(keys);
  for (const other of others) {
    r.report(other.keyField, `"${other.key}" cannot be combined with "${first?.key}"; ${advice}`);
  }
}

/** `a.b`; keys that aren't identifiers are quoted: `headers["x.y"]`. */
function childPath(parent: string, key: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(key)) return `${parent}[${JSON.stringify(key)}]`;
  return parent ? `${parent}.${key}` : key;
}

function scalarValue(node: unknown): unknown {
  return isScalar(node) ? node.value : undefined;
}

function describe(node: Node | null): string {
  if (isMap(node)) return 'a map';
  if (isSeq(node)) return 'a list';
  const value = scalarValue(node);
  if (value === null || value === undefined) return 'an empty value';
  if (typeof value === 'string') return `a string (${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)})`;
  if (typeof value === 'number') return `a number (${value})`;
  if (typeof value === 'boolean') return `a boolean (${value})`;
  return `a ${typeof value}`;
}

function offsetOf(node: unknown, fallback: number): number {
  return isNode(node) && node.range ? node.range[0] : fallback;
}

/** An empty value (`key:` and nothing else) has no text of its own: point at the key. */
function valueOffset(value: unknown, keyOffset: number): number {
  if (!isNode(value) || !value.range) return keyOffset;
  const [start, end] = value.range;
  return start === end ? keyOffset : start;
}
