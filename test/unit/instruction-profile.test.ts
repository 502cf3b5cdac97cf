// bench:abi:instructions --profile joins V8's optimised-code listing with callgrind's
// per-instruction counts. The inputs here are cut down from real ones (Node 24, callgrind 3.19).

import { describe, expect, it } from 'vitest';
import { addressCosts, parseCodeListings, profile } from '../../bench/instruction-profile.ts';

const LISTING = `--- Raw source ---
(levelPtr) {
      const ctx = enter(vm);
    }

--- Optimized code ---
optimization_id = 3
source_position = 1201
kind = TURBOFAN_JS
name = proxy_get_log_level
compiler = turbofan
address = 0x2506340ac001

Instructions (size = 12)
0x7f5d2a112a00     0  55                   push rbp
0x7f5d2a112a01     1  4889e5               REX.W movq rbp,rsp
                  ;; debug: deopt reason 'wrong map'
0x7f5d2a112a04     4  e8f7ffffff           call 0x7f5d2a112b00  (StringEqual)    ;; near builtin entry
0x7f5d2a112a09     9  5d                   pop rbp
0x7f5d2a112a0a     a  c3                   retl

Safepoints (entries = 1, byte size = 10)

--- Optimized code ---
optimization_id = 4
kind = TURBOFAN_JS
name = somethingElse
compiler = turbofan

Instructions (size = 1)
0x7f5d2a113000     0  c3                   retl
`;

describe('V8 optimised-code listings', () => {
  it("read the named function's code objects: start, size and each instruction, comment lines skipped", () => {
    const listings = parseCodeListings(LISTING, 'proxy_get_log_level');
    expect(listings).toHaveLength(1);
    expect(listings[0]!.start).toBe(0x7f5d2a112a00);
    expect(listings[0]!.size).toBe(12);
    expect(listings[0]!.instructions.map((i) => i.offset)).toEqual(['0', '1', '4', '9', 'a']);
    expect(listings[0]!.instructions[2]!.text).toBe('call 0x7f5d2a112b00  (StringEqual)    ;; near builtin entry');
    expect(parseCodeListings(LISTING, 'absent')).toEqual([]);
  });
});

// Positions "instr line": absolute (0x…), relative (+n / -n, decimal), or repeated (*); the line
// after calls= is the inclusive cost of the call made from that address.
const DUMP = `positions: instr line
events: Ir
summary: 1000

fn=(1) 0x7f5d2a112a00
0x7f5d2a112a00 0 100
+1 0 100
+3 0 100
cfn=(2) StringEqual
calls=100 0x7f5d2a112b00 0
* 0 4500
+5 0 100
+1 0 100
fn=(3) elsewhere
0x400000 0 7
-2 0 1
+18 0 2
`;

describe('callgrind per-instruction counts', () => {
  it('follow compressed positions, and keep call costs apart from the instructions themselves', () => {
    const costs = addressCosts(DUMP, 0x7f5d2a112a00, 0x7f5d2a112a00 + 12);
    expect([...costs.self]).toEqual([
      [0x7f5d2a112a00, 100],
      [0x7f5d2a112a01, 100],
      [0x7f5d2a112a04, 100],
      [0x7f5d2a112a09, 100],
      [0x7f5d2a112a0a, 100],
    ]);
    expect([...costs.calls]).toEqual([[0x7f5d2a112a04, 4500]]);
    // Addresses outside the range are not counted, relative ones included.
    expect(addressCosts(DUMP, 0x3ffffe, 0x400001).self).toEqual(new Map([[0x400000, 7], [0x3ffffe, 1]]));
    // Relative positions are decimal (real dumps write +38, never +2a).
    expect(addressCosts(DUMP, 0x400010, 0x400020).self).toEqual(new Map([[0x400010, 2]]));
  });

  it('give each executed instruction its count per call, and the totals per call', () => {
    const listing = parseCodeListings(LISTING, 'proxy_get_log_level')[0]!;
    const p = profile(listing, addressCosts(DUMP, listing.start, listing.start + listing.size))!;
    expect(p.entries).toBe(100);
    expect(p.selfPerCall).toBe(5);
    expect(p.calleesPerCall).toBe(45);
    expect(p.lines[2]).toEqual({ perCall: 1, calleePerCall: 45, offset: '4', text: 'call 0x7f5d2a112b00  (StringEqual)    ;; near builtin entry' });
    expect(profile(listing, { self: new Map(), calls: new Map() })).toBeNull();
  });
});
