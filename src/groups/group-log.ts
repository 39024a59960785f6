// The group coordinator's store, <data-dir>/consumer-offsets.log: a record
// log (src/log/record-log.ts) of the group records in ./records.ts.

import { decodeFrames as decodeAny, encodeFrames as encodeAny, RecordLog, type LoadedLog, type RecordCodec, type RecordLogOptions } from "../log/record-log.ts";
import { readRecord, recordSize, writeRecord, type LogRecord } from "./records.ts";

export const GROUP_RECORDS: RecordCodec<LogRecord> = { name: "group", size: recordSize, write: writeRecord, read: readRecord };

export type GroupLog = RecordLog<LogRecord>;
export type GroupLogOptions = RecordLogOptions;

export const GroupLog = {
  open: (path: string, options: RecordLogOptions): LoadedLog<LogRecord> => RecordLog.open(path, GROUP_RECORDS, options),
};

export const encodeFrames = (records: Iterable<LogRecord>): Uint8Array => encodeAny(GROUP_RECORDS, records);
export const decodeFrames = (buf: Uint8Array, warn?: (msg: string) => void): { records: LogRecord[]; valid: number } => decodeAny(GROUP_RECORDS, buf, warn);
