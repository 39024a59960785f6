// Splits a TCP byte stream into Kafka frames (int32 size + payload), coping
// with partial and coalesced reads. The size prefix is checked before any
// payload is buffered, so an oversize or negative length costs nothing.
//
// A frame wholly inside one read is handed out as a view of it. A frame that
// spans reads is copied into a pooled buffer as its bytes arrive, while each
// read is still in the CPU cache and can be dropped at once: holding the reads
// until the frame was complete made the copy run from cold memory and kept
// Bun's read buffers alive long enough to be returned to the OS and faulted
// back in. Frames larger than the pool's largest buffer are gathered as the
// reads themselves until complete, so a size prefix alone never makes us
// allocate more than that.

import { MAX_POOLED, takeBuffer } from "../util/buffer-pool.ts";

export class FrameError extends Error {
  override name = "FrameError";
}

/** Smallest valid request: api key, api version, correlation id, client id length. */
const MIN_REQUEST = 10;

export class FrameSplitter {
  /** Bytes of a size prefix split across reads. */
  private readonly head = new Uint8Array(4);
  private headLen = 0;
  /** Payload size of the frame being assembled, -1 when between frames. */
  private need = -1;
  /** Its buffer when it is filled as bytes arrive (need <= MAX_POOLED). */
  private frame: Uint8Array | null = null;
  /** Reads held for a frame too large to fill eagerly. */
  private parts: Uint8Array[] = [];
  private filled = 0;

  /** `minFrameBytes`: responses (client side) can be shorter than any request. */
  constructor(
    private readonly maxFrameBytes: number,
    private readonly minFrameBytes = MIN_REQUEST,
  ) {}

  /** Bytes received towards the next frame(s) that are not yet handed out. */
  get bufferedBytes(): number {
    return this.headLen + this.filled;
  }

  /** Feeds bytes; appends complete frame payloads to `out`. Throws FrameError on a bad size. */
  push(data: Uint8Array, out: Uint8Array[]): void {
    let pos = 0;
    while (pos < data.length) {
      if (this.need >= 0) {
        pos = this.fill(data, pos, out);
        continue;
      }
      if (this.headLen > 0 || data.length - pos < 4) {
        while (this.headLen < 4 && pos < data.length) this.head[this.headLen++] = data[pos++]!;
        if (this.headLen < 4) return;
        this.headLen = 0;
        this.begin(this.sizeAt(this.head, 0));
        continue;
      }
      const size = this.sizeAt(data, pos);
      if (data.length - pos - 4 >= size) {
        out.push(data.subarray(pos + 4, pos + 4 + size));
        pos += 4 + size;
        continue;
      }
      pos += 4;
      this.begin(size);
    }
  }

  private begin(size: number): void {
    this.need = size;
    this.filled = 0;
    if (size <= MAX_POOLED) this.frame = takeBuffer(size);
  }

  /** Takes bytes of `data` from `pos` for the frame in progress; returns the new position. */
  private fill(data: Uint8Array, pos: number, out: Uint8Array[]): number {
    const k = Math.min(this.need - this.filled, data.length - pos);
    if (this.frame) this.frame.set(data.subarray(pos, pos + k), this.filled);
    else this.parts.push(data.subarray(pos, pos + k));
    this.filled += k;
    if (this.filled === this.need) {
      out.push(this.frame ?? this.joinParts());
      this.frame = null;
      this.need = -1;
      this.filled = 0;
    }
    return pos + k;
  }

  private joinParts(): Uint8Array {
    const out = takeBuffer(this.need);
    let off = 0;
    for (const p of this.parts) {
      out.set(p, off);
      off += p.length;
    }
    this.parts = [];
    return out;
  }

  private sizeAt(b: Uint8Array, pos: number): number {
    const size = ((b[pos]! << 24) | (b[pos + 1]! << 16) | (b[pos + 2]! << 8) | b[pos + 3]!) | 0;
    if (size < this.minFrameBytes) throw new FrameError(`frame size ${size} is too small`);
    if (size > this.maxFrameBytes) throw new FrameError(`frame size ${size} exceeds the limit of ${this.maxFrameBytes}`);
    return size;
  }
}
