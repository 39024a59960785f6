// Splits a TCP byte stream into Kafka frames (int32 size + payload), coping
// with partial and coalesced reads. The size prefix is checked before any
// payload is buffered, so an oversize or negative length costs nothing.

import { takeBuffer } from "../util/buffer-pool.ts";

export class FrameError extends Error {
  override name = "FrameError";
}

/** Smallest valid request: api key, api version, correlation id, client id length. */
const MIN_REQUEST = 10;

export class FrameSplitter {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private need = -1; // payload size of the frame being assembled, -1 if unknown

  constructor(private readonly maxFrameBytes: number) {}

  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Feeds bytes; returns complete frame payloads (views where possible). Throws FrameError on a bad size. */
  push(data: Uint8Array, out: Uint8Array[]): void {
    if (this.buffered === 0) {
      // Fast path: frames that lie wholly inside this read are handed out as views.
      let pos = 0;
      while (data.length - pos >= 4) {
        const size = this.sizeAt(data, pos);
        if (data.length - pos - 4 < size) break;
        out.push(data.subarray(pos + 4, pos + 4 + size));
        pos += 4 + size;
      }
      if (pos === data.length) return;
      data = data.subarray(pos);
    }
    this.chunks.push(data);
    this.buffered += data.length;
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < 4) return;
        const head = this.take(4);
        this.need = this.sizeAt(head, 0);
      }
      if (this.buffered < this.need) return;
      out.push(this.take(this.need));
      this.need = -1;
    }
  }

  private sizeAt(b: Uint8Array, pos: number): number {
    const size = ((b[pos]! << 24) | (b[pos + 1]! << 16) | (b[pos + 2]! << 8) | b[pos + 3]!) | 0;
    if (size < MIN_REQUEST) throw new FrameError(`frame size ${size} is too small`);
    if (size > this.maxFrameBytes) throw new FrameError(`frame size ${size} exceeds the limit of ${this.maxFrameBytes}`);
    return size;
  }

  /** Removes n buffered bytes; copies only when they span chunks. */
  private take(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length >= n) {
      const v = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return v;
    }
    // Every byte is overwritten below; large frames come from a pool of reused buffers.
    const out = takeBuffer(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - off);
      out.set(c.subarray(0, k), off);
      off += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.buffered -= n;
    return out;
  }
}
