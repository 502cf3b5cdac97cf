// The VM's table of live contexts: roots in a map, streams in an array with swap-remove (each
// stream remembers its slot).

import { describe, expect, it } from 'vitest';
import { ContextTable } from '../../src/abi/context-table.ts';
import type { Context } from '../../src/abi/context.ts';

// The table only reads `id` and `tableSlot`.
const context = (id: number) => ({ id, tableSlot: -1 }) as unknown as Context;
const ids = (table: ContextTable) => [...table.all()].map((c) => c.id);

describe('ContextTable', () => {
  it('finds roots and streams by id and lists roots first', () => {
    const table = new ContextTable();
    const root = context(1);
    table.addRoot(root);
    const streams = [2, 3, 4].map(context);
    for (const s of streams) table.addStream(s);
    expect(table.get(1)).toBe(root);
    expect(table.get(3)).toBe(streams[1]);
    expect(table.has(5)).toBe(false);
    expect(ids(table)).toEqual([1, 2, 3, 4]);
    expect(table.size).toBe(4);
  });

  it('deletes a stream by moving the last one into its slot', () => {
    const table = new ContextTable();
    const [a, b, c] = [2, 3, 4].map(context);
    for (const s of [a!, b!, c!]) table.addStream(s);
    table.delete(a!);
    expect(a!.tableSlot).toBe(-1);
    expect(c!.tableSlot).toBe(0);
    expect(ids(table)).toEqual([4, 3]);
    table.delete(c!);
    table.delete(b!);
    expect(table.size).toBe(0);
  });

  it('deletes a root, and ignores contexts it does not hold or already deleted', () => {
    const table = new ContextTable();
    const root = context(1);
    const stream = context(2);
    table.addRoot(root);
    table.addStream(stream);
    table.delete(stream);
    table.delete(stream); // twice: no effect
    table.delete(context(2)); // same id, another object: no effect
    expect(ids(table)).toEqual([1]);
    table.delete(root);
    expect(table.has(1)).toBe(false);
    // A stale slot pointing at another live stream does not remove that one.
    const [x, y] = [3, 4].map(context);
    table.addStream(x!);
    table.addStream(y!);
    const impostor = { id: 9, tableSlot: 0 } as unknown as Context;
    table.delete(impostor);
    expect(ids(table)).toEqual([3, 4]);
  });

  it('keeps the current stream current while others are deleted around it', () => {
    const table = new ContextTable();
    const [a, b, c] = [2, 3, 4].map(context);
    for (const s of [a!, b!, c!]) table.addStream(s);
    table.setCurrent(c!);
    table.delete(a!); // c moves into a's slot
    expect(table.current).toBe(c);
    table.delete(b!);
    expect(table.current).toBe(c);
    table.clearCurrent();
    expect(table.current).toBeNull();
  });

  it('keeps a deleted current context, a root and a stream it does not hold as current', () => {
    const table = new ContextTable();
    const [a, b] = [2, 3].map(context);
    table.addStream(a!);
    table.addStream(b!);
    table.setCurrent(a!);
    table.delete(a!); // b moves into slot 0: current must not become b
    expect(table.current).toBe(a);
    const root = context(1);
    table.addRoot(root);
    table.setCurrent(root);
    expect(table.current).toBe(root);
    const outside = context(9);
    table.setCurrent(outside);
    expect(table.current).toBe(outside);
  });

  it('clears a current stream and a current root alike', () => {
    const table = new ContextTable();
    const stream = context(2);
    table.addStream(stream);
    table.setCurrent(stream);
    table.clearCurrent();
    expect(table.current).toBeNull();
    const root = context(1);
    table.addRoot(root);
    table.setCurrent(root);
    table.clearCurrent();
    expect(table.current).toBeNull();
    // Cleared, the stream's slot no longer makes it current after another stream moves in.
    table.delete(stream);
    table.addStream(context(3));
    expect(table.current).toBeNull();
  });

  it("suspends the current context for a nested call and restores it, a stream's slot or a root", () => {
    const table = new ContextTable();
    const [a, b] = [2, 3].map(context);
    table.addStream(a!);
    table.addStream(b!);
    table.setCurrent(b!);
    const saved = table.suspendCurrent();
    expect(table.current).toBeNull();
    table.restoreCurrent(saved);
    expect(table.current).toBe(b);
    const root = context(1);
    table.addRoot(root);
    table.setCurrent(root);
    const savedRoot = table.suspendCurrent();
    expect(table.current).toBeNull();
    table.restoreCurrent(savedRoot);
    expect(table.current).toBe(root);
  });

  it('finds every live stream by id through thousands of adds and deletes, and none it deleted', () => {
    const table = new ContextTable();
    const live = new Map<number, Context>();
    let next = 2;
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let round = 0; round < 20_000; round++) {
      if (live.size < 50 || (random() < 0.55 && live.size < 3000)) {
        const ctx = context(next++);
        table.addStream(ctx);
        live.set(ctx.id, ctx);
      } else {
        const ids = [...live.keys()];
        const id = ids[Math.floor(random() * ids.length)]!;
        table.delete(live.get(id)!);
        live.delete(id);
        expect(table.get(id)).toBeUndefined();
      }
    }
    expect(table.size).toBe(live.size);
    for (const [id, ctx] of live) expect(table.get(id)).toBe(ctx);
  });

  it('looks a stream up without reading the other streams\' ids (no scan)', () => {
    const table = new ContextTable();
    let reads = 0;
    const counted = (id: number) => ({ get id() { reads++; return id; }, tableSlot: -1 }) as unknown as Context;
    const streams = Array.from({ length: 2000 }, (_, i) => counted(i + 2));
    for (const s of streams) table.addStream(s);
    for (const s of streams.filter((_, i) => i % 3 === 0)) table.delete(s); // moves others around
    reads = 0;
    expect(table.get(1002)).toBe(streams[1000]);
    expect(table.get(1500)).toBe(streams[1498]);
    expect(reads).toBeLessThanOrEqual(2);
  });

  it('finds a long-lived stream whose index entry a newer one took', () => {
    const table = new ContextTable();
    const old = context(3);
    table.addStream(old);
    // Ids 256 apart share an entry of the smallest index: the newer stream holds it.
    const newer = context(3 + 256);
    table.addStream(newer);
    expect(table.get(3)).toBe(old);
    expect(table.get(3 + 256)).toBe(newer);
    table.delete(newer);
    expect(table.get(3)).toBe(old);
    expect(table.get(3 + 256)).toBeUndefined();
  });
});
