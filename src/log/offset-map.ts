// The cleaner's key → latest offset map over the dirty part of a log, with a
// memory budget (Kafka's dedupe buffer). Keys up to 64 bytes are stored as
// they are (a one-byte-per-char string, so no two keys collide); longer ones
// by their SHA-256, which keeps the cost per entry bounded. Once the budget is
// spent the map is full: the clean then covers the log up to the last offset
// the map saw, and the next clean carries on from there.

import { createHash } from "node:crypto";

const INLINE_KEY_BYTES = 64;
/** Rough heap cost of one Map entry beyond its key's characters (measured order of magnitude, not exact). */
const ENTRY_OVERHEAD = 80;


export class OffsetMap {
  private readonly map = new Map<string, number>();
  private bytes = 0;
  /** Last offset the map has seen (whether or not it held a key), -1 before any. */
  latestOffset = -1;

  constructor(readonly budgetBytes: number) {}

  get size(): number {
    return this.map.size;
  }

  get full(): boolean {
    return this.bytes >= this.budgetBytes;
  }

  /** The map's key for the `length` key bytes at `start` of `buf`. */
  static keyOf(buf: Buffer, start: number, length: number): string {
    if (length <= INLINE_KEY_BYTES) return buf.toString("latin1", start, start + length);
    // "\u0100" cannot occur in a latin1 string: a digest never equals an inline key.
    return "\u0100" + createHash("sha256").update(buf.subarray(start, start + length)).digest("base64");
  }

  put(key: string, offset: number): void {
    if (!this.map.has(key)) this.bytes += ENTRY_OVERHEAD + key.length;
    this.map.set(key, offset);
  }

  /** The latest offset of `key` in the map, -1 when absent. */
  get(key: string): number {
    return this.map.get(key) ?? -1;
  }
}
