// The contexts a VM knows, by id. Root contexts are few and long-lived; stream contexts come and
// go with every request, so they live in an array with swap-remove: measured, a Map with that
// churn kept every finished request's objects reachable long enough to be promoted to the old
// generation (~4 KB per request per filter). Lookups by id (proxy_set_effective_context, once per
// http_call answer in an auth-style filter) go through a direct-mapped index of slots by id, a
// typed array: no garbage and no write barrier per request, and no scan of thousands of live
// streams when a VM holds that many.

import type { Context } from './context.ts';

/** The index's smallest size (a power of two, as every size is). */
const MIN_INDEX = 256;

export class ContextTable {
  readonly #roots = new Map<number, Context>();
  readonly #streams: Context[] = [];
  /**
   * The VM's current context: its slot when it is a stream here, else the context itself (a
   * root, a stream not in the table) or null. Storing the context, a young object, into this
   * long-lived table costs V8's write barrier, ~50 instructions, on every guest call; a slot
   * number costs nothing. One plain property (not a #field, whose accesses take more bytecode)
   * keeps the getter, setCurrent and clearCurrent within the 27 bytes of bytecode that V8
   * inlines into any caller: as two #fields they were left out of line in the host functions
   * (~200 instructions per header read, with the allocator's save and restore).
   */
  private currentRef: Context | number | null = null;
  /**
   * Stream slot + 1 by `id & (length - 1)`, 0 for none. Ids are handed out in sequence, so with
   * at least twice as many entries as live streams two of them share an entry only when one has
   * lived through a whole table's worth of later ids; the newer one then has it, and the older is
   * found by the scan `get` falls back to.
   */
  #slotById = new Int32Array(MIN_INDEX);

  addRoot(ctx: Context): void {
    this.#roots.set(ctx.id, ctx);
  }

  addStream(ctx: Context): void {
    const slot = this.#streams.length;
    ctx.tableSlot = slot;
    this.#streams.push(ctx);
    if (2 * this.#streams.length > this.#slotById.length) this.#reindex(2 * this.#slotById.length);
    else this.#slotById[ctx.id & (this.#slotById.length - 1)] = slot + 1;
  }

  /** A larger index, rebuilt from the live streams. */
  #reindex(size: number): void {
    const index = new Int32Array(size);
    const streams = this.#streams;
    for (let slot = 0; slot < streams.length; slot++) index[streams[slot]!.id & (size - 1)] = slot + 1;
    this.#slotById = index;
  }

  delete(ctx: Context): void {
    // Streams first: one ends with every request, and their slot finds them without a lookup.
    const slot = ctx.tableSlot;
    if (slot !== -1 && this.#streams[slot] === ctx) {
      // The current context stays current wherever it goes (as an object once it is not here).
      if (this.currentRef === slot) this.currentRef = ctx;
      ctx.tableSlot = -1;
      const index = this.#slotById;
      const mask = index.length - 1;
      if (index[ctx.id & mask] === slot + 1) index[ctx.id & mask] = 0;
      const lastSlot = this.#streams.length - 1;
      const last = this.#streams.pop()!;
      if (last !== ctx) {
        this.#streams[slot] = last;
        last.tableSlot = slot;
        if (index[last.id & mask] === lastSlot + 1) index[last.id & mask] = slot + 1;
        if (this.currentRef === lastSlot) this.currentRef = slot;
      }
      return;
    }
    if (this.#roots.get(ctx.id) === ctx) this.#roots.delete(ctx.id);
  }

  /** The context the VM's host functions act on (Vm.current); null between guest calls. */
  get current(): Context | null {
    const current = this.currentRef;
    return typeof current === 'number' ? this.#streams[current]! : current;
  }

  /** Makes `ctx`, a context of this table's VM, the current one (a stream's slot is its tableSlot). */
  setCurrent(ctx: Context): void {
    const slot = ctx.tableSlot;
    this.currentRef = slot === -1 ? ctx : slot;
  }

  /** No current context (between guest calls): one store, which TurboFan inlines anywhere. */
  clearCurrent(): void {
    this.currentRef = null;
  }

  /**
   * Clears the current context for a nested guest call (the allocator's, from inside a host
   * function) and returns what restoreCurrent takes to put it back. A slot stays right: streams
   * leave the table only between guest calls.
   */
  suspendCurrent(): Context | number | null {
    const saved = this.currentRef;
    this.currentRef = null;
    return saved;
  }

  restoreCurrent(saved: Context | number | null): void {
    this.currentRef = saved;
  }

  get(id: number): Context | undefined {
    const root = this.#roots.get(id);
    if (root !== undefined) return root;
    const entry = this.#slotById[id & (this.#slotById.length - 1)]!;
    const indexed = entry === 0 ? undefined : this.#streams[entry - 1];
    if (indexed?.id === id) return indexed;
    // Not indexed: an id that is not live, or an old stream whose entry a newer one took.
    for (const ctx of this.#streams) if (ctx.id === id) return ctx;
    return undefined;
  }

  /** Every live context, roots first. */
  *all(): IterableIterator<Context> {
    yield* this.#roots.values();
    yield* this.#streams;
  }

  has(id: number): boolean {
    return this.get(id) !== undefined;
  }

  get size(): number {
    return this.#roots.size + this.#streams.length;
  }
}
