// The records of the transaction state log (<data-dir>/transactions.log): a
// transactional id's whole state after each change (later records replace
// earlier ones), its removal when it expires, and the upper bound of the
// producer id block in use. Each record starts with a format byte so a newer
// klite can change the layout.

import { DecodeError, Reader } from "../protocol/reader.ts";
import { compactStringSize, Writer } from "../protocol/writer.ts";
import type { RecordCodec } from "../log/record-log.ts";
import { splitPartitionKey, partitionKey, type TxnMeta, type TxnState } from "./coordinator.ts";

const FORMAT = 0;

export type TxnLogRecord = { kind: "txn"; txn: TxnMeta } | { kind: "txn-delete"; transactionalId: string } | { kind: "pid-block"; nextBlockStart: number };

const KIND = { txn: 1, "txn-delete": 2, "pid-block": 3 } as const;
const STATES: readonly TxnState[] = ["Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort"];

function size(r: TxnLogRecord): number {
  switch (r.kind) {
    case "txn": {
      const t = r.txn;
      let n = 2 + compactStringSize(t.transactionalId) + 8 + 8 + 2 + 4 + 1 + 8 + 8 + 1 + 1 + 4 + 4;
      for (const k of t.partitions) n += compactStringSize(splitPartitionKey(k)[0]) + 4;
      for (const g of t.groups) n += compactStringSize(g);
      return n;
    }
    case "txn-delete":
      return 2 + compactStringSize(r.transactionalId);
    case "pid-block":
      return 2 + 8;
  }
}

function write(w: Writer, r: TxnLogRecord): void {
  w.int8(FORMAT);
  w.int8(KIND[r.kind]);
  switch (r.kind) {
    case "txn": {
      const t = r.txn;
      w.compactString(t.transactionalId);
      w.int64n(t.producerId);
      w.int64n(t.prevProducerId);
      w.int16(t.epoch);
      w.int32(t.timeoutMs);
      w.int8(STATES.indexOf(t.state));
      w.int64n(t.startTimestamp);
      w.int64n(t.lastUpdate);
      w.int8(t.version);
      w.bool(t.bumpAtEnd);
      w.int32(t.partitions.length);
      for (const k of t.partitions) {
        const [topic, p] = splitPartitionKey(k);
        w.compactString(topic);
        w.int32(p);
      }
      w.int32(t.groups.length);
      for (const g of t.groups) w.compactString(g);
      return;
    }
    case "txn-delete":
      w.compactString(r.transactionalId);
      return;
    case "pid-block":
      w.int64n(r.nextBlockStart);
      return;
  }
}

function count(r: Reader): number {
  const n = r.int32();
  // Each entry takes at least one byte: a larger count is garbage, refused before anything is allocated.
  if (n < 0 || n > r.remaining) throw new DecodeError(`bad count ${n}`);
  return n;
}

function read(payload: Uint8Array): TxnLogRecord | null {
  const r = new Reader(payload);
  const format = r.int8();
  if (format !== FORMAT) throw new DecodeError(`unknown transaction record format ${format}`);
  const kind = r.int8();
  switch (kind) {
    case KIND.txn: {
      const transactionalId = r.compactString();
      const producerId = r.int64n();
      const prevProducerId = r.int64n();
      const epoch = r.int16();
      const timeoutMs = r.int32();
      const state = STATES[r.int8()];
      if (!state) throw new DecodeError("unknown transaction state");
      const startTimestamp = r.int64n();
      const lastUpdate = r.int64n();
      const version = r.int8();
      const bumpAtEnd = r.bool();
      const partitions: string[] = [];
      for (let i = count(r); i > 0; i--) partitions.push(partitionKey(r.compactString(), r.int32()));
      const groups: string[] = [];
      for (let i = count(r); i > 0; i--) groups.push(r.compactString());
      return { kind: "txn", txn: { transactionalId, producerId, prevProducerId, epoch, timeoutMs, state, partitions, groups, startTimestamp, lastUpdate, version, bumpAtEnd } };
    }
    case KIND["txn-delete"]:
      return { kind: "txn-delete", transactionalId: r.compactString() };
    case KIND["pid-block"]:
      return { kind: "pid-block", nextBlockStart: r.int64n() };
    default:
      return null;
  }
}

export const TXN_RECORDS: RecordCodec<TxnLogRecord> = { name: "transaction", size, write, read };
