import { describe, expect, it } from 'vitest';
import { GuestMemory } from '../../src/abi/memory.ts';
import { Status } from '../../src/abi/types.ts';

const PAGE = 65536;

function setup(pages = 1): { mem: GuestMemory; wasm: WebAssembly.Memory; raw: () => Buffer } {
  const wasm = new WebAssembly.Memory({ initial: pages, maximum: 4 });
  const mem = new GuestMemory();
  mem.attach(wasm);
  return { mem, wasm, raw: () => Buffer.from(wasm.buffer) };
}

describe('GuestMemory bounds checks', () => {
  it('reports the memory size', () => {
    const { mem } = setup(1);
    expect(mem.byteLength).toBe(PAGE);
  });

  it('a detached GuestMemory has no bytes and rejects everything but (0,0)', () => {
    const mem = new GuestMemory();
    expect(mem.byteLength).toBe(0);
    expect(mem.inBounds(0, 0)).toBe(true);
    expect(mem.slice(0, 1)).toBeNull();
    expect(mem.readU32(0)).toBeUndefined();
  });

  it('inBounds accepts ranges ending exactly at the end and (0,0)', () => {
    const { mem } = setup();
    expect(mem.inBounds(0, 0)).toBe(true);
    expect(mem.inBounds(0, PAGE)).toBe(true);
    expect(mem.inBounds(PAGE, 0)).toBe(true);
    expect(mem.inBounds(PAGE - 4, 4)).toBe(true);
    expect(mem.inBounds(PAGE - 3, 4)).toBe(false);
    expect(mem.inBounds(PAGE + 1, 0)).toBe(false);
  });

  it('treats negative i32 arguments as large unsigned values', () => {
    const { mem } = setup();
    expect(mem.inBounds(-1, 0)).toBe(false);
    expect(mem.inBounds(0, -1)).toBe(false);
    expect(mem.inBounds(8, -8)).toBe(false); // would wrap to 0 in 32-bit arithmetic
    expect(mem.slice(-4, 4)).toBeNull();
    expect(mem.slice(0, -1)).toBeNull();
    expect(mem.copy(16, -16)).toBeNull();
    expect(mem.latin1(-1, 1)).toBeNull();
    expect(mem.utf8(4, 0xffffffff)).toBeNull();
    expect(mem.readU32(-4)).toBeUndefined();
    expect(mem.writeU32(-4, 1)).toBe(false);
    expect(mem.writeU64(-8, 1n)).toBe(false);
  });

  it('slice is a live view; copy is independent', () => {
    const { mem, raw } = setup();
    raw().write('hello', 100, 'latin1');
    const view = mem.slice(100, 5)!;
    const copy = mem.copy(100, 5)!;
    expect(view.toString()).toBe('hello');
    expect(copy.toString()).toBe('hello');
    raw()[100] = 0x4a; // 'J'
    expect(view.toString()).toBe('Jello');
    expect(copy.toString()).toBe('hello');
  });

  it('slice/copy/latin1/utf8 return null out of bounds', () => {
    const { mem } = setup();
    expect(mem.slice(PAGE - 2, 3)).toBeNull();
    expect(mem.copy(PAGE, 1)).toBeNull();
    expect(mem.latin1(PAGE - 1, 2)).toBeNull();
    expect(mem.utf8(PAGE - 1, 2)).toBeNull();
    expect(mem.slice(PAGE, 0)!.length).toBe(0);
  });

  it('latin1 keeps every byte; utf8 decodes multi-byte sequences', () => {
    const { mem, raw } = setup();
    raw().set([0xff, 0x80, 0x41], 10);
    expect(mem.latin1(10, 3)).toBe('\u00ff\u0080A');
    raw().set(Buffer.from('héllo', 'utf8'), 20);
    expect(mem.utf8(20, 6)).toBe('héllo');
  });

  it('latin1 reads every length byte for byte, on both sides of the inline decode', () => {
    const { mem, raw } = setup();
    const bytes = Buffer.from(Array.from({ length: 43 }, (_, i) => (i * 37 + 200) & 0xff));
    raw().set(bytes, 300);
    for (let n = 0; n <= 40; n++) expect(mem.latin1(300 + (n % 3), n), `${n} bytes`).toBe(bytes.latin1Slice(n % 3, (n % 3) + n));
  });

  it('copyOutLatin1 writes every length byte for byte, on both sides of the inline encode', () => {
    const { mem, raw } = setup();
    mem.allocate = () => 1000;
    for (let n = 1; n <= 40; n++) {
      const value = Buffer.from(Array.from({ length: n }, (_, i) => (i * 53 + n) & 0xff)).toString('latin1');
      expect(mem.copyOutLatin1(value, 0, 4)).toBe(Status.OK);
      expect(mem.readU32(0)).toBe(1000);
      expect(mem.readU32(4)).toBe(n);
      expect(raw().latin1Slice(1000, 1000 + n), `${n} bytes`).toBe(value);
    }
  });

  it('readU32/writeU32 are little-endian and bounds checked', () => {
    const { mem, raw } = setup();
    expect(mem.writeU32(8, 0x11223344)).toBe(true);
    expect(raw().subarray(8, 12).toString('hex')).toBe('44332211');
    expect(mem.readU32(8)).toBe(0x11223344);
    expect(mem.writeU32(12, -1)).toBe(true);
    expect(mem.readU32(12)).toBe(0xffffffff);
    expect(mem.writeU32(PAGE - 4, 7)).toBe(true);
    expect(mem.readU32(PAGE - 4)).toBe(7);
    expect(mem.writeU32(PAGE - 3, 7)).toBe(false);
    expect(mem.readU32(PAGE - 3)).toBeUndefined();
  });

  it('writeU64 writes 8 bytes little-endian and wraps negatives', () => {
    const { mem, raw } = setup();
    expect(mem.writeU64(16, 0x0102030405060708n)).toBe(true);
    expect(raw().subarray(16, 24).toString('hex')).toBe('0807060504030201');
    expect(mem.writeU64(24, -1n)).toBe(true);
    expect(raw().subarray(24, 32).toString('hex')).toBe('ffffffffffffffff');
    expect(mem.writeU64(PAGE - 8, 1n)).toBe(true);
    expect(mem.writeU64(PAGE - 7, 1n)).toBe(false);
  });

  it('writeBytes is bounds checked and writes nothing on failure', () => {
    const { mem, raw } = setup();
    expect(mem.writeBytes(50, Buffer.from('abc'))).toBe(true);
    expect(raw().subarray(50, 53).toString()).toBe('abc');
    expect(mem.writeBytes(PAGE - 2, Buffer.from('xyz'))).toBe(false);
    expect(raw().subarray(PAGE - 2).toString('hex')).toBe('0000');
  });

  it('refresh picks up growth; accessors see the new pages', () => {
    const { mem, wasm } = setup(1);
    wasm.grow(1);
    // until refreshed the old view is detached: every access fails safely
    expect(mem.byteLength).toBe(0);
    expect(mem.readU32(0)).toBeUndefined();
    mem.refresh();
    expect(mem.byteLength).toBe(2 * PAGE);
    expect(mem.writeU32(PAGE + 100, 42)).toBe(true);
    expect(Buffer.from(wasm.buffer).readUInt32LE(PAGE + 100)).toBe(42);
  });

  it('refresh without growth keeps the same views', () => {
    const { mem } = setup(1);
    const bytes = mem.bytes;
    mem.refresh();
    expect(mem.bytes).toBe(bytes);
  });
});

describe('GuestMemory.copyOut', () => {
  const DATA_PP = 0; // where the guest wants the pointer
  const SIZE_P = 4; // where the guest wants the size

  it('allocates, copies, and writes (ptr, size) to the out pointers', () => {
    const { mem, raw } = setup();
    const calls: number[] = [];
    mem.allocate = (size) => {
      calls.push(size);
      return 1024;
    };
    expect(mem.copyOut(Buffer.from('payload'), DATA_PP, SIZE_P)).toBe(Status.OK);
    expect(calls).toEqual([7]);
    expect(raw().readUInt32LE(DATA_PP)).toBe(1024);
    expect(raw().readUInt32LE(SIZE_P)).toBe(7);
    expect(raw().subarray(1024, 1031).toString()).toBe('payload');
  });

  it('zero-length data never calls the allocator and writes (0, 0)', () => {
    const { mem, raw } = setup();
    raw().writeUInt32LE(0xdeadbeef, DATA_PP);
    raw().writeUInt32LE(0xdeadbeef, SIZE_P);
    let called = 0;
    mem.allocate = () => {
      called++;
      return 1024;
    };
    expect(mem.copyOut(new Uint8Array(0), DATA_PP, SIZE_P)).toBe(Status.OK);
    expect(mem.copyOutLatin1('', DATA_PP, SIZE_P)).toBe(Status.OK);
    expect(called).toBe(0);
    expect(raw().readUInt32LE(DATA_PP)).toBe(0);
    expect(raw().readUInt32LE(SIZE_P)).toBe(0);
  });

  it('allocator returning 0 is INVALID_MEMORY_ACCESS and the out pointers are untouched', () => {
    const { mem, raw } = setup();
    raw().writeUInt32LE(0x11111111, DATA_PP);
    raw().writeUInt32LE(0x22222222, SIZE_P);
    mem.allocate = () => 0;
    expect(mem.copyOut(Buffer.from('x'), DATA_PP, SIZE_P)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(raw().readUInt32LE(DATA_PP)).toBe(0x11111111);
    expect(raw().readUInt32LE(SIZE_P)).toBe(0x22222222);
  });

  it('the default allocator (none set) fails', () => {
    const { mem } = setup();
    expect(mem.copyOut(Buffer.from('x'), DATA_PP, SIZE_P)).toBe(Status.INVALID_MEMORY_ACCESS);
  });

  it('an allocation that does not fit in memory is INVALID_MEMORY_ACCESS', () => {
    const { mem, raw } = setup();
    mem.allocate = () => PAGE - 2;
    expect(mem.copyOut(Buffer.from('abc'), DATA_PP, SIZE_P)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(raw().subarray(PAGE - 2).toString('hex')).toBe('0000');
    // a negative i32 from the guest is a huge unsigned pointer
    mem.allocate = () => -16;
    expect(mem.copyOut(Buffer.from('abc'), DATA_PP, SIZE_P)).toBe(Status.INVALID_MEMORY_ACCESS);
  });

  it('an allocation ending exactly at the end of memory succeeds', () => {
    const { mem, raw } = setup();
    mem.allocate = () => PAGE - 3;
    expect(mem.copyOut(Buffer.from('end'), DATA_PP, SIZE_P)).toBe(Status.OK);
    expect(raw().subarray(PAGE - 3).toString()).toBe('end');
    expect(raw().readUInt32LE(DATA_PP)).toBe(PAGE - 3);
  });

  it('out pointers out of bounds fail before the allocator runs', () => {
    const { mem } = setup();
    let called = 0;
    mem.allocate = () => {
      called++;
      return 1024;
    };
    expect(mem.copyOut(Buffer.from('x'), PAGE - 2, SIZE_P)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(mem.copyOut(Buffer.from('x'), DATA_PP, PAGE)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(mem.copyOutLatin1('x', -1, SIZE_P)).toBe(Status.INVALID_MEMORY_ACCESS);
    // also for the zero-length case
    expect(mem.copyOut(new Uint8Array(0), PAGE, SIZE_P)).toBe(Status.INVALID_MEMORY_ACCESS);
    expect(called).toBe(0);
  });

  it('an allocator that grows memory is followed (views refreshed before copying)', () => {
    const { mem, wasm } = setup(1);
    mem.allocate = (size) => {
      const oldPages = wasm.grow(1);
      expect(size).toBe(4);
      return oldPages * PAGE + 16; // inside the new page
    };
    expect(mem.copyOut(Buffer.from('grow'), DATA_PP, SIZE_P)).toBe(Status.OK);
    const raw = Buffer.from(wasm.buffer);
    expect(raw.length).toBe(2 * PAGE);
    expect(raw.readUInt32LE(DATA_PP)).toBe(PAGE + 16);
    expect(raw.readUInt32LE(SIZE_P)).toBe(4);
    expect(raw.subarray(PAGE + 16, PAGE + 20).toString()).toBe('grow');
    expect(mem.byteLength).toBe(2 * PAGE);
  });

  it('copyOutLatin1 writes one byte per char', () => {
    const { mem, raw } = setup();
    mem.allocate = () => 2048;
    expect(mem.copyOutLatin1('\u00ffa\u0080', DATA_PP, SIZE_P)).toBe(Status.OK);
    expect(raw().readUInt32LE(SIZE_P)).toBe(3);
    expect([...raw().subarray(2048, 2051)]).toEqual([0xff, 0x61, 0x80]);
  });

  it('copyOutLatin1 fails when the allocator fails', () => {
    const { mem } = setup();
    mem.allocate = () => 0;
    expect(mem.copyOutLatin1('abc', DATA_PP, SIZE_P)).toBe(Status.INVALID_MEMORY_ACCESS);
  });
});
