import { describe, expect, it } from 'vitest';
import { DEADLINE_TICK_MS, Deadlines, type Expiring } from '../../src/proxy/deadlines.ts';

function item(deadline: number, expired: string[], name: string): Expiring {
  return { deadline, deadlineSlot: -1, expire: () => expired.push(name) };
}

describe('Deadlines', () => {
  it('expires only items past their deadline, once, and forgets untracked ones', async () => {
    const d = new Deadlines();
    const expired: string[] = [];
    const now = performance.now();
    const soon = item(now + 10, expired, 'soon');
    const late = item(now + 60_000, expired, 'late');
    const gone = item(now + 10, expired, 'gone');
    d.track(soon);
    d.track(late);
    d.track(gone);
    d.track(gone); // tracking twice is a no-op
    expect(d.size).toBe(3);
    d.untrack(gone);
    d.untrack(gone);
    expect(d.size).toBe(2);
    await new Promise((r) => setTimeout(r, DEADLINE_TICK_MS * 2.5));
    expect(expired).toEqual(['soon']);
    expect(d.size).toBe(1);
    expect(late.deadlineSlot).toBe(0);
    d.untrack(late);
    expect(d.size).toBe(0);
    expect(late.deadlineSlot).toBe(-1);
  });

  it('keeps slots consistent when removing from the middle', () => {
    const d = new Deadlines();
    const items = [0, 1, 2, 3].map((i) => item(Infinity, [], String(i)));
    for (const i of items) d.track(i);
    d.untrack(items[1]!);
    expect(items[3]!.deadlineSlot).toBe(1);
    d.untrack(items[3]!);
    d.untrack(items[0]!);
    expect(items[2]!.deadlineSlot).toBe(0);
    expect(d.size).toBe(1);
    d.untrack(items[2]!);
  });
});
