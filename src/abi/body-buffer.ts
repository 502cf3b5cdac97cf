// A body as a list of chunks, so buffering appends without copying and a filter that only
// streams never pays for concatenation. Reads and edits use the whole-body coordinates the
// ABI speaks in (start, size).

const EMPTY = Buffer.alloc(0);

/**
 * Bytes [start, start+max) of `bytes`, clamped: `bytes` itself when that is all of it (what SDKs
 * ask for), since making a view costs more than copying 1 KiB into the guest (~350 instructions,
 * callgrind).
 */
export function rangeOf(bytes: Buffer, start: number, max: number): Buffer {
  return start === 0 && max >= bytes.length ? bytes : bytes.subarray(start, start + max);
}

export class BodyBuffer {
  /** The body while it is one chunk (nearly always), else the join of #more once bytes() ran. */
  #single: Buffer = EMPTY;
  /** Set when a second chunk arrives: every chunk, in order, until bytes() joins them. */
  #more: Buffer[] | null = null;
  #length = 0;
  /** Bumped by every edit, so the driver knows a filter rewrote the body. */
  edits = 0;

  constructor(initial?: Buffer) {
    if (initial !== undefined) this.reset(initial);
  }

  get length(): number {
    return this.#length;
  }

  /** Makes `chunk` the whole body and forgets edits: a stage reuses one buffer for every chunk. */
  reset(chunk: Buffer): void {
    this.#single = chunk;
    this.#more = null;
    this.#length = chunk.length;
    this.edits = 0;
  }

  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.#length === 0) this.#single = chunk;
    else if (this.#more === null) this.#more = [this.#single, chunk];
    else this.#more.push(chunk);
    this.#length += chunk.length;
  }

  /** The whole body as one Buffer (joins the chunks once and keeps the result). */
  bytes(): Buffer {
    if (this.#more !== null) {
      this.#single = Buffer.concat(this.#more, this.#length);
      this.#more = null;
    }
    return this.#single;
  }

  /** Bytes [start, start+max) clamped to the body; empty when start is past the end. */
  read(start: number, max: number): Buffer {
    if (start >= this.#length) return EMPTY;
    return rangeOf(this.bytes(), start, max);
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
    this.#single = next;
    this.#length = next.length;
    this.edits++;
  }

  /** Takes the content out, leaving the buffer empty. */
  take(): Buffer {
    const out = this.bytes();
    this.#single = EMPTY;
    this.#length = 0;
    return out;
  }
}
