// The records of the share-group state log (<data-dir>/share-state.log),
// klite's counterpart of Kafka's __share_group_state topic: each share-
// partition's state as a whole (start offset, state epoch, the in-flight
// window as runs), a share-partition's deletion, and a group's dynamic
// configs. The last record for a key wins on replay. Same framing and
// crash-safety as the group log (src/log/record-log.ts).

import { RecordLog, type LoadedLog, type RecordCodec, type RecordLogOptions } from "../log/record-log.ts";
import { DecodeError, Reader } from "../protocol/reader.ts";
import { compactStringSize, uvarintSize, Writer } from "../protocol/writer.ts";
import type { StateRun } from "./share-partition.ts";

const FORMAT = 0;

export interface PartitionStateRecord {
  kind: "partition";
  group: string;
  topicId: string;
  partition: number;
  stateEpoch: number;
  startOffset: number;
  runs: StateRun[];
}

export interface PartitionDeleteRecord {
  kind: "partition-delete";
  group: string;
  topicId: string;
  partition: number;
}

export interface GroupConfigRecord {
  kind: "group-config";
  group: string;
  /** The group's complete set of dynamic configs; empty removes them. */
  configs: [string, string][];
}

export type ShareStateRecord = PartitionStateRecord | PartitionDeleteRecord | GroupConfigRecord;

const KIND = { partition: 1, "partition-delete": 2, "group-config": 3 } as const;

function size(r: ShareStateRecord): number {
  const n = 2 + compactStringSize(r.group);
  switch (r.kind) {
    case "partition":
      return n + 16 + 4 + 4 + 8 + uvarintSize(r.runs.length + 1) + r.runs.length * (8 + 8 + 1 + 2);
    case "partition-delete":
      return n + 16 + 4;
    case "group-config": {
      let s = n + uvarintSize(r.configs.length + 1);
      for (const [k, v] of r.configs) s += compactStringSize(k) + compactStringSize(v);
      return s;
    }
  }
}

function write(w: Writer, r: ShareStateRecord): void {
  w.int8(FORMAT);
  w.int8(KIND[r.kind]);
  w.compactString(r.group);
  switch (r.kind) {
    case "partition":
      w.uuid(r.topicId);
      w.int32(r.partition);
      w.int32(r.stateEpoch);
      w.int64n(r.startOffset);
      w.uvarint(r.runs.length + 1);
      for (const run of r.runs) {
        w.int64n(run.first);
        w.int64n(run.last);
        w.int8(run.state);
        w.int16(run.deliveryCount);
      }
      return;
    case "partition-delete":
      w.uuid(r.topicId);
      w.int32(r.partition);
      return;
    case "group-config":
      w.uvarint(r.configs.length + 1);
      for (const [k, v] of r.configs) {
        w.compactString(k);
        w.compactString(v);
      }
      return;
  }
}

function read(payload: Uint8Array): ShareStateRecord | null {
  const r = new Reader(payload);
  const format = r.int8();
  if (format !== FORMAT) throw new DecodeError(`unknown share state record format ${format}`);
  const kind = r.int8();
  const group = r.compactString();
  switch (kind) {
    case KIND.partition: {
      const topicId = r.uuid();
      const partition = r.int32();
      const stateEpoch = r.int32();
      const startOffset = r.int64n();
      const n = r.compactArrayLength();
      const runs: StateRun[] = [];
      for (let i = 0; i < n; i++) runs.push({ first: r.int64n(), last: r.int64n(), state: r.int8(), deliveryCount: r.int16() });
      return { kind: "partition", group, topicId, partition, stateEpoch, startOffset, runs };
    }
    case KIND["partition-delete"]:
      return { kind: "partition-delete", group, topicId: r.uuid(), partition: r.int32() };
    case KIND["group-config"]: {
      const n = r.compactArrayLength();
      const configs: [string, string][] = [];
      for (let i = 0; i < n; i++) configs.push([r.compactString(), r.compactString()]);
      return { kind: "group-config", group, configs };
    }
    default:
      return null;
  }
}

export const SHARE_STATE_RECORDS: RecordCodec<ShareStateRecord> = { name: "share state", size, write, read };

export type ShareStateLog = RecordLog<ShareStateRecord>;

export function openShareStateLog(path: string, options: RecordLogOptions): LoadedLog<ShareStateRecord> {
  return RecordLog.open(path, SHARE_STATE_RECORDS, options);
}
