// The shared key-value store behind proxy_get_shared_data / proxy_set_shared_data: one per
// proxy, namespaced by vm_id (not by plugin), with compare-and-swap versions as in
// proxy-wasm-cpp-host (reference §7.10). Keys are byte strings held as latin1 (one char per
// byte), so any key bytes round-trip. The interface is synchronous on purpose: a later version
// backs it with SharedArrayBuffer so every worker thread sees the same store.

import type { Logger } from 'pino';
import { quoted } from './quoted.ts';
import { ThrottledWarning } from './throttled-warning.ts';
import { Status } from './types.ts';

export const DEFAULT_SHARED_DATA_MAX_BYTES = 64 * 1024 * 1024;
const MAX_U32 = 0xffffffff;

export interface SharedDataOptions {
  /** Cap on the total bytes of keys and values, all namespaces together. */
  maxBytes?: number;
  /** Where refused writes are reported when the caller gives no logger of its own. */
  logger?: Logger;
  /** The first CAS handed out (default 1); lets tests reach the u32 wrap. */
  firstCas?: number;
}

export interface SharedValue {
  readonly value: Buffer;
  readonly cas: number;
}

export interface SharedDataStats {
  keys: number;
  bytes: number;
  maxBytes: number;
  /** Writes refused because they would have grown the store past maxBytes. */
  droppedWrites: number;
  byVmId: Map<string, NamespaceStats>;
}

export interface NamespaceStats {
  keys: number;
  bytes: number;
  droppedWrites: number;
}

interface Namespace {
  readonly entries: Map<string, SharedValue>;
  bytes: number;
  droppedWrites: number;
}

/** What host functions use: the in-process store, or a worker's view of the supervisor's. */
export type SharedDataAccess = Pick<SharedDataStore, 'get' | 'set'>;

export class SharedDataStore {
  readonly #namespaces = new Map<string, Namespace>();
  readonly #maxBytes: number;
  readonly #logger: Logger | undefined;
  readonly #full = new ThrottledWarning('shared data is full: write dropped (the filter was told OK)');
  #nextCas: number;
  #bytes = 0;
  #keys = 0;
  #droppedWrites = 0;

  constructor(options: SharedDataOptions = {}) {
    this.#maxBytes = options.maxBytes ?? DEFAULT_SHARED_DATA_MAX_BYTES;
    this.#logger = options.logger;
    this.#nextCas = options.firstCas === undefined || options.firstCas === 0 ? 1 : options.firstCas >>> 0;
  }

  /** The value and its CAS, or undefined when the key was never written in this namespace. */
  get(vmId: string, key: string): SharedValue | undefined {
    return this.#namespaces.get(vmId)?.entries.get(key);
  }

  /**
   * Writes `value` (the store keeps the Buffer; pass a copy). cas 0 writes unconditionally; a
   * non-zero cas must equal the key's current CAS (CAS_MISMATCH otherwise) unless the key does
   * not exist yet, in which case it is created. A write that would grow the store past its cap
   * is dropped and still answered OK (see docs/RATIONALE.md), with a throttled warning.
   */
  set(vmId: string, key: string, value: Buffer, cas: number, logger: Logger | undefined = this.#logger): Status {
    let ns = this.#namespaces.get(vmId);
    const old = ns?.entries.get(key);
    if (old !== undefined && cas !== 0 && cas >>> 0 !== old.cas) return Status.CAS_MISMATCH;
    if (ns === undefined) this.#namespaces.set(vmId, (ns = { entries: new Map(), bytes: 0, droppedWrites: 0 }));
    const size = key.length + value.length;
    const growth = size - (old === undefined ? 0 : key.length + old.value.length);
    if (growth > 0 && this.#bytes + growth > this.#maxBytes) {
      this.#droppedWrites++;
      ns.droppedWrites++;
      this.#full.warn(logger, { vm_id: vmId, key: quoted(key), bytes: size, used_bytes: this.#bytes, max_bytes: this.#maxBytes, dropped_writes: this.#droppedWrites });
      return Status.OK;
    }
    if (old === undefined) this.#keys++;
    ns.entries.set(key, { value, cas: this.#takeCas() });
    ns.bytes += growth;
    this.#bytes += growth;
    return Status.OK;
  }

  stats(): SharedDataStats {
    const byVmId = new Map<string, NamespaceStats>();
    for (const [vmId, ns] of this.#namespaces) byVmId.set(vmId, { keys: ns.entries.size, bytes: ns.bytes, droppedWrites: ns.droppedWrites });
    return { keys: this.#keys, bytes: this.#bytes, maxBytes: this.#maxBytes, droppedWrites: this.#droppedWrites, byVmId };
  }

  /** One counter for the whole store: starts at 1, wraps at 2^32 and never yields 0. */
  #takeCas(): number {
    const cas = this.#nextCas;
    this.#nextCas = cas === MAX_U32 ? 1 : cas + 1;
    return cas;
  }
}
