// Start functions: `_initialize` then `main(0,0)` (or `__main_void`), `_start` only without
// `_initialize`, never both, a wasm start section, and no proxy callback before start-up
// finished (reference §5.1, §7.2, §10 item 28).

import { afterEach, describe, expect, it } from 'vitest';
import { PluginSet } from '../../src/abi/plugin-set.ts';
import { LogLevel } from '../../src/abi/types.ts';
import { CallServices, compileFixture, createVm, fixtureFile, GuestView, harness, memoryLogger } from './helpers.ts';

describe('start functions', () => {
  it('calls _initialize then main(0, 0), and neither __main_void nor _start', async () => {
    const module = await compileFixture('abi-start-reactor');
    const { vm } = createVm(module, { logger: memoryLogger().logger });
    const mem = new GuestView(vm);
    expect(mem.trace()).toEqual([]); // instantiating runs nothing
    vm.start();
    expect(mem.trace()).toEqual([[1], [2], [0], [0]]);
  });

  it('calls __main_void after _initialize when there is no main', async () => {
    const h = await harness('abi-start-main-void');
    expect(h.mem.trace()).toEqual([[1], [3], [5]]);
  });

  it('calls _start when there is no _initialize', async () => {
    const h = await harness('abi-start-command');
    expect(h.mem.trace()).toEqual([[4], [5]]);
  });

  it('runs a start section at instantiation, then _initialize, then callbacks', async () => {
    const module = await compileFixture('abi-start-section');
    const { vm } = createVm(module, { logger: memoryLogger().logger });
    const mem = new GuestView(vm);
    expect(mem.trace()).toEqual([[8]]);
    vm.start();
    expect(mem.trace()).toEqual([[8], [1]]);
  });

  it('starts the VM before the first proxy callback', async () => {
    const h = await harness('abi-start-reactor');
    // _initialize, main(0,0), on_context_create(1, 0), on_vm_start, on_configure
    expect(h.mem.trace()).toEqual([[1], [2], [0], [0], [5], [1], [0], [6], [7]]);
  });
});

describe('PluginSet start-up order', () => {
  const sets: PluginSet[] = [];
  afterEach(() => {
    for (const s of sets.splice(0)) s.stop();
  });

  it('runs the start functions once per VM, before any plugin callback', async () => {
    const modulePath = await fixtureFile('abi-start-reactor');
    const common = { modulePath, vmId: 'shared', environ: [], configuration: Buffer.alloc(0), vmConfiguration: Buffer.alloc(0), logLevel: LogLevel.INFO, failOpen: false };
    const set = new PluginSet(
      [
        { ...common, name: 'a', rootId: 'a' },
        { ...common, name: 'b', rootId: 'b' },
      ],
      new CallServices(),
      memoryLogger().logger,
    );
    sets.push(set);
    set.start();
    const vm = set.get('a')!.vm;
    expect(set.get('b')!.vm).toBe(vm);
    const trace = new GuestView(vm).trace();
    // _initialize, main(0,0), then root 1 (create, vm_start, configure), then root 2.
    expect(trace).toEqual([[1], [2], [0], [0], [5], [1], [0], [6], [7], [5], [2], [0], [6], [7]]);
  });
});
