// The contexts a VM knows, by id. Root contexts are few and long-lived; stream contexts come and
// go with every request, so they live in an array with swap-remove: measured, a Map with that
// churn kept every finished request's objects reachable long enough to be promoted to the old
// generation (~4 KB per request per filter). Lookups by id (proxy_set_effective_context, rare)
// scan the live streams.

import type { Context } from './context.ts';

export class ContextTable {
  readonly #roots = new Map<number, Context>();
  readonly #streams: Context[] = [];
  /**
   * The VM's current context, kept as its slot when it is a stream here: storing the context
   * itself, a young object, into this long-lived table (or the VM) costs V8's write barrier, ~50
   * instructions, on every guest call; a slot number costs nothing. Other contexts (roots, a
   * stream not in the table) are kept as objects. See Vm.current.
   */
  #currentSlot = -1;
  #currentOther: Context | null = null;

  addRoot(ctx: Context): void {
    this.#roots.set(ctx.id, ctx);
  }

  addStream(ctx: Context): void {
    ctx.tableSlot = this.#streams.length;
    this.#streams.push(ctx);
  }

  delete(ctx: Context): void {
    // Streams first: one ends with every request, and their slot finds them without a lookup.
    const slot = ctx.tableSlot;
    if (slot !== -1 && this.#streams[slot] === ctx) {
      // The current context stays current wherever it goes (as an object once it is not here).
      if (this.#currentSlot === slot) {
        this.#currentSlot = -1;
        this.#currentOther = ctx;
      }
      ctx.tableSlot = -1;
      const lastSlot = this.#streams.length - 1;
      const last = this.#streams.pop()!;
      if (last !== ctx) {
        this.#streams[slot] = last;
        last.tableSlot = slot;
        if (this.#currentSlot === lastSlot) this.#currentSlot = slot;
      }
      return;
    }
    if (this.#roots.get(ctx.id) === ctx) this.#roots.delete(ctx.id);
  }

  /** The context the VM's host functions act on (Vm.current); null between guest calls. */
  get current(): Context | null {
    return this.#currentSlot !== -1 ? this.#streams[this.#currentSlot]! : this.#currentOther;
  }

  set current(ctx: Context | null) {
    const slot = ctx === null ? -1 : ctx.tableSlot;
    if (slot !== -1 && this.#streams[slot] === ctx) {
      this.#currentSlot = slot;
      this.#currentOther = null;
    } else {
      this.#currentSlot = -1;
      this.#currentOther = ctx;
    }
  }

  get(id: number): Context | undefined {
    const root = this.#roots.get(id);
    if (root !== undefined) return root;
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
