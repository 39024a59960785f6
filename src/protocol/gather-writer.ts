// A Writer that leaves large `records` out of its buffer and hands them to the
// socket by reference instead: a Fetch response is mostly log bytes (read into
// recycled buffers), and copying megabytes into a new frame buffer costs more
// than the socket write itself. Everything else is written once, as usual.

import { EncodeError, Writer } from "./writer.ts";
import type { RecordsInit } from "./generated-support.ts";

/** Record sections smaller than this are copied: a separate socket write per chunk is not worth it. */
export const GATHER_MIN_BYTES = 64 * 1024;

function recordsBytes(r: RecordsInit): number {
  if (r instanceof Uint8Array) return r.length;
  let n = 0;
  for (const c of r) n += c.length;
  return n;
}

/** Whether a records section goes by reference; the one rule for sizing and writing. */
export function gathers(r: RecordsInit): boolean {
  return recordsBytes(r) >= GATHER_MIN_BYTES;
}

/** Bytes of the sections among `records` that will be gathered rather than copied. */
export function gatheredBytes(records: Iterable<RecordsInit | null | undefined>): number {
  let n = 0;
  for (const r of records) if (r && gathers(r)) n += recordsBytes(r);
  return n;
}

export class GatherWriter extends Writer {
  private readonly chunks: Uint8Array[] = [];
  private cut = 0;
  private gathered = 0;

  /**
   * `total`: the whole frame; `expectGathered`: what of it will be gathered
   * (gatheredBytes). Only the rest is allocated, so a response of many
   * megabytes costs a buffer of its headers.
   */
  constructor(
    private readonly total: number,
    private readonly expectGathered: number,
    /** Record sections from this size up are referenced (a client's request may want smaller ones too). */
    private readonly minBytes: number = GATHER_MIN_BYTES,
  ) {
    const own = total - expectGathered;
    super(own >= 4096 ? Buffer.allocUnsafeSlow(own) : new Uint8Array(own));
  }

  /** Whether this writer references `r` rather than copying it. */
  gathers(r: RecordsInit): boolean {
    return recordsBytes(r) >= this.minBytes;
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
    if (this.gathered !== this.expectGathered || this.pos + this.gathered !== this.total) {
      throw new EncodeError(`wrote ${this.pos} + gathered ${this.gathered} of ${this.total} bytes (expected ${this.expectGathered} gathered)`);
    }
    if (this.pos > this.cut) this.chunks.push(this.buf.subarray(this.cut, this.pos));
    return this.chunks;
  }
}
