// What a thread reports while guest code runs (guest-watch.ts): the supervisor reads it to name
// the filter that got a worker stuck. Each plugin reports its own filter, even on a shared VM.

import { afterEach, describe, expect, it } from 'vitest';
import { reportGuestCalls } from '../../src/abi/guest-watch.ts';
import { PluginSet } from '../../src/abi/plugin-set.ts';
import { LogLevel } from '../../src/abi/types.ts';
import { CallServices, fixtureFile, memoryLogger } from './helpers.ts';

afterEach(() => reportGuestCalls(new SharedArrayBuffer(4), 0));

describe('guest watch', () => {
  it("reports the running plugin's filter index + 1, negated while it starts, and 0 once the guest returns", async () => {
    const buffer = new SharedArrayBuffer(8);
    reportGuestCalls(buffer, 1);
    const running = new Int32Array(buffer);
    const modulePath = await fixtureFile('abi-plugin-identity');
    // The fixture logs its plugin_name from on_context_create of its root context: start-up.
    const seen: Array<[unknown, number]> = [];
    const { logger } = memoryLogger([], (line) => seen.push([line.msg, running[1]!]));
    const spec = { modulePath, rootId: 'r', environ: [], configuration: Buffer.alloc(0), vmConfiguration: Buffer.alloc(0), logLevel: LogLevel.INFO, failOpen: false };
    const set = new PluginSet(
      [
        { ...spec, name: 'alone', vmId: 'own' },
        { ...spec, name: 'first', vmId: 'shared' },
        { ...spec, name: 'second', vmId: 'shared' },
      ],
      new CallServices(),
      logger,
    );
    set.start();
    try {
      const named = seen.filter(([msg]) => msg === 'alone' || msg === 'first' || msg === 'second');
      expect(named).toEqual([
        ['alone', -1],
        ['first', -2],
        ['second', -3],
      ]);
      expect(running[0]).toBe(0); // another thread's slot
      expect(running[1]).toBe(0);
      // Once started, each plugin reports itself as serving.
      expect(set.plugins().map((p) => p.watchId)).toEqual([1, 2, 3]);
    } finally {
      set.stop();
    }
  });

  it('a filter out of service at start is not started, and comes back by itself when its time is up', async () => {
    const modulePath = await fixtureFile('abi-plugin-identity');
    const { logger, lines } = memoryLogger();
    const spec = { modulePath, rootId: 'r', environ: [], configuration: Buffer.alloc(0), vmConfiguration: Buffer.alloc(0), logLevel: LogLevel.INFO, failOpen: false };
    const set = new PluginSet([{ ...spec, name: 'kept', vmId: 'a' }, { ...spec, name: 'stuck', vmId: 'b' }], new CallServices(), logger);
    set.start([{ filter: 1, until: Date.now() + 200, reason: 'stuck in a callback for 1000 ms' }]);
    try {
      expect(set.plugins().map((p) => p.config.name)).toEqual(['kept']);
      expect(lines.filter((l) => l.msg === 'stuck')).toEqual([]); // its on_context_create never ran
      expect(lines.find((l) => l.msg === 'filter out of service: its requests get its failure policy until then')).toMatchObject({ filter: 'stuck', vm_filters: ['stuck'] });
      // No request asks for it: the VM starts when the time is up.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(set.plugins().map((p) => p.config.name)).toEqual(['kept', 'stuck']);
      expect(lines.some((l) => l.msg === 'filter back in service')).toBe(true);
    } finally {
      set.stop();
    }
  });
});
