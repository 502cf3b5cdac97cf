// Names the config declares (clusters, filters, listeners, routes, addresses)
// and the references to them. Duplicates are reported as they are declared;
// references are checked once everything is read, since a listener may name
// a cluster or filter defined further down the file.

import type { Field, MapFields, Reader } from './reader.ts';

export type ReferenceKind = 'cluster' | 'filter';

interface Reference { kind: ReferenceKind; name: string; field: Field }

export class Symbols {
  readonly #r: Reader;
  /** scope → name → where it was first declared */
  readonly #declared = new Map<string, Map<string, Field>>();
  readonly #references: Reference[] = [];

  constructor(reader: Reader) {
    this.#r = reader;
  }

  /**
   * Records `name` under `noun` (e.g. "cluster name"); a second declaration
   * in the same scope is reported. `scope` defaults to `noun`; routes use one
   * scope per listener.
   */
  declare(noun: string, name: string, field: Field, scope: string = noun): void {
    let seen = this.#declared.get(scope);
    if (!seen) this.#declared.set(scope, (seen = new Map()));
    const first = seen.get(name);
    if (first) {
      this.#r.report(field, `duplicate ${noun} ${JSON.stringify(name)} (first at line ${this.#r.locate(first.offset).line})`);
    } else {
      seen.set(name, field);
    }
  }

  /** Reads an entry's `name` key and declares it as a `<kind> name`. */
  readName(entry: MapFields, kind: string): string | undefined {
    const field = entry.get('name');
    const name = field && this.#r.nonEmptyString(field);
    if (field && name !== undefined) this.declare(`${kind} name`, name, field);
    return name;
  }

  /** Reads the name of a cluster or filter at `field`, to be checked by checkReferences(). */
  readReference(field: Field, kind: ReferenceKind): string | undefined {
    const name = this.#r.nonEmptyString(field);
    if (name !== undefined) this.#references.push({ kind, name, field });
    return name;
  }

  /** Reports every reference to a cluster or filter that isn't defined. */
  checkReferences(): void {
    for (const { kind, name, field } of this.#references) {
      const defined = [...(this.#declared.get(`${kind} name`)?.keys() ?? [])];
      if (defined.includes(name)) continue;
      const known = defined.length ? `defined: ${defined.join(', ')}` : `no ${kind}s are defined`;
      this.#r.report(field, `unknown ${kind} ${JSON.stringify(name)} (${known})`);
    }
  }
}
