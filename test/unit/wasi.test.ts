import { describe, expect, it } from 'vitest';
import { GuestMemory } from '../../src/abi/memory.ts';
import { LogLevel } from '../../src/abi/types.ts';
import {
  createWasiImports,
  MAX_LOGGED_WRITE_BYTES,
  ProcExitError,
  WASI_FUNCTION_NAMES,
  WASI_MODULE_NAMES,
  WASI_SIGNATURES,
  WasiErrno,
  type WasiHost,
} from '../../src/abi/wasi.ts';
import { fixtureWasm, instantiateWat, watToWasm } from '../helpers/wat.ts';

const PAGE = 65536;

interface Harness {
  wasi: ReturnType<typeof createWasiImports>;
  memory: GuestMemory;
  logs: Array<[LogLevel, string]>;
  bytes(): Buffer;
  u32(ptr: number): number;
  u64(ptr: number): bigint;
}

function harness(options: Partial<Omit<WasiHost, 'memory' | 'log'>> & { pages?: number } = {}): Harness {
  const memory = new GuestMemory();
  memory.attach(new WebAssembly.Memory({ initial: options.pages ?? 1 }));
  const logs: Array<[LogLevel, string]> = [];
  const host: WasiHost = {
    memory,
    log: (level, message) => logs.push([level, message]),
    environ: options.environ ?? [],
    ...(options.monotonicNs ? { monotonicNs: options.monotonicNs } : {}),
    ...(options.realtimeNs ? { realtimeNs: options.realtimeNs } : {}),
  };
  return {
    wasi: createWasiImports(host),
    memory,
    logs,
    bytes: () => memory.bytes,
    u32: (ptr) => memory.view.getUint32(ptr, true),
    u64: (ptr) => memory.view.getBigUint64(ptr, true),
  };
}

/** Writes iovecs at `at` for each (ptr, len) and returns `at`. */
function iovecs(h: Harness, at: number, list: Array<[number, number]>): number {
  list.forEach(([ptr, len], i) => {
    h.memory.view.setUint32(at + i * 8, ptr, true);
    h.memory.view.setUint32(at + i * 8 + 4, len, true);
  });
  return at;
}

function put(h: Harness, at: number, text: string | Uint8Array): number {
  const data = typeof text === 'string' ? Buffer.from(text) : text;
  h.bytes().set(data, at);
  return data.length;
}

const zeroArgs = (name: string): Array<number | bigint> =>
  WASI_SIGNATURES[name]!.params.map((type) => (type === 'i64' ? 0n : 0));

describe('fd_write', () => {
  it('logs fd 1 at INFO with one trailing newline stripped and reports the byte count', () => {
    const h = harness();
    const len = put(h, 100, 'hello\n');
    iovecs(h, 0, [[100, len]]);
    h.memory.view.setUint32(50, 0xdeadbeef, true);
    expect(h.wasi.fd_write!(1, 0, 1, 50)).toBe(WasiErrno.SUCCESS);
    expect(h.logs).toEqual([[LogLevel.INFO, 'hello']]);
    expect(h.u32(50)).toBe(6);
  });

  it('logs fd 2 at ERROR', () => {
    const h = harness();
    const len = put(h, 100, 'boom');
    iovecs(h, 0, [[100, len]]);
    expect(h.wasi.fd_write!(2, 0, 1, 50)).toBe(WasiErrno.SUCCESS);
    expect(h.logs).toEqual([[LogLevel.ERROR, 'boom']]);
    expect(h.u32(50)).toBe(4);
  });

  it('strips only one trailing newline', () => {
    const h = harness();
    const len = put(h, 100, 'a\n\n');
    iovecs(h, 0, [[100, len]]);
    expect(h.wasi.fd_write!(1, 0, 1, 50)).toBe(WasiErrno.SUCCESS);
    expect(h.logs).toEqual([[LogLevel.INFO, 'a\n']]);
    expect(h.u32(50)).toBe(3);
  });

  it('joins several iovecs before decoding, even when a UTF-8 sequence spans two of them', () => {
    const h = harness();
    const word = Buffer.from('wörld\n'); // ö is c3 b6
    put(h, 100, 'hel');
    put(h, 200, 'lo ');
    put(h, 300, word.subarray(0, 2)); // "w" + first byte of ö
    put(h, 400, word.subarray(2));
    // An empty iovec may point anywhere, even outside memory.
    iovecs(h, 0, [[100, 3], [0xffff_fff0, 0], [200, 3], [300, 2], [400, word.length - 2]]);
    expect(h.wasi.fd_write!(1, 0, 5, 50)).toBe(WasiErrno.SUCCESS);
    expect(h.logs).toEqual([[LogLevel.INFO, 'hello wörld']]);
    expect(h.u32(50)).toBe(6 + word.length);
  });

  it('reuses its scratch space across multi-iovec writes without mixing messages', () => {
    const h = harness();
    put(h, 100, 'long message part one, ');
    put(h, 200, 'part two\n');
    iovecs(h, 0, [[100, 23], [200, 9]]);
    h.wasi.fd_write!(1, 0, 2, 50);
    put(h, 300, 'x');
    put(h, 310, 'y');
    iovecs(h, 0, [[300, 1], [310, 1]]);
    h.wasi.fd_write!(2, 0, 2, 50);
    expect(h.logs).toEqual([
      [LogLevel.INFO, 'long message part one, part two'],
      [LogLevel.ERROR, 'xy'],
    ]);
    expect(h.u32(50)).toBe(2);
  });

  it('writes nothing to the log for an empty write but still succeeds', () => {
    const h = harness();
    h.memory.view.setUint32(50, 99, true);
    expect(h.wasi.fd_write!(1, 0, 0, 50)).toBe(WasiErrno.SUCCESS);
    iovecs(h, 0, [[100, 0]]);
    expect(h.wasi.fd_write!(1, 0, 1, 54)).toBe(WasiErrno.SUCCESS);
    expect(h.logs).toEqual([]);
    expect(h.u32(50)).toBe(0);
    expect(h.u32(54)).toBe(0);
  });

  it('answers BADF for any fd other than 1 and 2, logging nothing', () => {
    const h = harness();
    const len = put(h, 100, 'x');
    iovecs(h, 0, [[100, len]]);
    h.memory.view.setUint32(50, 77, true);
    expect(h.wasi.fd_write!(5, 0, 1, 50)).toBe(WasiErrno.BADF);
    expect(h.wasi.fd_write!(0, 0, 1, 50)).toBe(WasiErrno.BADF);
    expect(h.wasi.fd_write!(-1, 0, 1, 50)).toBe(WasiErrno.BADF);
    expect(h.logs).toEqual([]);
    expect(h.u32(50)).toBe(77);
  });

  it('answers FAULT for bad pointers without throwing or logging', () => {
    const h = harness();
    const len = put(h, 100, 'x');
    iovecs(h, 0, [[100, len]]);
    iovecs(h, 16, [[PAGE - 2, 4]]); // buffer runs past the end
    iovecs(h, PAGE - 4, []); // iovec array itself straddles the end
    expect(h.wasi.fd_write!(1, 16, 1, 50)).toBe(WasiErrno.FAULT);
    expect(h.wasi.fd_write!(1, PAGE - 4, 1, 50)).toBe(WasiErrno.FAULT);
    expect(h.wasi.fd_write!(1, -8, 1, 50)).toBe(WasiErrno.FAULT); // 0xfffffff8 as a signed i32
    expect(h.wasi.fd_write!(1, 0, 0x2000_0000, 50)).toBe(WasiErrno.FAULT); // 4 GiB of iovecs
    expect(h.wasi.fd_write!(1, 0, 1, PAGE - 3)).toBe(WasiErrno.FAULT); // nwritten out of bounds
    expect(h.logs).toEqual([]);
  });

  it('logs at most MAX_LOGGED_WRITE_BYTES of one write and says how much was left out', () => {
    const h = harness({ pages: 2 });
    h.bytes().fill(0x61, PAGE, 2 * PAGE); // 64 KiB of 'a'
    const count = MAX_LOGGED_WRITE_BYTES / PAGE + 1;
    iovecs(h, 0, Array.from({ length: count }, (): [number, number] => [PAGE, PAGE]));
    expect(h.wasi.fd_write!(1, 0, count, 4000)).toBe(WasiErrno.SUCCESS);
    expect(h.u32(4000)).toBe(count * PAGE);
    expect(h.logs).toHaveLength(1);
    const [level, message] = h.logs[0]!;
    expect(level).toBe(LogLevel.INFO);
    expect(message).toBe(`${'a'.repeat(MAX_LOGGED_WRITE_BYTES)} …[${PAGE} more bytes not logged]`);
  });

  it('refuses with INVAL a write whose total does not fit in nwritten', () => {
    const count = PAGE + 1; // 65537 × 64 KiB > 4 GiB
    const h = harness({ pages: 9 });
    const view = h.memory.view;
    for (let i = 0; i < count; i++) {
      view.setUint32(i * 8, 0, true);
      view.setUint32(i * 8 + 4, PAGE, true);
    }
    expect(h.wasi.fd_write!(1, 0, count, 8 * PAGE)).toBe(WasiErrno.INVAL);
    expect(h.logs).toEqual([]);
  });

  it('fd_pwrite behaves like fd_write on stdio and ignores its i64 offset', () => {
    const h = harness();
    const len = put(h, 100, 'pw\n');
    iovecs(h, 0, [[100, len]]);
    expect(h.wasi.fd_pwrite!(2, 0, 1, 12345n, 50)).toBe(WasiErrno.SUCCESS);
    expect(h.wasi.fd_pwrite!(3, 0, 1, 0n, 50)).toBe(WasiErrno.BADF);
    expect(h.logs).toEqual([[LogLevel.ERROR, 'pw']]);
    expect(h.u32(50)).toBe(3);
  });
});

describe('clocks', () => {
  const injected = () =>
    harness({ monotonicNs: () => 123_456_789n, realtimeNs: () => 1_700_000_000_123_456_789n });

  it('serves the injected realtime and monotonic clocks as u64 little-endian', () => {
    const h = injected();
    expect(h.wasi.clock_time_get!(0, 1000n, 8)).toBe(WasiErrno.SUCCESS);
    expect(h.u64(8)).toBe(1_700_000_000_123_456_789n);
    expect(h.wasi.clock_time_get!(1, 0n, 21)).toBe(WasiErrno.SUCCESS); // unaligned is fine
    expect(h.u64(21)).toBe(123_456_789n);
  });

  it('answers NOTSUP for CPU-time and unknown clocks, leaving memory untouched', () => {
    const h = injected();
    h.memory.view.setBigUint64(8, 42n, true);
    for (const id of [2, 3, 99, -1]) expect(h.wasi.clock_time_get!(id, 0n, 8)).toBe(WasiErrno.NOTSUP);
    expect(h.u64(8)).toBe(42n);
  });

  it('answers FAULT when the result pointer is out of bounds', () => {
    const h = injected();
    expect(h.wasi.clock_time_get!(1, 0n, PAGE - 7)).toBe(WasiErrno.FAULT);
    expect(h.wasi.clock_time_get!(0, 0n, -1)).toBe(WasiErrno.FAULT);
  });

  it('defaults to real clocks: wall time near Date.now and a monotonic clock that advances', () => {
    const h = harness();
    const before = BigInt(Date.now()) * 1_000_000n;
    expect(h.wasi.clock_time_get!(0, 0n, 8)).toBe(WasiErrno.SUCCESS);
    const after = BigInt(Date.now()) * 1_000_000n;
    expect(h.u64(8) >= before && h.u64(8) <= after).toBe(true);
    h.wasi.clock_time_get!(1, 0n, 16);
    const first = h.u64(16);
    h.wasi.clock_time_get!(1, 0n, 16);
    expect(h.u64(16) >= first).toBe(true);
    expect(first > 0n).toBe(true);
  });

  it('clock_res_get reports 1 ns for both clocks and NOTSUP otherwise', () => {
    const h = harness();
    expect(h.wasi.clock_res_get!(0, 8)).toBe(WasiErrno.SUCCESS);
    expect(h.u64(8)).toBe(1n);
    expect(h.wasi.clock_res_get!(1, 16)).toBe(WasiErrno.SUCCESS);
    expect(h.u64(16)).toBe(1n);
    expect(h.wasi.clock_res_get!(2, 24)).toBe(WasiErrno.NOTSUP);
    expect(h.wasi.clock_res_get!(1, PAGE)).toBe(WasiErrno.FAULT);
  });
});

describe('random_get', () => {
  it('fills exactly the requested bytes', () => {
    const h = harness();
    h.bytes().fill(0xaa, 0, 200);
    expect(h.wasi.random_get!(100, 32)).toBe(WasiErrno.SUCCESS);
    const filled = h.bytes().subarray(100, 132);
    // 32 random bytes equal to the 0xaa guard pattern has probability 2^-256.
    expect(filled.equals(Buffer.alloc(32, 0xaa))).toBe(false);
    expect(h.bytes().subarray(0, 100).every((b) => b === 0xaa)).toBe(true);
    expect(h.bytes().subarray(132, 200).every((b) => b === 0xaa)).toBe(true);
  });

  it('serves the 64 KiB maximum and refuses one byte more with INVAL', () => {
    const h = harness({ pages: 2 });
    expect(h.wasi.random_get!(0, 65536)).toBe(WasiErrno.SUCCESS);
    expect(h.wasi.random_get!(0, 65537)).toBe(WasiErrno.INVAL);
    expect(h.wasi.random_get!(0, -1)).toBe(WasiErrno.INVAL); // 0xffffffff
  });

  it('succeeds for zero bytes wherever the pointer is, and faults for an out-of-bounds buffer', () => {
    const h = harness();
    expect(h.wasi.random_get!(0, 0)).toBe(WasiErrno.SUCCESS);
    expect(h.wasi.random_get!(PAGE * 4, 0)).toBe(WasiErrno.SUCCESS);
    expect(h.wasi.random_get!(PAGE - 8, 16)).toBe(WasiErrno.FAULT);
  });
});

describe('environ and args', () => {
  it('reports count and buffer size of KEY=VALUE\\0 entries in UTF-8', () => {
    const h = harness({ environ: ['A=1', 'PATH=/x', 'UNI=ü'] });
    expect(h.wasi.environ_sizes_get!(0, 4)).toBe(WasiErrno.SUCCESS);
    expect(h.u32(0)).toBe(3);
    expect(h.u32(4)).toBe(4 + 8 + 7);
  });

  it('writes a u32 pointer array into the NUL-separated buffer', () => {
    const h = harness({ environ: ['A=1', 'PATH=/x', 'UNI=ü'] });
    h.bytes().fill(0xff, 100, 300);
    expect(h.wasi.environ_get!(100, 200)).toBe(WasiErrno.SUCCESS);
    expect([h.u32(100), h.u32(104), h.u32(108)]).toEqual([200, 204, 212]);
    expect(h.u32(112)).toBe(0xffff_ffff); // nothing beyond the array
    expect(h.bytes().subarray(200, 219).equals(Buffer.from('A=1\0PATH=/x\0UNI=ü\0'))).toBe(true);
    expect(h.bytes()[219]).toBe(0xff);
  });

  it('never exposes process.env and handles an empty environment', () => {
    const h = harness();
    h.memory.view.setUint32(0, 9, true);
    h.memory.view.setUint32(4, 9, true);
    expect(h.wasi.environ_sizes_get!(0, 4)).toBe(WasiErrno.SUCCESS);
    expect([h.u32(0), h.u32(4)]).toEqual([0, 0]);
    expect(h.wasi.environ_get!(PAGE, PAGE)).toBe(WasiErrno.SUCCESS);
  });

  it('answers FAULT before writing anything when either region is out of bounds', () => {
    const h = harness({ environ: ['A=1', 'B=2'] });
    expect(h.wasi.environ_sizes_get!(0, PAGE - 2)).toBe(WasiErrno.FAULT);
    h.bytes().fill(0xff, 0, 16);
    expect(h.wasi.environ_get!(0, PAGE - 4)).toBe(WasiErrno.FAULT); // buffer needs 8 bytes
    expect(h.u32(0)).toBe(0xffff_ffff);
    expect(h.wasi.environ_get!(PAGE - 4, 16)).toBe(WasiErrno.FAULT); // array needs 8 bytes
    expect(h.bytes()[16]).toBe(0);
  });

  it('args_sizes_get writes 0 and 0; args_get succeeds without writing', () => {
    const h = harness();
    h.bytes().fill(0xff, 0, 16);
    expect(h.wasi.args_sizes_get!(0, 4)).toBe(WasiErrno.SUCCESS);
    expect([h.u32(0), h.u32(4)]).toEqual([0, 0]);
    expect(h.wasi.args_get!(8, 12)).toBe(WasiErrno.SUCCESS);
    expect([h.u32(8), h.u32(12)]).toEqual([0xffff_ffff, 0xffff_ffff]);
    expect(h.wasi.args_sizes_get!(PAGE, 4)).toBe(WasiErrno.FAULT);
  });
});

describe('proc, poll and stubs', () => {
  it('proc_exit throws ProcExitError with the (unsigned) code', () => {
    const h = harness();
    let caught: unknown;
    try {
      h.wasi.proc_exit!(3);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ProcExitError);
    expect((caught as ProcExitError).code).toBe(3);
    expect((caught as ProcExitError).message).toBe('filter called proc_exit(3); a Proxy-Wasm filter cannot exit');
    expect(() => h.wasi.proc_exit!(-1)).toThrow('proc_exit(4294967295)');
  });

  it('poll_oneoff returns at once with zero events', () => {
    const h = harness();
    h.memory.view.setUint32(96, 7, true);
    const start = process.hrtime.bigint();
    // A 10 s clock subscription would block a real host; this one must not wait.
    expect(h.wasi.poll_oneoff!(160, 256, 1, 96)).toBe(WasiErrno.SUCCESS);
    expect(process.hrtime.bigint() - start < 100_000_000n).toBe(true);
    expect(h.u32(96)).toBe(0);
    expect(h.wasi.poll_oneoff!(160, 256, 1, PAGE - 1)).toBe(WasiErrno.FAULT);
  });

  it('fd_prestat_get answers BADF so a Go preopen scan stops cleanly', () => {
    const h = harness();
    expect(h.wasi.fd_prestat_get!(3, 0)).toBe(WasiErrno.BADF);
  });

  it('fd_fdstat_get describes stdio as write-only and rejects other fds', () => {
    const h = harness();
    h.bytes().fill(0xff, 0, 40);
    expect(h.wasi.fd_fdstat_get!(1, 8)).toBe(WasiErrno.SUCCESS);
    const stat = h.bytes().subarray(8, 32);
    expect(stat.readUInt8(0)).toBe(0); // filetype
    expect(stat.readUInt16LE(2)).toBe(0); // flags
    expect(stat.readBigUInt64LE(8)).toBe(64n); // rights base: FD_WRITE
    expect(stat.readBigUInt64LE(16)).toBe(0n); // rights inheriting
    expect(h.bytes()[32]).toBe(0xff);
    expect(h.wasi.fd_fdstat_get!(0, 8)).toBe(WasiErrno.BADF);
    expect(h.wasi.fd_fdstat_get!(2, PAGE - 8)).toBe(WasiErrno.FAULT);
  });

  it('fd_seek and fd_close succeed and log at debug only', () => {
    const h = harness();
    h.memory.view.setBigUint64(0, 5n, true);
    expect(h.wasi.fd_seek!(1, 10n, 0, 0)).toBe(WasiErrno.SUCCESS);
    expect(h.u64(0)).toBe(5n);
    expect(h.wasi.fd_close!(7)).toBe(WasiErrno.SUCCESS);
    expect(h.logs.map(([level]) => level)).toEqual([LogLevel.DEBUG, LogLevel.DEBUG]);
  });

  it('answers the remaining fd calls the way cpp-host does', () => {
    const h = harness();
    const w = h.wasi;
    expect(w.fd_read!(0, 0, 0, 0)).toBe(WasiErrno.NOSYS);
    expect(w.fd_pread!(0, 0, 0, 0n, 0)).toBe(WasiErrno.NOSYS);
    expect(w.fd_fdstat_set_flags!(1, 4)).toBe(WasiErrno.NOSYS);
    expect(w.fd_prestat_dir_name!(3, 0, 10)).toBe(WasiErrno.NOSYS);
    expect(w.fd_filestat_get!(1, 0)).toBe(WasiErrno.BADF);
    for (const fd of [1, 2]) {
      expect(w.fd_fdstat_set_rights!(fd, 0n, 0n)).toBe(WasiErrno.SUCCESS);
      expect(w.fd_filestat_set_size!(fd, 0n)).toBe(WasiErrno.SUCCESS);
      expect(w.fd_filestat_set_times!(fd, 0n, 0n, 0)).toBe(WasiErrno.SUCCESS);
      expect(w.fd_allocate!(fd, 0n, 10n)).toBe(WasiErrno.SUCCESS);
      expect(w.fd_datasync!(fd)).toBe(WasiErrno.SUCCESS);
      expect(w.fd_sync!(fd)).toBe(WasiErrno.SUCCESS);
    }
    expect(w.fd_fdstat_set_rights!(3, 0n, 0n)).toBe(WasiErrno.BADF);
    expect(w.fd_filestat_set_size!(0, 0n)).toBe(WasiErrno.BADF);
    expect(w.fd_filestat_set_times!(4, 0n, 0n, 0)).toBe(WasiErrno.BADF);
    expect(w.fd_allocate!(3, 0n, 0n)).toBe(WasiErrno.BADF);
    expect(w.fd_datasync!(3)).toBe(WasiErrno.BADF);
    expect(w.fd_sync!(3)).toBe(WasiErrno.BADF);
    expect(w.fd_advise!(42, 0n, 0n, 0)).toBe(WasiErrno.SUCCESS);
    expect(w.fd_renumber!(1, 2)).toBe(WasiErrno.NOTSUP);
    expect(w.fd_renumber!(1, 3)).toBe(WasiErrno.BADF);

    h.memory.view.setBigUint64(0, 9n, true);
    expect(w.fd_tell!(2, 0)).toBe(WasiErrno.SUCCESS);
    expect(h.u64(0)).toBe(0n);
    expect(w.fd_tell!(3, 0)).toBe(WasiErrno.BADF);
    expect(w.fd_tell!(1, PAGE - 4)).toBe(WasiErrno.FAULT);

    h.memory.view.setUint32(8, 9, true);
    expect(w.fd_readdir!(3, 100, 64, 0n, 8)).toBe(WasiErrno.NOTDIR);
    expect(h.u32(8)).toBe(0);
  });

  it('path calls find nothing (NOENT for open, NOTSUP for the rest)', () => {
    const h = harness();
    const w = h.wasi;
    expect(w.path_open!(3, 0, 0, 4, 0, 0n, 0n, 0, 0)).toBe(WasiErrno.NOENT);
    for (const name of [
      'path_create_directory',
      'path_filestat_get',
      'path_filestat_set_times',
      'path_link',
      'path_remove_directory',
      'path_rename',
      'path_symlink',
      'path_unlink_file',
    ]) {
      expect(w[name]!(...zeroArgs(name)), name).toBe(WasiErrno.NOTSUP);
    }
    h.memory.view.setUint32(12, 9, true);
    expect(w.path_readlink!(3, 0, 4, 100, 10, 12)).toBe(WasiErrno.NOTSUP);
    expect(h.u32(12)).toBe(0);
  });

  it('socket calls zero their out-params and answer NOTSUP', () => {
    const h = harness();
    const w = h.wasi;
    h.bytes().fill(0xff, 0, 32);
    expect(w.sock_accept!(3, 0, 0)).toBe(WasiErrno.NOTSUP);
    expect(h.u32(0)).toBe(0);
    expect(w.sock_recv!(3, 0, 0, 0, 8, 12)).toBe(WasiErrno.NOTSUP);
    expect(h.u32(8)).toBe(0);
    expect(h.memory.view.getUint16(12, true)).toBe(0);
    expect(h.memory.view.getUint16(14, true)).toBe(0xffff); // ro_flags is only 16 bits
    expect(w.sock_send!(3, 0, 0, 0, 16)).toBe(WasiErrno.NOTSUP);
    expect(h.u32(16)).toBe(0);
    expect(w.sock_shutdown!(3, 0)).toBe(WasiErrno.NOTSUP);
    expect(w.sock_recv!(3, 0, 0, 0, 8, PAGE - 1)).toBe(WasiErrno.FAULT);
  });

  it('proc_raise is NOSYS and sched_yield succeeds', () => {
    const h = harness();
    expect(h.wasi.proc_raise!(9)).toBe(WasiErrno.NOSYS);
    expect(h.wasi.sched_yield!()).toBe(WasiErrno.SUCCESS);
  });
});

describe('the table', () => {
  it('provides exactly WASI_FUNCTION_NAMES, the 46 preview1 functions', () => {
    const h = harness();
    expect(WASI_FUNCTION_NAMES).toHaveLength(46);
    expect(Object.keys(h.wasi).sort()).toEqual([...WASI_FUNCTION_NAMES].sort());
    for (const name of WASI_FUNCTION_NAMES) expect(typeof h.wasi[name], name).toBe('function');
  });

  it('declares i64 exactly where the witx does, and one i32 errno result except for proc_exit', () => {
    const i64At: Record<string, number[]> = {
      clock_time_get: [1],
      fd_advise: [1, 2],
      fd_allocate: [1, 2],
      fd_fdstat_set_rights: [1, 2],
      fd_filestat_set_size: [1],
      fd_filestat_set_times: [1, 2],
      fd_pread: [3],
      fd_pwrite: [3],
      fd_readdir: [3],
      fd_seek: [1],
      path_filestat_set_times: [4, 5],
      path_open: [5, 6],
    };
    for (const name of WASI_FUNCTION_NAMES) {
      const { params, results } = WASI_SIGNATURES[name]!;
      const found = params.flatMap((type, i) => (type === 'i64' ? [i] : []));
      expect(found, name).toEqual(i64At[name] ?? []);
      expect(results, name).toEqual(name === 'proc_exit' ? [] : ['i32']);
    }
    expect(WASI_SIGNATURES.path_open!.params).toHaveLength(9);
    expect(WASI_SIGNATURES.path_link!.params).toHaveLength(7);
    expect(WASI_SIGNATURES.sock_recv!.params).toHaveLength(6);
    expect(WASI_SIGNATURES.sched_yield!.params).toHaveLength(0);
  });

  it('returns a number from every function but proc_exit, even with all-zero arguments', () => {
    const h = harness();
    for (const name of WASI_FUNCTION_NAMES) {
      if (name === 'proc_exit') continue;
      expect(typeof h.wasi[name]!(...zeroArgs(name)), name).toBe('number');
    }
  });
});

describe('through a real module', () => {
  async function load(host: Partial<Omit<WasiHost, 'memory' | 'log'>> = {}) {
    const memory = new GuestMemory();
    const logs: Array<[LogLevel, string]> = [];
    const wasi = createWasiImports({
      memory,
      log: (level, message) => logs.push([level, message]),
      environ: host.environ ?? [],
      ...(host.monotonicNs ? { monotonicNs: host.monotonicNs } : {}),
      ...(host.realtimeNs ? { realtimeNs: host.realtimeNs } : {}),
    });
    const module = await WebAssembly.compile(await fixtureWasm('wasi-calls'));
    const instance = await WebAssembly.instantiate(module, {
      wasi_snapshot_preview1: wasi,
      wasi_unstable: wasi,
    });
    memory.attach(instance.exports.memory as WebAssembly.Memory);
    const exports = instance.exports as Record<string, (...args: any[]) => any>;
    return { exports, logs, memory };
  }

  it('routes fd_write from both module names to the log', async () => {
    const { exports, logs, memory } = await load();
    expect(exports.hello!(1)).toBe(0);
    expect(memory.readU32(8)).toBe(16);
    expect(exports.hello_unstable!(2)).toBe(0);
    expect(exports.hello_pwrite!(1, 1n << 40n)).toBe(0);
    expect(exports.hello!(7)).toBe(WasiErrno.BADF);
    expect(exports.fd_write!(1, PAGE - 4, 1, 8)).toBe(WasiErrno.FAULT);
    expect(logs).toEqual([
      [LogLevel.INFO, 'hello from wasm'],
      [LogLevel.ERROR, 'hello from wasm'],
      [LogLevel.INFO, 'hello from wasm'],
    ]);
  });

  it('passes the i64 precision as a BigInt and returns clock values as i64', async () => {
    const { exports } = await load({ monotonicNs: () => 5_000_000_001n, realtimeNs: () => 1n << 62n });
    expect(exports.now!(1, 1000n)).toBe(5_000_000_001n);
    expect(exports.now!(0, -1n)).toBe(1n << 62n);
    expect(exports.now!(2, 0n)).toBe(-1n);
    expect(exports.clock_time_get!(3, 0n, 64)).toBe(WasiErrno.NOTSUP);
  });

  it('serves random bytes, the environment and empty args into module memory', async () => {
    const { exports, memory } = await load({ environ: ['GREETING=hi'] });
    expect(exports.random_get!(1024, 64)).toBe(0);
    expect(memory.bytes.subarray(1024, 1088).equals(Buffer.alloc(64))).toBe(false);
    expect(exports.random_get!(1024, 65537)).toBe(WasiErrno.INVAL);
    expect(exports.environ_sizes_get!(2000, 2004)).toBe(0);
    expect([memory.readU32(2000), memory.readU32(2004)]).toEqual([1, 12]);
    expect(exports.environ_get!(2008, 2100)).toBe(0);
    expect(memory.readU32(2008)).toBe(2100);
    expect(memory.utf8(2100, 12)).toBe('GREETING=hi\0');
    expect(exports.args_sizes_get!(2200, 2204)).toBe(0);
    expect([memory.readU32(2200), memory.readU32(2204)]).toEqual([0, 0]);
  });

  it('answers the Go start-up probes: prestat BADF, poll_oneoff 0 events, path_open NOENT', async () => {
    const { exports, memory } = await load();
    expect(exports.prestat!(3)).toBe(WasiErrno.BADF);
    memory.writeU32(96, 5);
    expect(exports.sleep!()).toBe(0);
    expect(memory.readU32(96)).toBe(0);
    expect(exports.open!()).toBe(WasiErrno.NOENT);
  });

  it('lets ProcExitError propagate out of the wasm call', async () => {
    const { exports } = await load();
    let caught: unknown;
    try {
      exports.exit!(42);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ProcExitError);
    expect((caught as ProcExitError).code).toBe(42);
  });

  it('links a module importing every preview1 function under both module names', async () => {
    const imports: string[] = [];
    const wrappers: string[] = [];
    for (const moduleName of WASI_MODULE_NAMES) {
      for (const name of WASI_FUNCTION_NAMES) {
        const { params, results } = WASI_SIGNATURES[name]!;
        const id = `$${moduleName}.${name}`;
        const paramList = params.length ? ` (param ${params.join(' ')})` : '';
        const resultList = results.length ? ` (result ${results.join(' ')})` : '';
        imports.push(`(import "${moduleName}" "${name}" (func ${id}${paramList}${resultList}))`);
        if (moduleName === 'wasi_snapshot_preview1') {
          const args = params.map((_, i) => `(local.get ${i})`).join(' ');
          wrappers.push(`(func (export "${name}")${paramList}${resultList} (call ${id} ${args}))`);
        }
      }
    }
    const source = `(module\n${imports.join('\n')}\n(memory (export "memory") 1)\n${wrappers.join('\n')}\n)`;
    const memory = new GuestMemory();
    const wasi = createWasiImports({ memory, log: () => {}, environ: [] });
    const instance = await instantiateWat(source, { wasi_snapshot_preview1: wasi, wasi_unstable: wasi });
    memory.attach(instance.exports.memory as WebAssembly.Memory);

    const module = await WebAssembly.compile(await watToWasm(source, 'all-wasi.wat'));
    expect(WebAssembly.Module.imports(module)).toHaveLength(2 * 46);

    // Every wrapper calls through with the declared types (BigInt for i64) and gets an errno back.
    const exported = instance.exports as Record<string, (...args: any[]) => unknown>;
    for (const name of WASI_FUNCTION_NAMES) {
      if (name === 'proc_exit') continue;
      expect(typeof exported[name]!(...zeroArgs(name)), name).toBe('number');
    }
    expect(() => exported.proc_exit!(0)).toThrow(ProcExitError);
  });
});
