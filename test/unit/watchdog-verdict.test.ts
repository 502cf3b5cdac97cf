import { describe, expect, it } from 'vitest';
import { watchdogVerdict, type RunningFilter } from '../../src/supervisor/supervisor.ts';

const callback: RunningFilter = { index: 0, name: 'f', starting: false };
const startUp: RunningFilter = { index: 0, name: 'f', starting: true };

describe('watchdogVerdict (watchdog 10 s, callbacks 1 s)', () => {
  const verdict = (silentMs: number, filter: RunningFilter | undefined, workerStarting = false, watchdogMs = 10_000, callTimeoutMs = 1000) =>
    watchdogVerdict(silentMs, filter, workerStarting, watchdogMs, callTimeoutMs);

  it("replaces a serving worker silent in a filter's callback past the callback timeout", () => {
    expect(verdict(900, callback)).toBe('wait');
    expect(verdict(1100, callback)).toBe('replace');
  });

  it("gives a filter's start-up (a VM started again) and code outside filters the watchdog's time", () => {
    expect(verdict(5000, startUp)).toBe('wait');
    expect(verdict(5000, undefined)).toBe('wait');
    expect(verdict(10_001, startUp)).toBe('replace');
    expect(verdict(10_001, undefined)).toBe('replace');
  });

  it("gives a filter's start-up the callback timeout once it got a worker stuck lately", () => {
    const startUpAgain: RunningFilter = { ...startUp, startLoopedBefore: true };
    expect(verdict(900, startUpAgain)).toBe('wait');
    expect(verdict(1100, startUpAgain)).toBe('replace');
    // A worker's own start keeps the watchdog's time: it keeps such filters out (quarantine.ts).
    expect(verdict(1100, startUpAgain, true)).toBe('wait');
  });

  it("fails a worker's start only past the watchdog's time, whatever runs", () => {
    expect(verdict(5000, callback, true)).toBe('wait');
    expect(verdict(10_001, startUp, true)).toBe('fail start');
    expect(verdict(10_001, undefined, true)).toBe('fail start');
  });

  it('leaves a timeout of 0 off', () => {
    expect(verdict(60_000, callback, false, 0, 0)).toBe('wait');
    expect(verdict(60_000, startUp, true, 0, 1000)).toBe('wait');
    expect(verdict(1100, callback, false, 0, 1000)).toBe('replace');
    expect(verdict(60_000, callback, false, 10_000, 0)).toBe('replace');
  });
});
