// A body as a list of chunks, so buffering appends without copying and a filter that only
// streams never pays for concatenation. Reads and edits use the whole-body coordinates the
// ABI speaks in (start, size).

const EMPTY = Buffer.alloc(0);

export class BodyBuffer {
  #chunks: Buffer[] = [];
  #length = 0;
  /** Bumped by every edit, so the driver knows a filter rewrote the body. */
  edits = 0;

  constructor(initial?: Buffer) {
    if (initial !== undefined && initial.length > 0) this.append(initial);
  }

  get length(): number {
    return this.#length;
  }

  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** The whole body as one Buffer (joins the chunks once and keeps the result). */
  bytes(): Buffer {
    if (this.#chunks.length === 0) return EMPTY;
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks, this.#length)];
    return this.#chunks[0]!;
  }

  /** Bytes [start, start+max) clamped to the body; empty when start is past the end. */
  read(start: number, max: number): Buffer {
    if (start >= this.#length) return EMPTY;
    const end = Math.min(this.#length, start + max);
    return this.bytes().subarray(start, end);
  }

  /**
   * Replaces `size` bytes at `start` with `data` (the spec's set_buffer_bytes): (0,0) prepends,
   * start past the end appends, (0, >=length) replaces everything.
   */
  splice(start: number, size: number, data: Buffer): void {
    const body = this.bytes();
    const from = Math.min(start, body.length);
    const to = Math.min(body.length, from + size);
    const next = Buffer.concat([body.subarray(0, from), data, body.subarray(to)]);
    this.#chunks = next.length === 0 ? [] : [next];
    this.#length = next.length;
    this.edits++;
  }

  /** Takes the content out, leaving the buffer empty. */
  take(): Buffer {
    const out = this.bytes();
    this.#chunks = [];
    this.#length = 0;
    return out;
  }
}
