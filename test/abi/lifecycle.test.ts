// Context lifecycle: root and stream ids, the start-up sequence and its failures, the end of a
// stream (on_log → on_done → on_delete once), and several plugins sharing one VM
// (reference §5.2, §7.1, §7.2, §7.3, §10 items 2, 4, 10).

import { afterEach, describe, expect, it } from 'vitest';
import { PluginStartError } from '../../src/abi/errors.ts';
import { PluginSet, type PluginSpec } from '../../src/abi/plugin-set.ts';
import { LogLevel } from '../../src/abi/types.ts';
import { CallServices, fixtureFile, harness, memoryLogger } from './helpers.ts';

const CREATE = 1;
const VM_START = 2;
const CONFIGURE = 3;
const LOG = 4;
const DONE = 5;
const DELETE = 6;

function startError(fn: () => void): PluginStartError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PluginStartError);
    return err as PluginStartError;
  }
  throw new Error('expected a PluginStartError');
}

describe('start-up', () => {
  it('creates root context 1, then on_vm_start(1, vm_config_len), then on_configure(1, config_len)', async () => {
    const h = await harness('abi-lifecycle', { config: { vmConfiguration: 'vm!', configuration: 'plugin config' } });
    expect(h.plugin.root.id).toBe(1);
    expect(h.mem.trace(3)).toEqual([
      [CREATE, 1, 0],
      [VM_START, 1, 3],
      [CONFIGURE, 1, 13],
    ]);
    expect(h.vm.contexts.get(1)).toBe(h.plugin.root);
    expect(h.plugin.configuring).toBe(false);
  });

  it('on_vm_start returning 0 is a PluginStartError and on_configure never runs', async () => {
    const h = await harness('abi-lifecycle', { start: false, config: { name: 'picky' } });
    h.mem.setU32(0x100, 0);
    const err = startError(() => h.plugin.start());
    expect(err.plugin).toBe('picky');
    expect(err.message).toBe("filter 'picky': proxy_on_vm_start returned false (the filter rejected its VM configuration)");
    expect(h.mem.trace(3).map((t) => t[0])).toEqual([CREATE, VM_START]);
  });

  it('on_configure returning 0 is a PluginStartError', async () => {
    const h = await harness('abi-lifecycle', { start: false, config: { name: 'picky' } });
    h.mem.setU32(0x104, 0);
    const err = startError(() => h.plugin.start());
    expect(err.message).toBe("filter 'picky': proxy_on_configure returned false (the filter rejected its configuration)");
    expect(h.plugin.configuring).toBe(false);
    expect(h.vm.failure).toBeNull();
  });

  it('a trap in on_configure is a PluginStartError naming the callback, and fails the VM', async () => {
    const h = await harness('abi-lifecycle', { start: false, config: { name: 'crashy' } });
    h.mem.setU32(0x108, 1);
    const err = startError(() => h.plugin.start());
    expect(err.message).toMatch(/^filter 'crashy': proxy_on_configure failed: .*unreachable/);
    expect(h.vm.failure).not.toBeNull();
    expect(h.plugin.configuring).toBe(false);
  });
});

describe('stream contexts', () => {
  it('get ids 2, 3, ... after the root and never reuse one', async () => {
    const h = await harness('abi-lifecycle');
    const a = h.stream().ctx;
    const b = h.stream().ctx;
    expect([a.id, b.id]).toEqual([2, 3]);
    h.plugin.finishStream(a);
    const c = h.stream().ctx;
    expect(c.id).toBe(4);
    const creates = h.mem.trace(3).filter((t) => t[0] === CREATE);
    expect(creates).toEqual([
      [CREATE, 1, 0],
      [CREATE, 2, 1],
      [CREATE, 3, 1],
      [CREATE, 4, 1],
    ]);
  });

  it('finishStream calls on_log, on_done, on_delete once each, in that order; again is a no-op', async () => {
    const h = await harness('abi-lifecycle');
    const { ctx } = h.stream();
    const before = h.mem.trace(3).length;
    h.plugin.finishStream(ctx);
    expect(h.mem.trace(3).slice(before)).toEqual([
      [LOG, 2, 0],
      [DONE, 2, 0],
      [DELETE, 2, 0],
    ]);
    expect(ctx.deleted).toBe(true);
    expect(h.vm.contexts.has(2)).toBe(false);
    h.plugin.finishStream(ctx);
    expect(h.mem.trace(3).length).toBe(before + 3);
  });
});

describe('plugins sharing a VM', () => {
  const sets: PluginSet[] = [];
  afterEach(() => {
    for (const s of sets.splice(0)) s.stop();
  });

  async function specs(vmIds: [string, string]): Promise<PluginSpec[]> {
    const modulePath = await fixtureFile('abi-plugin-identity');
    const base = { modulePath, environ: [], configuration: Buffer.alloc(0), vmConfiguration: Buffer.alloc(0), logLevel: LogLevel.TRACE, failOpen: false };
    return [
      { ...base, name: 'alpha', rootId: 'root-a', vmId: vmIds[0] },
      { ...base, name: 'beta', rootId: 'root-b', vmId: vmIds[1] },
    ];
  }

  it('same module and vm_id: one instance, roots 1 and 2, each sees its own identity', async () => {
    const { logger, lines } = memoryLogger();
    const set = new PluginSet(await specs(['shared', 'shared']), new CallServices(), logger);
    sets.push(set);
    set.start();
    const alpha = set.get('alpha')!;
    const beta = set.get('beta')!;
    expect(alpha.vm).toBe(beta.vm);
    expect([alpha.root.id, beta.root.id]).toEqual([1, 2]);
    const guest = lines.filter((l) => l.wasm !== undefined).map((l) => [l.wasm!.context_id, l['plugin'], l.msg]);
    expect(guest).toEqual([
      [1, 'alpha', 'alpha'],
      [1, 'alpha', 'root-a'],
      [1, 'alpha', 'shared'],
      [2, 'beta', 'beta'],
      [2, 'beta', 'root-b'],
      [2, 'beta', 'shared'],
    ]);
  });

  it('different vm_ids: separate instances, each with root 1', async () => {
    const set = new PluginSet(await specs(['one', 'two']), new CallServices(), memoryLogger().logger);
    sets.push(set);
    set.start();
    const alpha = set.get('alpha')!;
    const beta = set.get('beta')!;
    expect(alpha.vm).not.toBe(beta.vm);
    expect([alpha.root.id, beta.root.id]).toEqual([1, 1]);
  });
});
