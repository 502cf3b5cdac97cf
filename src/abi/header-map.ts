// An ordered multimap of header bytes, the value every header-map host function works on.
// Names are stored lower-cased (as Envoy does) and duplicates keep their order, so Set-Cookie
// and friends survive end to end. Strings are latin1: one char per byte.
//
// The serialized form is cached and reused by every filter until someone modifies the map, so a
// chain of filters that only reads headers serializes them once per request.

import { headerNameFromString } from './header-names.ts';
import { encodePairs, pairsByteLength, type Pair } from './pairs.ts';

export class HeaderMap {
  names: string[];
  values: string[];
  /** Bumped on every modification; lets the stream driver see whether a filter edited the map. */
  version = 0;
  #encoded: Buffer | null = null;

  constructor(names: string[] = [], values: string[] = []) {
    this.names = names;
    this.values = values;
  }

  static fromPairs(pairs: readonly Pair[]): HeaderMap {
    const map = new HeaderMap();
    for (const [name, value] of pairs) map.add(name, value);
    return map;
  }

  get size(): number {
    return this.names.length;
  }

  /** Sum of name and value lengths (what Envoy reports as a header map's byte size). */
  get byteSize(): number {
    let total = 0;
    for (let i = 0; i < this.names.length; i++) total += this.names[i]!.length + this.values[i]!.length;
    return total;
  }

  /** First value of `name` (already lower-cased), or undefined. */
  get(name: string): string | undefined {
    // Array's indexOf: for the proxy's own (literal) names, indexOf below cost more per request (callgrind).
    const i = this.names.indexOf(name);
    return i === -1 ? undefined : this.values[i];
  }

  /**
   * Index of the first entry named `name` (lower-case) at or after `from`, or -1. Most names
   * differ in length, and those never reach a string compare: measured with callgrind,
   * proxy_get_header_map_value costs ~150 instructions less than with Array's indexOf.
   */
  indexOf(name: string, from = 0): number {
    const names = this.names;
    const len = name.length;
    for (let i = from; i < names.length; i++) {
      const candidate = names[i]!;
      if (candidate.length === len && candidate === name) return i;
    }
    return -1;
  }

  /**
   * All values of `name` joined with "," (the header attributes, a route's header match): Envoy
   * builds both with HeaderUtility::getAllOfHeaderAsString, whose separator is a bare comma.
   */
  getJoined(name: string): string | undefined {
    let out: string | undefined;
    for (let i = 0; i < this.names.length; i++) {
      if (this.names[i] === name) out = out === undefined ? this.values[i]! : `${out},${this.values[i]!}`;
    }
    return out;
  }

  /** Index of the first entry whose name has `len` characters, or -1: no other can match a key of that length. */
  firstOfLength(len: number): number {
    const names = this.names;
    for (let i = 0; i < names.length; i++) if (names[i]!.length === len) return i;
    return -1;
  }

  has(name: string): boolean {
    return this.names.includes(name);
  }

  add(name: string, value: string): void {
    this.addLowerCase(headerNameFromString(name), value);
  }

  /** `add` for a name that is already lower-case (the proxy's own: no toLowerCase per request). */
  addLowerCase(name: string, value: string): void {
    this.names.push(name);
    this.values.push(value);
    this.#changed();
  }

  /** Sets `name` to exactly one value: the first entry is overwritten, later ones removed. */
  set(name: string, value: string): void {
    this.setLowerCase(headerNameFromString(name), value);
  }

  /** `set` for a name that is already lower-case. */
  setLowerCase(name: string, value: string): void {
    this.#setAt(this.indexOf(name), name, value);
  }

  /** `set` once the first entry of `key` (lower-case) is known: `first`, or -1 for none. */
  #setAt(first: number, key: string, value: string): void {
    if (first === -1) {
      this.names.push(key);
      this.values.push(value);
    } else {
      this.values[first] = value;
      // Repeated names are rare: look before compacting the whole map.
      if (this.indexOf(key, first + 1) !== -1) this.#removeFrom(key, first + 1);
    }
    this.#changed();
  }

  remove(name: string): void {
    this.removeLowerCase(headerNameFromString(name));
  }

  /** `remove` for a name that is already lower-case. */
  removeLowerCase(key: string): void {
    const first = this.indexOf(key);
    if (first !== -1) this.removeNamedAt(first);
  }

  /** Removes every entry named like entry `index` (which must exist), from `index` on: the first such entry. */
  removeNamedAt(index: number): void {
    this.#removeFrom(this.names[index]!, index);
    this.#changed();
  }

  replaceAll(pairs: readonly Pair[]): void {
    this.names = pairs.map((p) => headerNameFromString(p[0]));
    this.values = pairs.map((p) => p[1]);
    this.#changed();
  }

  pairs(): Pair[] {
    return this.names.map((name, i) => [name, this.values[i]!]);
  }

  /** The serialized pairs, cached until the next modification. Do not mutate the result. */
  encode(): Buffer {
    if (this.#encoded === null) this.#encoded = encodePairs(this.names, this.values);
    return this.#encoded;
  }

  get encodedLength(): number {
    return this.#encoded?.length ?? pairsByteLength(this.names, this.values);
  }

  /** Removes every entry named `key` (lower-case) at or after `start`. */
  #removeFrom(key: string, start: number): void {
    const { names, values } = this;
    const len = key.length;
    let w = start;
    for (let r = start; r < names.length; r++) {
      const name = names[r]!;
      if (name.length === len && name === key) continue;
      names[w] = name;
      values[w] = values[r]!;
      w++;
    }
    // pop, not `length = w`: V8 shrinks an array's length through a runtime call (~600
    // instructions, callgrind), and usually one or two entries go.
    while (names.length > w) {
      names.pop();
      values.pop();
    }
  }

  #changed(): void {
    this.version++;
    this.#encoded = null;
  }
}
