// Logging and time: level checks, the plugin's log level threshold, where guest messages land
// in the proxy's log, proxy_get_log_level, and the u64 wall clock (reference §3.2, §4.1).

import { afterEach, describe, expect, it } from 'vitest';
import { PluginSet } from '../../src/abi/plugin-set.ts';
import { LogLevel, Status } from '../../src/abi/types.ts';
import { CallServices, compileFixture, fixtureFile, harness, harnessFor, memoryLogger, PINO, SCRATCH, type Harness } from './helpers.ts';

function log(h: Harness, ctx: { id: number } | null, level: number, message: string): number {
  const [ptr] = h.mem.write(SCRATCH, Buffer.from(message, 'utf8'));
  return h.call('log', ctx, level, ptr, Buffer.byteLength(message));
}

describe('proxy_log', () => {
  it('maps the six levels to pino levels under the wasm key', async () => {
    const h = await harness('abi-logging');
    const { ctx } = h.stream();
    for (let level = LogLevel.TRACE; level <= LogLevel.CRITICAL; level++) expect(log(h, ctx, level, `at ${level}`)).toBe(Status.OK);
    const lines = h.lines.filter((l) => l.msg.startsWith('at '));
    expect(lines.map((l) => [l.level, l.msg, l.wasm])).toEqual([
      [PINO.trace, 'at 0', { context_id: ctx.id }],
      [PINO.debug, 'at 1', { context_id: ctx.id }],
      [PINO.info, 'at 2', { context_id: ctx.id }],
      [PINO.warn, 'at 3', { context_id: ctx.id }],
      [PINO.error, 'at 4', { context_id: ctx.id }],
      [PINO.fatal, 'at 5', { context_id: ctx.id }],
    ]);
  });

  it('answers BAD_ARGUMENT for level > 5 and logs nothing', async () => {
    const h = await harness('abi-logging');
    const count = h.lines.length;
    expect(log(h, h.plugin.root, 6, 'nope')).toBe(Status.BAD_ARGUMENT);
    expect(log(h, h.plugin.root, -1, 'nope')).toBe(Status.BAD_ARGUMENT);
    expect(h.lines.length).toBe(count);
  });

  it('drops messages below the plugin log level (still OK)', async () => {
    const h = await harness('abi-logging', { config: { logLevel: LogLevel.WARN } });
    const { ctx } = h.stream();
    expect(log(h, ctx, LogLevel.DEBUG, 'quiet')).toBe(Status.OK);
    expect(log(h, ctx, LogLevel.INFO, 'quiet too')).toBe(Status.OK);
    expect(log(h, ctx, LogLevel.WARN, 'loud')).toBe(Status.OK);
    expect(log(h, ctx, LogLevel.ERROR, 'louder')).toBe(Status.OK);
    expect(h.guestLogs()).toEqual(['initializing', 'vm started', 'loud', 'louder']);
  });

  it('decodes the message as UTF-8', async () => {
    const h = await harness('abi-logging');
    expect(log(h, h.plugin.root, LogLevel.INFO, 'héllo → wörld')).toBe(Status.OK);
    expect(h.guestLogs().at(-1)).toBe('héllo → wörld');
  });

  it('logs 1 MiB of a longer message and says how much was left out, as a WASI write', async () => {
    // The fixture with 32 pages of memory instead of 1, to hold the message.
    const h = harnessFor(await compileFixture('abi-logging', (source) => source.replace('(memory (export "memory") 1)', '(memory (export "memory") 32)')));
    const message = 'm'.repeat(1024 * 1024 + 10);
    expect(log(h, h.plugin.root, LogLevel.INFO, message)).toBe(Status.OK);
    expect(h.guestLogs().at(-1)).toBe(`${'m'.repeat(1024 * 1024)} …[10 more bytes not logged]`);
  });

  it('logs from _initialize (no context yet) with context id 0 on the VM logger', async () => {
    const h = await harness('abi-logging');
    const first = h.lines.find((l) => l.msg === 'initializing')!;
    expect(first.wasm).toEqual({ context_id: 0 });
    expect(first['plugin']).toBeUndefined();
  });
});

describe('log bindings in a PluginSet', () => {
  const sets: PluginSet[] = [];
  afterEach(() => {
    for (const s of sets.splice(0)) s.stop();
  });

  it('guest messages carry the plugin binding and the context id under wasm', async () => {
    const modulePath = await fixtureFile('abi-logging');
    const { logger, lines } = memoryLogger();
    const set = new PluginSet(
      [{ modulePath, name: 'chatty', rootId: 'chatty-root', vmId: 'vm-7', environ: [], configuration: Buffer.alloc(0), vmConfiguration: Buffer.alloc(0), logLevel: LogLevel.INFO, failOpen: false }],
      new CallServices(),
      logger,
    );
    sets.push(set);
    set.start();
    const started = lines.find((l) => l.msg === 'vm started')!;
    expect(started).toMatchObject({ level: PINO.warn, plugin: 'chatty', root_id: 'chatty-root', vm_id: 'vm-7', wasm: { context_id: 1 } });
    const init = lines.find((l) => l.msg === 'initializing')!;
    expect(init).toMatchObject({ level: PINO.info, vm_id: 'vm-7', wasm: { context_id: 0 } });
    expect(init['plugin']).toBeUndefined();
  });
});

describe('proxy_get_log_level', () => {
  it.each([LogLevel.TRACE, LogLevel.INFO, LogLevel.CRITICAL])('returns the configured level %i', async (level) => {
    const h = await harness('abi-logging', { config: { logLevel: level } });
    h.mem.poisonOut();
    expect(h.call('get_log_level', h.plugin.root)).toBe(Status.OK);
    expect(h.mem.u32(0x08)).toBe(level);
  });
});

describe('proxy_get_current_time_nanoseconds', () => {
  it('writes a u64 of nanoseconds since the epoch, close to Date.now()', async () => {
    const h = await harness('abi-logging');
    h.mem.write(0x10, Buffer.alloc(8, 0xff));
    const before = BigInt(Date.now()) * 1_000_000n;
    expect(h.call('now', h.plugin.root)).toBe(Status.OK);
    const after = BigInt(Date.now()) * 1_000_000n;
    const ns = h.mem.u64(0x10);
    // Date.now() has millisecond resolution: allow one millisecond either side.
    expect(ns).toBeGreaterThanOrEqual(before - 1_000_000n);
    expect(ns).toBeLessThanOrEqual(after + 1_000_000n);
    expect(ns >> 32n).toBeGreaterThan(0n); // the high half was written too
  });

  it('moves forward between calls', async () => {
    const h = await harness('abi-logging');
    h.call('now', h.plugin.root);
    const first = h.mem.u64(0x10);
    await new Promise((r) => setTimeout(r, 5));
    h.call('now', h.plugin.root);
    expect(h.mem.u64(0x10) - first).toBeGreaterThanOrEqual(4_000_000n);
  });
});
