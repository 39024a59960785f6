// RecordBatch v2 (magic 2): reading headers, decoding records (decompressing
// where needed), and building batches. The header layout is
// src/log/batch-header.ts's; produce-time checks are batch-validator.ts's.
//
// Every length read from a batch is checked against the bytes that hold it,
// and decompression is capped, so malformed input ends in a RecordsError.

import { crc32c } from "../codec/crc32c.ts";
import {
  ATTRIBUTES,
  BASE_OFFSET,
  BASE_SEQUENCE,
  BASE_TIMESTAMP,
  BATCH_LENGTH,
  CRC,
  HEADER_SIZE,
  LAST_OFFSET_DELTA,
  LOG_OVERHEAD,
  MAGIC,
  MAX_TIMESTAMP,
  PARTITION_LEADER_EPOCH,
  PRODUCER_EPOCH,
  PRODUCER_ID,
  RECORD_COUNT,
  readInt64,
  viewOf,
  writeInt64,
} from "../log/batch-header.ts";
import { CompressionError, compress, decompress, isKnownCodec } from "../codec/compression.ts";
import { ErrorCode } from "./errors.ts";
import { Reader } from "./reader.ts";
import { Writer, varintSize, varlongSize } from "./writer.ts";

export const MAGIC_V2 = 2;

export const Attr = {
  CODEC_MASK: 0x07,
  LOG_APPEND_TIME: 0x08,
  TRANSACTIONAL: 0x10,
  CONTROL: 0x20,
  DELETE_HORIZON: 0x40,
} as const;

export const ControlType = { ABORT: 0, COMMIT: 1 } as const;

/** Default cap on a batch's decompressed records when the caller gives none. */
export const DEFAULT_MAX_UNCOMPRESSED_BYTES = 64 * 1024 * 1024;

/** Smallest encoded record: length, attributes, timestamp delta, offset delta, key, value, header count. */
const MIN_RECORD_SIZE = 7;

export class RecordsError extends Error {
  override name = "RecordsError";
  constructor(
    message: string,
    /** The Kafka error code a Produce response should carry. */
    readonly kafkaErrorCode: number,
    /** Index of the offending record within its batch, for Produce's record_errors. */
    readonly recordIndex: number | null = null,
  ) {
    super(message);
  }
}

export interface BatchHeader {
  baseOffset: number;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  codec: number;
  logAppendTime: boolean;
  transactional: boolean;
  control: boolean;
  hasDeleteHorizonMs: boolean;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
  /** The whole batch on the wire: LOG_OVERHEAD + batchLength. */
  sizeInBytes: number;
}

export interface RecordHeader {
  key: string;
  value: Uint8Array | null;
}

export interface KafkaRecord {
  offset: number;
  timestamp: number;
  /** Views into the batch when it is uncompressed, into the decompressed buffer otherwise. */
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: RecordHeader[];
  attributes: number;
}

// ---- header ----

/** Reads the header of the batch at `pos`. Fields are read as they are; the produce checks (batch-validator.ts) judge them. */
export function readBatchHeader(buf: Uint8Array, pos = 0): BatchHeader {
  if (pos < 0 || buf.length - pos < HEADER_SIZE) {
    throw new RecordsError(`record batch header needs ${HEADER_SIZE} bytes, ${Math.max(0, buf.length - pos)} left`, ErrorCode.CORRUPT_MESSAGE);
  }
  const v = viewOf(buf);
  const batchLength = v.getInt32(pos + BATCH_LENGTH);
  const attributes = v.getInt16(pos + ATTRIBUTES);
  return {
    baseOffset: readInt64(v, pos),
    batchLength,
    partitionLeaderEpoch: v.getInt32(pos + PARTITION_LEADER_EPOCH),
    magic: v.getInt8(pos + MAGIC),
    crc: v.getUint32(pos + CRC),
    attributes,
    codec: attributes & Attr.CODEC_MASK,
    logAppendTime: (attributes & Attr.LOG_APPEND_TIME) !== 0,
    transactional: (attributes & Attr.TRANSACTIONAL) !== 0,
    control: (attributes & Attr.CONTROL) !== 0,
    hasDeleteHorizonMs: (attributes & Attr.DELETE_HORIZON) !== 0,
    lastOffsetDelta: v.getInt32(pos + LAST_OFFSET_DELTA),
    baseTimestamp: readInt64(v, pos + BASE_TIMESTAMP),
    maxTimestamp: readInt64(v, pos + MAX_TIMESTAMP),
    producerId: readInt64(v, pos + PRODUCER_ID),
    producerEpoch: v.getInt16(pos + PRODUCER_EPOCH),
    baseSequence: v.getInt32(pos + BASE_SEQUENCE),
    recordCount: v.getInt32(pos + RECORD_COUNT),
    sizeInBytes: LOG_OVERHEAD + batchLength,
  };
}

/** Whether the stored CRC matches the batch at `pos` (which must be whole). */
export function batchCrcMatches(buf: Uint8Array, pos = 0): boolean {
  const v = viewOf(buf);
  const size = LOG_OVERHEAD + v.getInt32(pos + BATCH_LENGTH);
  return crc32c(buf.subarray(pos + ATTRIBUTES, pos + size)) === v.getUint32(pos + CRC);
}

// ---- records ----

/** The records section of a whole batch, decompressed if needed (a view when uncompressed). */
export function batchRecordsBytes(batch: Uint8Array, maxUncompressedBytes = DEFAULT_MAX_UNCOMPRESSED_BYTES): Uint8Array {
  const h = readBatchHeader(batch, 0);
  if (h.sizeInBytes < HEADER_SIZE || h.sizeInBytes > batch.length) {
    throw new RecordsError(`batch length ${h.batchLength} does not fit the ${batch.length} bytes given`, ErrorCode.CORRUPT_MESSAGE);
  }
  const body = batch.subarray(HEADER_SIZE, h.sizeInBytes);
  if (h.codec === 0) return body;
  try {
    return decompress(h.codec, body, maxUncompressedBytes);
  } catch (e) {
    if (e instanceof CompressionError) throw new RecordsError(`record batch: ${e.message}`, ErrorCode.CORRUPT_MESSAGE);
    throw e;
  }
}

const utf8 = new TextDecoder("utf-8");

/** Header keys are short and nearly always ASCII; TextDecoder costs more than the loop for those. */
function headerKey(buf: Uint8Array, start: number, len: number): string {
  if (len > 32) return utf8.decode(buf.subarray(start, start + len));
  let s = "";
  for (let i = start; i < start + len; i++) {
    const c = buf[i]!;
    if (c > 0x7f) return utf8.decode(buf.subarray(start, start + len));
    s += String.fromCharCode(c);
  }
  return s;
}

/** What a record walk learns without materializing keys, values or headers. */
export interface RecordShape {
  timestampDelta: number;
  offsetDelta: number;
  keyNull: boolean;
}

// The record walk is the per-record hot path of every produce. It keeps its
// position in this module variable and decodes varints inline rather than
// through Reader's methods, which runs several times faster under JSC.
let at = 0;

function malformed(index: number, what: string): RecordsError {
  return new RecordsError(`record ${index}: ${what}`, ErrorCode.INVALID_RECORD, index);
}

/** A zigzag varint of at most `maxBytes` bytes (5: int32, 10: int64) at `at`, below `end`. */
function zigzag(buf: Uint8Array, end: number, maxBytes: number, index: number): number {
  let p = at;
  if (p >= end) throw malformed(index, "truncated");
  const b0 = buf[p++]!;
  if (b0 < 0x80) {
    at = p;
    return (b0 >>> 1) ^ -(b0 & 1);
  }
  let u = b0 & 0x7f;
  let scale = 128;
  for (let i = 1; i < maxBytes; i++) {
    if (p >= end) throw malformed(index, "truncated");
    const b = buf[p++]!;
    u += (b & 0x7f) * scale;
    if (b < 0x80) {
      at = p;
      return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
    }
    scale *= 128;
  }
  throw malformed(index, `varint longer than ${maxBytes} bytes`);
}

/** A varint length: -1 (null) or 0..(end - at); anything else is malformed. */
function nullableLength(buf: Uint8Array, end: number, what: string, index: number): number {
  const len = zigzag(buf, end, 5, index);
  if (len < -1 || len > end - at) throw malformed(index, `bad ${what} length ${len}`);
  return len;
}

/**
 * Reads one record from `r` into `shape`, materializing its fields when `out` is
 * given; without it nothing is allocated. Every length is checked against the
 * record's own end; malformed records throw RecordsError (INVALID_RECORD).
 */
export function readRecord(r: Reader, index: number, shape: RecordShape, out: KafkaRecord | null): void {
  const buf = r.buf;
  at = r.pos;
  const len = zigzag(buf, r.end, 5, index);
  if (len < MIN_RECORD_SIZE - 1 || len > r.end - at) throw malformed(index, `bad length ${len}`);
  const end = at + len;
  const attributes = (buf[at++]! << 24) >> 24;
  shape.timestampDelta = zigzag(buf, end, 10, index);
  shape.offsetDelta = zigzag(buf, end, 5, index);
  const keyLen = nullableLength(buf, end, "key", index);
  shape.keyNull = keyLen < 0;
  const key = keyLen < 0 || !out ? null : buf.subarray(at, at + keyLen);
  if (keyLen > 0) at += keyLen;
  const valueLen = nullableLength(buf, end, "value", index);
  const value = valueLen < 0 || !out ? null : buf.subarray(at, at + valueLen);
  if (valueLen > 0) at += valueLen;
  const headerCount = zigzag(buf, end, 5, index);
  // Each header takes at least two bytes, which bounds the count by what is left.
  if (headerCount < 0 || headerCount * 2 > end - at) throw malformed(index, `bad header count ${headerCount}`);
  const headers: RecordHeader[] | null = out ? [] : null;
  for (let h = 0; h < headerCount; h++) {
    const kLen = zigzag(buf, end, 5, index);
    if (kLen < 0 || kLen > end - at) throw malformed(index, `bad header key length ${kLen}`);
    const kStart = at;
    at += kLen;
    const vLen = nullableLength(buf, end, "header value", index);
    if (headers) headers.push({ key: headerKey(buf, kStart, kLen), value: vLen < 0 ? null : buf.subarray(at, at + vLen) });
    if (vLen > 0) at += vLen;
  }
  if (at !== end) throw malformed(index, `its fields take ${len + at - end} bytes, its length says ${len}`);
  r.pos = at;
  if (out) {
    out.attributes = attributes;
    out.key = key;
    out.value = value;
    out.headers = headers ?? [];
  }
}

export interface DecodeOptions {
  /** Cap on the decompressed records section; default DEFAULT_MAX_UNCOMPRESSED_BYTES. */
  maxUncompressedBytes?: number;
}

/** Reads one batch's records one at a time; the generator and the array form share it. */
class RecordCursor {
  private readonly h: BatchHeader;
  private readonly r: Reader;
  private readonly shape: RecordShape = { timestampDelta: 0, offsetDelta: 0, keyNull: false };
  private index = 0;

  constructor(batch: Uint8Array, opts: DecodeOptions) {
    this.h = readBatchHeader(batch, 0);
    this.r = new Reader(batchRecordsBytes(batch, opts.maxUncompressedBytes));
  }

  /** The next record, or null after the last one (checking that nothing follows it). */
  next(): KafkaRecord | null {
    const h = this.h;
    if (this.index >= h.recordCount) {
      if (this.r.remaining !== 0) throw new RecordsError(`${this.r.remaining} bytes follow the ${h.recordCount} declared records`, ErrorCode.INVALID_RECORD);
      return null;
    }
    const rec: KafkaRecord = { offset: 0, timestamp: 0, key: null, value: null, headers: [], attributes: 0 };
    readRecord(this.r, this.index++, this.shape, rec);
    rec.offset = h.baseOffset + this.shape.offsetDelta;
    rec.timestamp = h.logAppendTime ? h.maxTimestamp : h.baseTimestamp + this.shape.timestampDelta;
    return rec;
  }
}

/**
 * Iterates the records of one whole batch (as stored or fetched: `batch` starts at its
 * header). Records come out in order; offsets are baseOffset + offsetDelta.
 */
export function* iterateRecords(batch: Uint8Array, opts: DecodeOptions = {}): Generator<KafkaRecord> {
  const cursor = new RecordCursor(batch, opts);
  for (let rec = cursor.next(); rec !== null; rec = cursor.next()) yield rec;
}

/** All records of one whole batch. */
export function decodeRecords(batch: Uint8Array, opts: DecodeOptions = {}): KafkaRecord[] {
  const cursor = new RecordCursor(batch, opts);
  const out: KafkaRecord[] = [];
  for (let rec = cursor.next(); rec !== null; rec = cursor.next()) out.push(rec);
  return out;
}

/**
 * Offset and timestamp of each record, without materializing keys, values or headers:
 * the cheap walk behind ListOffsets by timestamp.
 */
export function* recordTimestamps(batch: Uint8Array, opts: DecodeOptions = {}): Generator<{ offset: number; timestamp: number }> {
  const h = readBatchHeader(batch, 0);
  const body = batchRecordsBytes(batch, opts.maxUncompressedBytes);
  const r = new Reader(body);
  const shape: RecordShape = { timestampDelta: 0, offsetDelta: 0, keyNull: false };
  for (let i = 0; i < h.recordCount; i++) {
    readRecord(r, i, shape, null);
    yield { offset: h.baseOffset + shape.offsetDelta, timestamp: h.logAppendTime ? h.maxTimestamp : h.baseTimestamp + shape.timestampDelta };
  }
}

export interface ControlRecord {
  version: number;
  /** 0 abort, 1 commit; other values are control records that are not transaction markers. */
  type: number;
  /** Present for transaction markers whose value holds it. */
  coordinatorEpoch: number | null;
}

/** Reads a control record's key (int16 version, int16 type) and, for markers, value (int16 version, int32 coordinator epoch). */
export function readControlRecord(record: KafkaRecord): ControlRecord {
  const k = record.key;
  if (!k || k.length < 4) throw new RecordsError("control record key too short", ErrorCode.CORRUPT_MESSAGE);
  const kv = viewOf(k);
  const type = kv.getInt16(2);
  const v = record.value;
  const coordinatorEpoch = (type === ControlType.ABORT || type === ControlType.COMMIT) && v && v.length >= 6 ? viewOf(v).getInt32(2) : null;
  return { version: kv.getInt16(0), type, coordinatorEpoch };
}

// ---- building ----

export type BytesInit = Uint8Array | string | null;

export interface RecordInit {
  key?: BytesInit;
  value?: BytesInit;
  headers?: { key: string; value: BytesInit }[];
  /** Defaults to the batch's baseTimestamp. */
  timestamp?: number;
  /** Defaults to the record's index; the cleaner keeps the original deltas of the records it retains. */
  offsetDelta?: number;
}

export interface BuildBatchOptions {
  records: RecordInit[];
  baseOffset?: number;
  partitionLeaderEpoch?: number;
  codec?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  transactional?: boolean;
  control?: boolean;
  /** When set, the batch is LogAppendTime-stamped with this time. */
  logAppendTime?: number;
  /** Defaults to the first record's timestamp, or now. */
  baseTimestamp?: number;
  /** Sets the delete-horizon bit; baseTimestamp then carries the horizon. */
  deleteHorizonMs?: number;
  /** Defaults to records - 1; a cleaned batch keeps its original one (the producer's sequence range). */
  lastOffsetDelta?: number;
}

const utf8Encoder = new TextEncoder();

function toBytes(b: BytesInit | undefined): Uint8Array | null {
  if (b === undefined || b === null) return null;
  return typeof b === "string" ? utf8Encoder.encode(b) : b;
}

function nullableSize(b: Uint8Array | null): number {
  return b === null ? varintSize(-1) : varintSize(b.length) + b.length;
}

function writeNullable(w: Writer, b: Uint8Array | null): void {
  if (b === null) {
    w.varint(-1);
  } else {
    w.varint(b.length);
    w.rawBytes(b);
  }
}

interface PreparedRecord {
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: { key: Uint8Array; value: Uint8Array | null }[];
  timestampDelta: number;
  offsetDelta: number;
  bodySize: number;
}

/** Builds one RecordBatch v2 with a correct CRC, compressing the records with `codec`. */
export function buildBatch(opts: BuildBatchOptions): Uint8Array {
  const n = opts.records.length;
  if (n === 0) throw new RecordsError("a record batch needs at least one record", ErrorCode.INVALID_RECORD);
  const baseTimestamp = opts.deleteHorizonMs ?? opts.baseTimestamp ?? opts.records[0]!.timestamp ?? Date.now();
  let maxTimestamp = -1;
  let recordsSize = 0;
  const prepared: PreparedRecord[] = [];
  for (let i = 0; i < n; i++) {
    const rec = opts.records[i]!;
    const ts = rec.timestamp ?? baseTimestamp;
    if (ts > maxTimestamp) maxTimestamp = ts;
    const key = toBytes(rec.key);
    const value = toBytes(rec.value);
    const headers = rec.headers && rec.headers.length > 0 ? rec.headers.map((h) => ({ key: utf8Encoder.encode(h.key), value: toBytes(h.value) })) : NO_HEADERS;
    const timestampDelta = ts - baseTimestamp;
    const offsetDelta = rec.offsetDelta ?? i;
    let bodySize = 1 + varlongSize(timestampDelta) + varintSize(offsetDelta) + nullableSize(key) + nullableSize(value) + varintSize(headers.length);
    for (const h of headers) bodySize += varintSize(h.key.length) + h.key.length + nullableSize(h.value);
    prepared.push({ key, value, headers, timestampDelta, offsetDelta, bodySize });
    recordsSize += varintSize(bodySize) + bodySize;
  }
  const codec = opts.codec ?? 0;
  if (!isKnownCodec(codec)) throw new RecordsError(`unknown compression codec ${codec}`, ErrorCode.CORRUPT_MESSAGE);
  // Uncompressed records are written in place after room for the header: one buffer, no copy.
  const inPlace = codec === 0;
  const w = Writer.alloc(inPlace ? HEADER_SIZE + recordsSize : recordsSize);
  if (inPlace) w.pos = HEADER_SIZE;
  for (let i = 0; i < n; i++) {
    const p = prepared[i]!;
    w.varint(p.bodySize);
    w.int8(0);
    w.varlong(p.timestampDelta);
    w.varint(p.offsetDelta);
    writeNullable(w, p.key);
    writeNullable(w, p.value);
    w.varint(p.headers.length);
    for (const h of p.headers) {
      w.varint(h.key.length);
      w.rawBytes(h.key);
      writeNullable(w, h.value);
    }
  }
  let attributes = codec;
  if (opts.logAppendTime !== undefined) attributes |= Attr.LOG_APPEND_TIME;
  if (opts.transactional) attributes |= Attr.TRANSACTIONAL;
  if (opts.control) attributes |= Attr.CONTROL;
  if (opts.deleteHorizonMs !== undefined) attributes |= Attr.DELETE_HORIZON;
  const fields: HeaderFields = {
    baseOffset: opts.baseOffset ?? 0,
    partitionLeaderEpoch: opts.partitionLeaderEpoch ?? -1,
    attributes,
    lastOffsetDelta: opts.lastOffsetDelta ?? n - 1,
    baseTimestamp,
    maxTimestamp: opts.logAppendTime ?? maxTimestamp,
    producerId: opts.producerId ?? -1,
    producerEpoch: opts.producerEpoch ?? -1,
    baseSequence: opts.baseSequence ?? -1,
    recordCount: n,
  };
  if (inPlace) {
    const batch = w.finish();
    signHeader(batch, fields);
    return batch;
  }
  return assemble(fields, compress(codec, w.finish()));
}

const NO_HEADERS: { key: Uint8Array; value: Uint8Array | null }[] = [];

interface HeaderFields {
  baseOffset: number;
  partitionLeaderEpoch: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

/** Header + records section, signed. */
function assemble(f: HeaderFields, records: Uint8Array): Uint8Array {
  const batch = Writer.alloc(HEADER_SIZE + records.length).buf;
  batch.set(records, HEADER_SIZE);
  signHeader(batch, f);
  return batch;
}

/** Writes the header into the first HEADER_SIZE bytes of a whole batch, then its CRC over the rest. */
function signHeader(batch: Uint8Array, f: HeaderFields): void {
  const v = viewOf(batch);
  writeInt64(v, BASE_OFFSET, f.baseOffset);
  v.setInt32(BATCH_LENGTH, batch.length - LOG_OVERHEAD);
  v.setInt32(PARTITION_LEADER_EPOCH, f.partitionLeaderEpoch);
  v.setInt8(MAGIC, MAGIC_V2);
  v.setInt16(ATTRIBUTES, f.attributes);
  v.setInt32(LAST_OFFSET_DELTA, f.lastOffsetDelta);
  writeInt64(v, BASE_TIMESTAMP, f.baseTimestamp);
  writeInt64(v, MAX_TIMESTAMP, f.maxTimestamp);
  writeInt64(v, PRODUCER_ID, f.producerId);
  v.setInt16(PRODUCER_EPOCH, f.producerEpoch);
  v.setInt32(BASE_SEQUENCE, f.baseSequence);
  v.setInt32(RECORD_COUNT, f.recordCount);
  v.setUint32(CRC, crc32c(batch.subarray(ATTRIBUTES)));
}

export interface ControlBatchOptions {
  producerId: number;
  producerEpoch: number;
  commit: boolean;
  coordinatorEpoch: number;
  timestamp: number;
  baseOffset?: number;
  partitionLeaderEpoch?: number;
}

/**
 * A transaction marker: a transactional control batch holding one record whose key is
 * (version 0, type 0 abort / 1 commit) and value (version 0, coordinator epoch).
 */
export function buildControlBatch(m: ControlBatchOptions): Uint8Array {
  const key = new Uint8Array(4);
  viewOf(key).setInt16(2, m.commit ? ControlType.COMMIT : ControlType.ABORT);
  const value = new Uint8Array(6);
  viewOf(value).setInt32(2, m.coordinatorEpoch);
  return buildBatch({
    records: [{ key, value, timestamp: m.timestamp }],
    baseOffset: m.baseOffset ?? 0,
    partitionLeaderEpoch: m.partitionLeaderEpoch ?? -1,
    producerId: m.producerId,
    producerEpoch: m.producerEpoch,
    baseSequence: -1,
    transactional: true,
    control: true,
  });
}
