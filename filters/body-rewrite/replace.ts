// Byte-wise search and replace. Bodies may hold any bytes (and a UTF-8
// sequence may even be cut by a chunk boundary upstream), so matching works
// on raw bytes rather than on decoded strings.

// Result of one replaceAll pass.
export class Replaced {
  data: ArrayBuffer;
  count: i32;

  constructor(data: ArrayBuffer, count: i32) {
    this.data = data;
    this.count = count;
  }
}

// Replaces every non-overlapping occurrence of `from` (left to right) with
// `to`. `from` must not be empty. Returns the input itself when nothing
// matched, to avoid a copy.
export function replaceAllBytes(input: ArrayBuffer, from: ArrayBuffer, to: ArrayBuffer): Replaced {
  const count = countMatches(input, from);
  if (count == 0) return new Replaced(input, 0);
  const out = new ArrayBuffer(input.byteLength + count * (to.byteLength - from.byteLength));
  const src = changetype<usize>(input);
  const dst = changetype<usize>(out);
  const fromPtr = changetype<usize>(from);
  const fromLen = <usize>from.byteLength;
  const toLen = <usize>to.byteLength;
  const end = <usize>input.byteLength;
  let i: usize = 0; // read position in input
  let o: usize = 0; // write position in out
  let copied: usize = 0; // input bytes already copied
  while (i + fromLen <= end) {
    if (memory.compare(src + i, fromPtr, fromLen) == 0) {
      memory.copy(dst + o, src + copied, i - copied);
      o += i - copied;
      memory.copy(dst + o, changetype<usize>(to), toLen);
      o += toLen;
      i += fromLen;
      copied = i;
    } else {
      i++;
    }
  }
  memory.copy(dst + o, src + copied, end - copied);
  return new Replaced(out, count);
}

function countMatches(input: ArrayBuffer, from: ArrayBuffer): i32 {
  const src = changetype<usize>(input);
  const fromPtr = changetype<usize>(from);
  const fromLen = <usize>from.byteLength;
  const end = <usize>input.byteLength;
  let count = 0;
  let i: usize = 0;
  while (i + fromLen <= end) {
    if (memory.compare(src + i, fromPtr, fromLen) == 0) {
      count++;
      i += fromLen;
    } else {
      i++;
    }
  }
  return count;
}
