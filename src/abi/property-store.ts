// Values filters write with proxy_set_property: a plugin's (written from its root callbacks,
// kept for the plugin's life) and a stream's (kept for the request). Keys are NUL-joined paths.
// Bounded like every store a guest fills (docs/RATIONALE.md): a filter writing new paths from a
// tick would otherwise grow the proxy until it runs out of memory.

import { MAX_PROPERTY_BYTES } from './limits.ts';

export class PropertyStore {
  readonly #values = new Map<string, Buffer>();
  readonly #maxBytes: number;
  #bytes = 0;

  constructor(maxBytes = MAX_PROPERTY_BYTES) {
    this.#maxBytes = maxBytes;
  }

  get(key: string): Buffer | undefined {
    return this.#values.get(key);
  }

  /** Stores `value` (kept, not copied); false, storing nothing, when the store would pass its bound. */
  set(key: string, value: Buffer): boolean {
    const old = this.#values.get(key);
    const growth = value.length - (old === undefined ? -key.length : old.length);
    if (growth > 0 && this.#bytes + growth > this.#maxBytes) return false;
    this.#values.set(key, value);
    this.#bytes += growth;
    return true;
  }

  /** Keys and values, in bytes. */
  get bytes(): number {
    return this.#bytes;
  }
}
