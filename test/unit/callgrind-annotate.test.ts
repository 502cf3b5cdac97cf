// bench:instructions --annotate reads callgrind_annotate's function list; these rows are copied
// from real output (Node 24 under callgrind 3.19 with --cache-sim=yes).

import { describe, expect, it } from 'vitest';
import { costChanges, functionKey, parseAnnotateRow, UNNAMED_CODE } from '../../bench/callgrind-annotate.ts';

describe('callgrind_annotate function rows', () => {
  it('read one count per event, with percentages, bare numbers and dots', () => {
    const line =
      '6,299,040 ( 1.17%)  80,320 ( 0.32%) 238,256 ( 2.34%)  5,454 ( 0.27%)     61 ( 0.01%)  1,047 ( 0.34%)      .           ???:Builtins_RecordWriteSaveFP [/work/main/node_modules/node/bin/node]';
    expect(parseAnnotateRow(line, 7)).toEqual({
      counts: [6_299_040, 80_320, 238_256, 5_454, 61, 1_047, 0],
      name: 'Builtins_RecordWriteSaveFP',
      object: '/work/main/node_modules/node/bin/node',
    });
    const zero = ' 8,745,000 ( 1.62%) 141,011 ( 0.56%) 244,158 ( 2.39%)     24 ( 0.00%)    236 ( 0.06%)  4,484 ( 1.47%)      .           ???:0x00000000600e7f40 [???]';
    expect(parseAnnotateRow(zero, 7)?.counts).toEqual([8_745_000, 141_011, 244_158, 24, 236, 4_484, 0]);
    expect(parseAnnotateRow(zero, 7)?.name).toBe('0x00000000600e7f40');
    const unshared = ' 8,736,000 ( 1.62%)  54,000 ( 0.22%)  11,386 ( 0.11%)      0              53 ( 0.01%)  1,370 ( 0.45%)      .           ???:0x000000006002d040 [???]';
    expect(parseAnnotateRow(unshared, 7)?.counts).toEqual([8_736_000, 54_000, 11_386, 0, 53, 1_370, 0]);
  });

  it('read the one-event list, and a source file in place of ???', () => {
    expect(parseAnnotateRow("33,454,439 ( 5.94%)  ???:0x000013256bb7c350'2 [???]", 1)).toEqual({
      counts: [33_454_439],
      name: "0x000013256bb7c350'2",
      object: '???',
    });
    expect(parseAnnotateRow('     18 ( 0.01%)  ./string/../sysdeps/x86_64/multiarch/memchr-avx2.S:__memchr_avx2 [/usr/lib/libc.so.6]', 1)).toEqual({
      counts: [18],
      name: './string/../sysdeps/x86_64/multiarch/memchr-avx2.S:__memchr_avx2',
      object: '/usr/lib/libc.so.6',
    });
  });

  it('end the list at anything else', () => {
    expect(parseAnnotateRow('', 1)).toBeNull();
    expect(parseAnnotateRow('--------------------------------------------------------------------------------', 1)).toBeNull();
    expect(parseAnnotateRow('-- Auto-annotated source: /work/main/src/proxy/stream.ts', 1)).toBeNull();
    // Fewer columns than events shown is not a row of this list.
    expect(parseAnnotateRow('33,454,439 ( 5.94%)  ???:Builtins_LoadIC [/node]', 7)).toBeNull();
  });
});

describe('per-function comparison of two rows', () => {
  it('rank the growth by estimated cycles, count a function missing on one side as 0, and total every change', () => {
    const a = [
      { name: 'shared', instructions: 1000, cycles: 3000 },
      { name: 'inlined away', instructions: 400, cycles: 900 },
    ];
    const b = [
      { name: 'shared', instructions: 1100, cycles: 3100 },
      { name: 'new', instructions: 600, cycles: 2500 },
      { name: 'small', instructions: 10, cycles: 20 },
    ];
    const { top, total } = costChanges(a, b, 2);
    expect(top).toEqual([
      { name: 'new', instructions: 600, cycles: 2500 },
      { name: 'shared', instructions: 100, cycles: 100 },
    ]);
    expect(total).toEqual({ name: 'total', instructions: 310, cycles: 1720 });
  });
});

describe('matching functions across rows', () => {
  it('drop where a JIT function came from, so a bundle and node_modules name the same function alike', () => {
    expect(functionKey("JS:*'_resume file:///work/main/build/worker/worker.mjs:13979:21")).toBe("JS:*'_resume");
    expect(functionKey("JS:*'_resume /work/main/node_modules/undici/lib/dispatcher/client.js:589:18")).toBe("JS:*'_resume");
    expect(functionKey("JS:*'processHeader node:_http_outgoing:575:23")).toBe("JS:*'processHeader");
    expect(functionKey('JS:wasm-function[20]-20-turbofan')).toBe('JS:wasm-function[20]-20-turbofan');
    expect(functionKey('Builtins_LoadIC')).toBe('Builtins_LoadIC');
  });

  it('compare the same function under two names, and show it under the second row\'s costliest name', () => {
    const a = [{ name: "JS:*'_resume /work/main/node_modules/undici/lib/dispatcher/client.js:589:18", instructions: 2000, cycles: 5000 }];
    const b = [
      { name: "JS:*'_resume file:///work/main/build/worker/worker.mjs:13979:21", instructions: 2100, cycles: 5600 },
      { name: "JS:*'_resume file:///work/main/build/worker/worker.mjs:20000:3", instructions: 10, cycles: 30 },
    ];
    expect(costChanges(a, b, 5).top).toEqual([
      { name: "JS:*'_resume file:///work/main/build/worker/worker.mjs:13979:21", instructions: 110, cycles: 630 },
    ]);
  });

  it('compare code named only by its address as one bucket: it moves from process to process', () => {
    expect(functionKey('0x00001b4dd9f2b140')).toBe(UNNAMED_CODE);
    expect(functionKey("0x00000000601a39c0'2")).toBe(UNNAMED_CODE);
    const a = [
      { name: '0x0000364951342140', instructions: 252, cycles: 300 },
      { name: '0x0000364951342148', instructions: 252, cycles: 290 },
    ];
    const b = [
      { name: '0x00001b4dd9f2b140', instructions: 252, cycles: 302 },
      { name: '0x00001b4dd9f2b148', instructions: 252, cycles: 294 },
      { name: '0x00001b4dd9ed8350', instructions: 188, cycles: 539 },
    ];
    expect(costChanges(a, b, 5).top).toEqual([{ name: UNNAMED_CODE, instructions: 188, cycles: 545 }]);
  });
});
