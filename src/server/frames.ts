// Splits a TCP byte stream into Kafka frames (int32 size + payload), coping
// with partial and coalesced reads. The size prefix is checked before any
// payload is buffered, so an oversize or negative length costs nothing.
//
// A frame wholly inside one read is handed out as a view of it. A frame that
// spans reads is copied into pooled memory as its bytes arrive, while each
// read is still in the CPU cache and can be dropped at once (holding the
// reads made the copy run from cold memory and kept Bun's read buffers alive).
// A size prefix alone never makes us allocate more than DIRECT_FRAME: a
// larger frame is gathered in CHUNK-sized pieces, as many as have arrived,
// and moved into one buffer of its full size only once its remaining bytes
// are within DIRECT_FRAME. Every allocation is first reserved from the
// broker-wide RequestMemory; when that says no, push() stops where it is and
// returns how far it got, and the caller waits before pushing the rest.

import { giveBack, takeBuffer } from "../util/buffer-pool.ts";
import type { RequestMemory } from "./request-memory.ts";

export class FrameError extends Error {
  override name = "FrameError";
}

/** Smallest valid request: api key, api version, correlation id, client id length. */
const MIN_REQUEST = 10;
/** A frame's full buffer is taken once at most this many of its bytes are still to come. */
export const DIRECT_FRAME = 1024 * 1024;
/** Pieces in which the early part of a larger frame is gathered (a pooled size). */
const CHUNK = 256 * 1024;

export class FrameSplitter {
  /** Bytes of a size prefix split across reads. */
  private readonly head = new Uint8Array(4);
  private headLen = 0;
  /** Payload size of the frame being assembled, -1 when between frames. */
  private need = -1;
  /** Its full buffer, once taken. */
  private frame: Uint8Array | null = null;
  /** Pieces gathered before the full buffer was taken. */
  private chunks: Uint8Array[] = [];
  private filled = 0;
  /** Bytes of the budget held by the frame in progress. */
  private held = 0;

  /**
   * `minFrameBytes`: responses (client side) can be shorter than any request.
   * `memory`: the budget allocations are reserved from; none means unbounded.
   */
  constructor(
    private readonly maxFrameBytes: number,
    private readonly minFrameBytes = MIN_REQUEST,
    private readonly memory: RequestMemory | null = null,
  ) {}

  /** Bytes received towards the next frame(s) that are not yet handed out. */
  get bufferedBytes(): number {
    return this.headLen + this.filled;
  }

  /** True while part of a frame (or of its size prefix) has arrived and the rest has not. */
  get midFrame(): boolean {
    return this.headLen > 0 || this.need >= 0;
  }

  /**
   * Feeds bytes; appends complete frame payloads to `out` and, to `held`, the
   * budget bytes each keeps until the caller releases them (0 for views of
   * `data`). Returns how many bytes of `data` were taken: fewer than all
   * when the budget ran out. Throws FrameError on a bad size.
   */
  push(data: Uint8Array, out: Uint8Array[], held?: number[]): number {
    let pos = 0;
    while (pos < data.length) {
      if (this.need >= 0) {
        const next = this.fill(data, pos, out, held);
        if (next < 0) return pos;
        pos = next;
        continue;
      }
      if (this.headLen > 0 || data.length - pos < 4) {
        while (this.headLen < 4 && pos < data.length) this.head[this.headLen++] = data[pos++]!;
        if (this.headLen < 4) return pos;
        this.headLen = 0;
        this.begin(this.sizeAt(this.head, 0));
        continue;
      }
      const size = this.sizeAt(data, pos);
      if (data.length - pos - 4 >= size) {
        out.push(data.subarray(pos + 4, pos + 4 + size));
        held?.push(0);
        pos += 4 + size;
        continue;
      }
      pos += 4;
      this.begin(size);
    }
    return pos;
  }

  /** Gives back what the frame in progress holds (the connection is gone). */
  dispose(): void {
    if (this.frame) giveBack(this.frame);
    for (const c of this.chunks) giveBack(c);
    this.frame = null;
    this.chunks = [];
    this.memory?.release(this.held);
    this.held = 0;
    this.need = -1;
    this.filled = 0;
    this.headLen = 0;
  }

  private begin(size: number): void {
    this.need = size;
    this.filled = 0;
  }

  private reserve(bytes: number): boolean {
    if (this.memory && !this.memory.tryReserve(bytes, this.need, this.held)) return false;
    this.held += bytes;
    return true;
  }

  /** Takes bytes of `data` from `pos` for the frame in progress; returns the new position, -1 when out of budget. */
  private fill(data: Uint8Array, pos: number, out: Uint8Array[], held?: number[]): number {
    if (!this.frame && this.need - this.filled <= DIRECT_FRAME && !this.takeFullBuffer()) return -1;
    let k = Math.min(this.need - this.filled, data.length - pos);
    if (this.frame) this.frame.set(data.subarray(pos, pos + k), this.filled);
    else {
      const at = this.filled % CHUNK;
      if (at === 0) {
        if (!this.reserve(CHUNK)) return -1;
        this.chunks.push(takeBuffer(CHUNK));
      }
      k = Math.min(k, CHUNK - at);
      this.chunks[this.chunks.length - 1]!.set(data.subarray(pos, pos + k), at);
    }
    this.filled += k;
    if (this.filled === this.need) {
      out.push(this.frame!);
      held?.push(this.held);
      if (!held) this.memory?.release(this.held);
      this.frame = null;
      this.held = 0;
      this.need = -1;
      this.filled = 0;
    }
    return pos + k;
  }

  /** Moves the gathered pieces into one buffer of the frame's size. */
  private takeFullBuffer(): boolean {
    const gathered = this.chunks.length * CHUNK;
    // The pieces go back as the buffer is filled from them: only the difference is new.
    if (!this.reserve(Math.max(0, this.need - gathered))) return false;
    const frame = takeBuffer(this.need);
    let off = 0;
    for (const c of this.chunks) {
      const k = Math.min(CHUNK, this.filled - off);
      frame.set(k === CHUNK ? c : c.subarray(0, k), off);
      off += k;
      giveBack(c);
    }
    this.chunks = [];
    if (gathered > this.need) {
      this.held -= gathered - this.need;
      this.memory?.release(gathered - this.need);
    }
    this.frame = frame;
    return true;
  }

  private sizeAt(b: Uint8Array, pos: number): number {
    const size = ((b[pos]! << 24) | (b[pos + 1]! << 16) | (b[pos + 2]! << 8) | b[pos + 3]!) | 0;
    if (size < this.minFrameBytes) throw new FrameError(`frame size ${size} is too small`);
    if (size > this.maxFrameBytes) throw new FrameError(`frame size ${size} exceeds the limit of ${this.maxFrameBytes}`);
    return size;
  }
}
