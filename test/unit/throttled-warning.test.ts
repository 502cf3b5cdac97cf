import type { Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { ThrottledWarning } from '../../src/abi/throttled-warning.ts';

/** A logger that keeps what it was given. */
function recorder(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = { warn: (details: Record<string, unknown>, msg: string) => lines.push({ ...details, msg }) } as unknown as Logger;
  return { logger, lines };
}

describe('ThrottledWarning', () => {
  it('logs once per interval and reports the suppressed count at the end of the interval', async () => {
    const { logger, lines } = recorder();
    const warning = new ThrottledWarning('queue full', 100);
    warning.warn(logger, { queue: 'a' });
    warning.warn(logger, { queue: 'b' });
    warning.warn(logger, { queue: 'c' });
    expect(lines).toEqual([{ queue: 'a', suppressed: 0, msg: 'queue full' }]);
    // Nothing else happens, yet the two suppressed ones are reported.
    await new Promise((r) => setTimeout(r, 180));
    expect(lines).toEqual([
      { queue: 'a', suppressed: 0, msg: 'queue full' },
      { queue: 'c', suppressed: 2, msg: 'queue full' },
    ]);
    await new Promise((r) => setTimeout(r, 150));
    expect(lines).toHaveLength(2);
    warning.warn(logger, { queue: 'd' });
    expect(lines.at(-1)).toEqual({ queue: 'd', suppressed: 0, msg: 'queue full' });
  });
});
