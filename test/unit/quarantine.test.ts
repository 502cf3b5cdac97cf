import { describe, expect, it } from 'vitest';
import { FilterQuarantines, FIRST_QUARANTINE_MS, MAX_QUARANTINE_MS, STRIKES_FORGOTTEN_MS } from '../../src/supervisor/quarantine.ts';

describe('FilterQuarantines', () => {
  it('doubles the time out each time the same filter gets stuck again, up to the cap', () => {
    const q = new FilterQuarantines();
    const lengths: number[] = [];
    let now = 1_000_000;
    for (let i = 0; i < 8; i++) {
      const t = q.strike(2, now, 'stuck');
      lengths.push(t.until - now);
      now = t.until + 1000; // stuck again soon after it came back
    }
    expect(lengths).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, MAX_QUARANTINE_MS, MAX_QUARANTINE_MS, MAX_QUARANTINE_MS]);
    expect(lengths[0]).toBe(FIRST_QUARANTINE_MS);
  });

  it('counts each filter on its own, and forgets strikes after a quiet spell', () => {
    const q = new FilterQuarantines();
    q.strike(0, 0, 'stuck');
    expect(q.strike(0, 30_000, 'stuck').until).toBe(30_000 + 2 * FIRST_QUARANTINE_MS);
    expect(q.strike(1, 30_000, 'stuck').until).toBe(30_000 + FIRST_QUARANTINE_MS);
    const later = 30_000 + STRIKES_FORGOTTEN_MS;
    expect(q.strike(0, later, 'stuck').until).toBe(later + FIRST_QUARANTINE_MS);
  });

  it('tells whether a filter got a worker stuck lately', () => {
    const q = new FilterQuarantines();
    expect(q.struckLately(0, 0)).toBe(false);
    q.strike(0, 1000, 'stuck');
    expect(q.struckLately(0, 1000 + FIRST_QUARANTINE_MS + 1)).toBe(true);
    expect(q.struckLately(1, 2000)).toBe(false);
    expect(q.struckLately(0, 1000 + STRIKES_FORGOTTEN_MS)).toBe(false);
  });

  it('counts a filter stuck in several workers at once as one strike', () => {
    const q = new FilterQuarantines();
    const first = q.strike(4, 0, 'stuck');
    // The second worker entered the filter before the time out reached it.
    expect(q.strike(4, 500, 'stuck')).toBe(first);
    // Stuck again after the time out: doubled.
    expect(q.strike(4, first.until + 1, 'stuck').until).toBe(first.until + 1 + 2 * FIRST_QUARANTINE_MS);
  });

  it('gives a starting worker only the time outs still running', () => {
    const q = new FilterQuarantines();
    q.strike(0, 0, 'first');
    q.strike(3, 5_000, 'second');
    expect(q.active(1_000)).toEqual([
      { filter: 0, until: FIRST_QUARANTINE_MS, reason: 'first' },
      { filter: 3, until: 5_000 + FIRST_QUARANTINE_MS, reason: 'second' },
    ]);
    expect(q.active(FIRST_QUARANTINE_MS)).toEqual([{ filter: 3, until: 5_000 + FIRST_QUARANTINE_MS, reason: 'second' }]);
    expect(q.active(5_000 + FIRST_QUARANTINE_MS)).toEqual([]);
  });

  it('keeps out of a starting worker the time outs running and, for a while after it starts, the filters stuck lately', () => {
    const q = new FilterQuarantines();
    q.strike(0, 0, 'first');
    q.strike(1, 100_000, 'second');
    const now = 105_000; // filter 0's time out is over, filter 1's runs
    expect(q.keptOut(now, 1000)).toEqual([
      { filter: 1, until: 100_000 + FIRST_QUARANTINE_MS, reason: 'second' },
      { filter: 0, until: now + 1000, reason: 'got a worker stuck lately' },
    ]);
    expect(q.keptOut(STRIKES_FORGOTTEN_MS + 1, 1000).map((k) => k.filter)).toEqual([1]);
  });
});
