// A partition's producer and transaction state saved at a clean close
// (<partition-dir>/producer-state.snapshot), so the next start loads it
// instead of replaying every batch header of the log, which costs about a
// second per 100 MB. It is taken (read and removed) at open and used only if
// the log ends exactly where it did when the snapshot was written: after a
// crash, or anything else that moved the log's end, the state is rebuilt from
// the log as before. Layout: u32 CRC-32C of the rest, i8 format, i64 end
// offset, then producers (with their last batches and open transaction).
// Aborted transactions are in the segments' transaction indexes instead
// (format 0 also held them: such a snapshot is ignored, the log replayed).

import { exists, readFile, unlinkPath } from "../log/storage.ts";
import { join } from "node:path";
import { crc32c } from "../codec/crc32c.ts";
import { writeFileAtomic } from "../log/atomic-file.ts";
import { DecodeError, Reader } from "../protocol/reader.ts";
import { Writer } from "../protocol/writer.ts";
import type { PartitionTxnState } from "./partition-txn.ts";
import type { ProducerEntry } from "./producer-state.ts";

export const TXN_SNAPSHOT_FILE = "producer-state.snapshot";
const FORMAT = 1;
const BATCH_BYTES = 4 + 4 + 8 + 8;
const PRODUCER_BYTES = 8 + 2 + 8 + 8 + 4 + 4;

export interface TxnSnapshot {
  producers: ProducerEntry[];
}

export function encodeTxnSnapshot(state: PartitionTxnState, endOffset: number): Uint8Array {
  let size = 4 + 1 + 8 + 4;
  for (const e of state.producers.entries.values()) size += PRODUCER_BYTES + e.batches.length * BATCH_BYTES;
  const w = Writer.alloc(size);
  w.pos = 4;
  w.int8(FORMAT);
  w.int64n(endOffset);
  w.int32(state.producers.entries.size);
  for (const e of state.producers.entries.values()) {
    w.int64n(e.producerId);
    w.int16(e.epoch);
    w.int64n(e.lastTimestamp);
    w.int64n(e.txnFirstOffset);
    w.int32(e.coordinatorEpoch);
    w.int32(e.batches.length);
    for (const b of e.batches) {
      w.int32(b.firstSeq);
      w.int32(b.lastSeq);
      w.int64n(b.firstOffset);
      w.int64n(b.lastOffset);
    }
  }
  const buf = w.finish();
  new DataView(buf.buffer, buf.byteOffset).setUint32(0, crc32c(buf.subarray(4)));
  return buf;
}

/** The snapshot in `buf` if it is whole and was taken at `endOffset`; else null. */
export function decodeTxnSnapshot(buf: Uint8Array, endOffset: number): TxnSnapshot | null {
  if (buf.length < 4 + 1 + 8 || new DataView(buf.buffer, buf.byteOffset).getUint32(0) !== crc32c(buf.subarray(4))) return null;
  const r = new Reader(buf, 4);
  try {
    if (r.int8() !== FORMAT || r.int64n() !== endOffset) return null;
    const count = (per: number) => {
      const n = r.int32();
      if (n < 0 || n * per > r.remaining) throw new DecodeError(`bad count ${n}`);
      return n;
    };
    const producers: ProducerEntry[] = [];
    for (let i = count(PRODUCER_BYTES); i > 0; i--) {
      const e: ProducerEntry = { producerId: r.int64n(), epoch: r.int16(), lastTimestamp: r.int64n(), txnFirstOffset: r.int64n(), coordinatorEpoch: r.int32(), batches: [] };
      for (let j = count(BATCH_BYTES); j > 0; j--) e.batches.push({ firstSeq: r.int32(), lastSeq: r.int32(), firstOffset: r.int64n(), lastOffset: r.int64n() });
      producers.push(e);
    }
    return r.remaining === 0 ? { producers } : null;
  } catch (e) {
    if (e instanceof DecodeError) return null;
    throw e;
  }
}

/** Saves the state of a partition whose log ends at `endOffset` (call at a clean close, before the log closes). */
export function writeTxnSnapshot(dir: string, state: PartitionTxnState, endOffset: number, fsync: boolean): void {
  writeFileAtomic(join(dir, TXN_SNAPSHOT_FILE), encodeTxnSnapshot(state, endOffset), { fsync });
}

/** Reads and removes the snapshot; returns it only if it matches the log's end. */
export function takeTxnSnapshot(dir: string, endOffset: number): TxnSnapshot | null {
  const path = join(dir, TXN_SNAPSHOT_FILE);
  if (!exists(path)) return null;
  const snapshot = decodeTxnSnapshot(readFile(path), endOffset);
  unlinkPath(path);
  return snapshot;
}
