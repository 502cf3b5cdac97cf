// Latin1 strings from bytes without Buffer's C++ bindings where that is cheaper, and the length
// up to which memory.ts writes them back byte by byte: header names and values are bytes (one
// char per byte), and most are short.

/**
 * Strings up to these lengths cross between JS and bytes (guest memory, undici's buffers)
 * without Buffer's C++ bindings, whose call costs more than the bytes. Measured on Node 24
 * (callgrind, 12-02): latin1Slice ~860 instructions for one byte and ~1070 for six,
 * String.fromCharCode with one argument per byte ~280 and ~550; latin1Write ~450 whatever the
 * length, a JS loop ~37 per byte (charCodeAt and a checked store). Reads go inline up to 16
 * bytes (12-05, the 2-core VM, one call in a hot loop: 11 bytes 41 ns against latin1Slice's 147,
 * 16 bytes 47 against 136; a replace with an 11-byte value went from ~1800 to ~1450
 * instructions). Writes stay at 8: at 12, the 10-header callback of `bench:abi` ran ~650
 * instructions more, though in a loop of its own an 11-byte write took 38 ns against
 * latin1Write's 67.
 */
const SHORT_READ = 16;
export const SHORT_WRITE = 8;

/** bytes[p, p+n) as a latin1 string, for 0 ≤ n ≤ SHORT_READ (in bounds). */
function shortLatin1(b: Buffer, p: number, n: number): string {
  switch (n) {
    case 0: return '';
    case 1: return String.fromCharCode(b[p]!);
    case 2: return String.fromCharCode(b[p]!, b[p + 1]!);
    case 3: return String.fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!);
    case 4: return String.fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!);
    case 5: return String.fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!);
    case 6: return String.fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!);
    case 7: return String.fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!);
    case 8: return String.fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!);
    case 9: return String.fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!, b[p + 8]!);
    case 10: return String.fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!, b[p + 8]!, b[p + 9]!);
    case 11: return String.fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!, b[p + 8]!, b[p + 9]!, b[p + 10]!);
    case 12: return String.fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!, b[p + 8]!, b[p + 9]!, b[p + 10]!, b[p + 11]!);
    case 13: return String.fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!, b[p + 8]!, b[p + 9]!, b[p + 10]!, b[p + 11]!, b[p + 12]!);
    case 14: return String.fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!, b[p + 8]!, b[p + 9]!, b[p + 10]!, b[p + 11]!, b[p + 12]!, b[p + 13]!);
    case 15: return String.fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!, b[p + 8]!, b[p + 9]!, b[p + 10]!, b[p + 11]!, b[p + 12]!, b[p + 13]!, b[p + 14]!);
    default: return String.fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!, b[p + 8]!, b[p + 9]!, b[p + 10]!, b[p + 11]!, b[p + 12]!, b[p + 13]!, b[p + 14]!, b[p + 15]!);
  }
}

/** bytes[start, end) as a latin1 string (in bounds): short ones inline, longer ones by Buffer. */
export function latin1Of(b: Buffer, start: number, end: number): string {
  const n = end - start;
  return n <= SHORT_READ ? shortLatin1(b, start, n) : b.latin1Slice(start, end);
}
