// A Writer that leaves large `records` out of its buffer and hands them to the
// socket by reference instead: a Fetch response is mostly log bytes (mmapped
// or freshly read), and copying megabytes into a new frame buffer costs more
// than the socket write itself. Everything else is written once, as usual.

import { EncodeError, Writer } from "./writer.ts";

/** Record sections smaller than this are copied: a separate socket write per chunk is not worth it. */
export const GATHER_MIN_BYTES = 64 * 1024;

export class GatherWriter extends Writer {
  private readonly chunks: Uint8Array[] = [];
  private cut = 0;
  private gathered = 0;

  /** `size`: the whole frame, gathered parts included (untouched pages of the buffer are never faulted in). */
  static override alloc(size: number): GatherWriter {
    return new GatherWriter(size >= 4096 ? Buffer.allocUnsafeSlow(size) : new Uint8Array(size));
  }

  /** Appends `part` by reference, after what was written so far. */
  gather(part: Uint8Array): void {
    if (this.pos > this.cut) this.chunks.push(this.buf.subarray(this.cut, this.pos));
    this.chunks.push(part);
    this.cut = this.pos;
    this.gathered += part.length;
  }

  /** The frame as ordered chunks, once every byte is accounted for. */
  finishChunks(): Uint8Array[] {
    if (this.pos + this.gathered !== this.buf.length) {
      throw new EncodeError(`wrote ${this.pos} + gathered ${this.gathered} of ${this.buf.length} bytes`);
    }
    if (this.pos > this.cut) this.chunks.push(this.buf.subarray(this.cut, this.pos));
    return this.chunks;
  }
}
