// The records of the group log (<data-dir>/consumer-offsets.log): committed
// offsets and their tombstones, group metadata and group tombstones, and the
// end of a transaction's pending offsets. Each record starts with a format
// byte so a newer klite can change the layout; strings are compact (uvarint
// length) so no group id or metadata is too long to store.

import { DecodeError, Reader } from "../protocol/reader.ts";
import { compactStringSize, Writer } from "../protocol/writer.ts";

export const RECORD_FORMAT = 0;

export interface OffsetRecord {
  kind: "offset";
  group: string;
  topic: string;
  partition: number;
  offset: bigint;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
  expireTimestamp: number;
  /** -1 for a plain commit; else the transaction's producer id (pending until its end record). */
  producerId: number;
}

export interface OffsetTombstone {
  kind: "offset-delete";
  group: string;
  topic: string;
  partition: number;
}

export interface GroupRecord {
  kind: "group";
  group: string;
  groupType: string;
  protocolType: string | null;
  generation: number;
  protocolName: string | null;
  /** When the group became Empty; -1 while it had members (it reloads as Empty since the load). */
  emptySince: number;
}

export interface GroupTombstone {
  kind: "group-delete";
  group: string;
}

export interface TxnEndRecord {
  kind: "txn-end";
  group: string;
  producerId: number;
  commit: boolean;
}

export type LogRecord = OffsetRecord | OffsetTombstone | GroupRecord | GroupTombstone | TxnEndRecord;

const KIND = { offset: 1, "offset-delete": 2, group: 3, "group-delete": 4, "txn-end": 5 } as const;

function nstr(s: string | null): number {
  return compactStringSize(s);
}

export function recordSize(r: LogRecord): number {
  const n = 2 + nstr(r.group);
  switch (r.kind) {
    case "offset":
      return n + nstr(r.topic) + 4 + 8 + 4 + nstr(r.metadata) + 8 + 8 + 8;
    case "offset-delete":
      return n + nstr(r.topic) + 4;
    case "group":
      return n + nstr(r.groupType) + nstr(r.protocolType) + 4 + nstr(r.protocolName) + 8;
    case "group-delete":
      return n;
    case "txn-end":
      return n + 8 + 1;
  }
}

export function writeRecord(w: Writer, r: LogRecord): void {
  w.int8(RECORD_FORMAT);
  w.int8(KIND[r.kind]);
  w.compactString(r.group);
  switch (r.kind) {
    case "offset":
      w.compactString(r.topic);
      w.int32(r.partition);
      w.int64(r.offset);
      w.int32(r.leaderEpoch);
      w.compactString(r.metadata);
      w.int64n(r.commitTimestamp);
      w.int64n(r.expireTimestamp);
      w.int64n(r.producerId);
      return;
    case "offset-delete":
      w.compactString(r.topic);
      w.int32(r.partition);
      return;
    case "group":
      w.compactString(r.groupType);
      w.compactNullableString(r.protocolType);
      w.int32(r.generation);
      w.compactNullableString(r.protocolName);
      w.int64n(r.emptySince);
      return;
    case "group-delete":
      return;
    case "txn-end":
      w.int64n(r.producerId);
      w.bool(r.commit);
      return;
  }
}

/** Decodes one record payload; null for a record kind this version does not know (skipped on load). */
export function readRecord(payload: Uint8Array): LogRecord | null {
  const r = new Reader(payload);
  const format = r.int8();
  if (format !== RECORD_FORMAT) throw new DecodeError(`unknown group record format ${format}`);
  const kind = r.int8();
  const group = r.compactString();
  switch (kind) {
    case KIND.offset:
      return {
        kind: "offset",
        group,
        topic: r.compactString(),
        partition: r.int32(),
        offset: r.int64(),
        leaderEpoch: r.int32(),
        metadata: r.compactString(),
        commitTimestamp: r.int64n(),
        expireTimestamp: r.int64n(),
        producerId: r.int64n(),
      };
    case KIND["offset-delete"]:
      return { kind: "offset-delete", group, topic: r.compactString(), partition: r.int32() };
    case KIND.group:
      return {
        kind: "group",
        group,
        groupType: r.compactString(),
        protocolType: r.compactNullableString(),
        generation: r.int32(),
        protocolName: r.compactNullableString(),
        emptySince: r.int64n(),
      };
    case KIND["group-delete"]:
      return { kind: "group-delete", group };
    case KIND["txn-end"]:
      return { kind: "txn-end", group, producerId: r.int64n(), commit: r.bool() };
    default:
      return null;
  }
}
