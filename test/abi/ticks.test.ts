// proxy_set_tick_period_milliseconds: the period is a u32 of milliseconds, up to ~49.7 days, and
// a Node timer holds at most 2^31 - 1 ms (~24.8 days); past that Node would fire it after 1 ms.

import { afterEach, describe, expect, it } from 'vitest';
import { PluginSet } from '../../src/abi/plugin-set.ts';
import { LogLevel } from '../../src/abi/types.ts';
import { watToWasm } from '../helpers/wat.ts';
import { CallServices, GuestView, memoryLogger, tempFile } from './helpers.ts';

/** Asks for a tick every `period` ms (an i32 literal) from on_configure; counts ticks at 0x100. */
const ticker = (period: string) => `(module
  (import "env" "proxy_set_tick_period_milliseconds" (func $tick_every (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32)
    (drop (call $tick_every (i32.const ${period})))
    (i32.const 1))
  (func (export "proxy_on_tick") (param i32)
    (i32.store (i32.const 0x100) (i32.add (i32.load (i32.const 0x100)) (i32.const 1)))))`;

const sets: PluginSet[] = [];
afterEach(() => {
  for (const s of sets.splice(0)) s.stop();
});

async function start(period: string, name: string): Promise<PluginSet> {
  const modulePath = tempFile(`${name}.wasm`, await watToWasm(ticker(period), `${name}.wat`));
  const set = new PluginSet(
    [{ modulePath, name, rootId: '', vmId: '', environ: [], configuration: Buffer.alloc(0), vmConfiguration: Buffer.alloc(0), logLevel: LogLevel.INFO, failOpen: false }],
    new CallServices(),
    memoryLogger().logger,
  );
  sets.push(set);
  set.start();
  return set;
}

const ticks = (set: PluginSet): number => new GuestView(set.plugins()[0]!.vm).u32(0x100);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('tick period', () => {
  it('ticks at the period asked for', async () => {
    const set = await start('10', 'often');
    for (const giveUp = Date.now() + 5000; ticks(set) < 2 && Date.now() < giveUp; ) await sleep(10);
    expect(ticks(set)).toBeGreaterThanOrEqual(2);
  });

  it('a period longer than a Node timer holds (0xFFFFFFFF ms) waits, instead of ticking every millisecond', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const set = await start('-1', 'rarely');
      await sleep(100);
      expect(ticks(set)).toBe(0);
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.map((w) => w.name)).not.toContain('TimeoutOverflowWarning');
  });
});
