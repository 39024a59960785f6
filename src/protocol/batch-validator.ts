// Produce-time checks of one partition's records: the rules Kafka's
// ProduceRequest and LogValidator apply to batches from clients, and the
// rewrites the broker owes the batch it stores (maxTimestamp computed from the
// records, LogAppendTime stamped, the topic's compression.type applied). The
// result is the batch to store, or a RecordsError the partition answers with;
// a refused partition writes nothing.
//
// Cost on the produce path: the CRC pass over the batch, which storing it
// needs anyway, and one pass over the records' varints that allocates nothing
// per record. A compressed batch is decompressed once, and compressed again
// only when the topic's codec differs from the producer's.

import { crc32c } from "../codec/crc32c.ts";
import { Codec, CompressionError, compress, decompress, isKnownCodec } from "../codec/compression.ts";
import { ATTRIBUTES, BATCH_LENGTH, CRC, HEADER_SIZE, LOG_OVERHEAD, MAX_TIMESTAMP, batchMagic, batchSize, viewOf, writeInt64 } from "../log/batch-header.ts";
import { ErrorCode } from "./errors.ts";
import { Reader } from "./reader.ts";
import { Attr, DEFAULT_MAX_UNCOMPRESSED_BYTES, MAGIC_V2, RecordsError, batchCrcMatches, readBatchHeader, readRecord, type BatchHeader, type RecordShape } from "./records.ts";

export interface ProduceRules {
  /** Version of the Produce request: zstd needs v7+. */
  apiVersion: number;
  /** max.message.bytes: of the batch as received and as stored. */
  maxMessageBytes: number;
  /** cleanup.policy includes compact: every record needs a key. */
  compacted: boolean;
  /** message.timestamp.type=LogAppendTime: the broker's clock stamps the batch. */
  logAppendTime: boolean;
  /** message.timestamp.before.max.ms / after.max.ms (CreateTime only). */
  timestampBeforeMaxMs: number;
  timestampAfterMaxMs: number;
  /** The codec the batch is stored with; null keeps the producer's (compression.type=producer). */
  storedCodec: number | null;
  now: number;
  /**
   * klite.mirror.preserve.offsets: a batch may name where it goes (baseOffset > 0,
   * at or past the log end, which the caller checks) and keep the holes that
   * compaction leaves between its records' offset deltas. Kafka refuses both.
   */
  placedOffsets?: boolean;
  /** For messages. */
  topic: string;
  partition: number;
}

/** One refused record, as Produce v8+ reports it. */
export interface RecordError {
  batchIndex: number;
  batchIndexErrorMessage: string;
}

/** A refusal that names the records at fault (Produce's record_errors). */
export class RecordErrors extends RecordsError {
  override name = "RecordErrors";
  constructor(
    message: string,
    code: number,
    readonly recordErrors: RecordError[],
  ) {
    super(message, code);
  }
}

/** What Kafka calls a topic's codec in compression.type, as attribute codec ids; `producer` is null. */
export function storedCodecOf(compressionType: string): number | null {
  switch (compressionType) {
    case "uncompressed":
      return Codec.NONE;
    case "gzip":
      return Codec.GZIP;
    case "snappy":
      return Codec.SNAPPY;
    case "lz4":
      return Codec.LZ4;
    case "zstd":
      return Codec.ZSTD;
    default:
      return null;
  }
}

function fail(message: string, code: number): never {
  throw new RecordsError(message, code);
}

/**
 * Checks the records of one partition of a Produce request (v3+) and returns the
 * batch to append: `records` itself, rewritten in place where needed, or a new
 * buffer when the topic's codec differs. Throws RecordsError (RecordErrors when
 * individual records are at fault).
 */
export function validateProducedBatch(records: Uint8Array, rules: ProduceRules): Uint8Array {
  const h = checkHeader(records, rules);
  const section = recordsSection(records, h, rules);
  const maxTimestamp = walkRecords(section, h, rules);
  const stored = storedBatch(records, h, section, maxTimestamp, rules);
  if (stored.length > rules.maxMessageBytes) {
    fail(`The record batch as stored is ${stored.length} bytes, above max.message.bytes ${rules.maxMessageBytes}`, ErrorCode.MESSAGE_TOO_LARGE);
  }
  return stored;
}

/** ProduceRequest's rules (one batch of magic 2) and the header checks of LogValidator for client batches. */
function checkHeader(records: Uint8Array, rules: ProduceRules): BatchHeader {
  // A partial batch is no batch, as Kafka's batch iterator sees it.
  if (records.length < LOG_OVERHEAD) fail("Produce requests must carry one record batch per partition", ErrorCode.INVALID_RECORD);
  const v = viewOf(records);
  const size = batchSize(v, 0);
  if (size < HEADER_SIZE) fail(`Record batch length ${size - LOG_OVERHEAD} is shorter than a batch header`, ErrorCode.CORRUPT_MESSAGE);
  if (size > records.length) fail(`Truncated record batch: ${size} bytes declared, ${records.length} present`, ErrorCode.INVALID_RECORD);
  if (batchMagic(v, 0) !== MAGIC_V2) fail(`Produce requests carry record batches of magic 2 only, not ${batchMagic(v, 0)}`, ErrorCode.INVALID_RECORD);
  const h = readBatchHeader(records, 0);
  if (h.codec === Codec.ZSTD && rules.apiVersion < 7) fail(`Produce v${rules.apiVersion} may not carry zstd batches (v7+)`, ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
  if (size !== records.length) fail("Produce requests carry exactly one record batch per partition", ErrorCode.INVALID_RECORD);
  if (h.baseOffset !== 0 && !rules.placedOffsets) fail(`The base offset of a produced batch must be 0, not ${h.baseOffset}`, ErrorCode.INVALID_RECORD);
  if (size > rules.maxMessageBytes) fail(`The record batch is ${size} bytes, above max.message.bytes ${rules.maxMessageBytes}`, ErrorCode.MESSAGE_TOO_LARGE);
  if (!batchCrcMatches(records, 0)) fail(`Record batch is corrupt (stored CRC ${h.crc})`, ErrorCode.CORRUPT_MESSAGE);
  if (!isKnownCodec(h.codec)) fail(`Unknown compression codec ${h.codec}`, ErrorCode.CORRUPT_MESSAGE);
  if (h.lastOffsetDelta < 0) fail(`Invalid offset range: last offset delta ${h.lastOffsetDelta}`, ErrorCode.INVALID_RECORD);
  if (h.recordCount <= 0) fail(`Invalid record count ${h.recordCount}`, ErrorCode.INVALID_RECORD);
  if (rules.placedOffsets ? h.recordCount > h.lastOffsetDelta + 1 : h.recordCount !== h.lastOffsetDelta + 1) fail(`Record count ${h.recordCount} disagrees with last offset delta ${h.lastOffsetDelta}`, ErrorCode.INVALID_RECORD);
  if (h.control) fail("Clients may not write control batches", ErrorCode.INVALID_RECORD);
  if (h.producerId >= 0 && h.baseSequence < 0) fail(`Invalid sequence ${h.baseSequence} for producer id ${h.producerId}`, ErrorCode.INVALID_RECORD);
  return h;
}

/** The records section, decompressed when needed, never beyond what can be stored or a fixed cap. */
function recordsSection(records: Uint8Array, h: BatchHeader, rules: ProduceRules): Uint8Array {
  const body = records.subarray(HEADER_SIZE, h.sizeInBytes);
  if (h.codec === Codec.NONE) return body;
  const toNone = rules.storedCodec === Codec.NONE;
  const cap = toNone ? Math.max(0, rules.maxMessageBytes - HEADER_SIZE) : DEFAULT_MAX_UNCOMPRESSED_BYTES;
  try {
    return decompress(h.codec, body, cap);
  } catch (e) {
    if (!(e instanceof CompressionError)) throw e;
    if (e.reason === "too-large") {
      fail(`The records decompress to more than ${cap} bytes${toNone ? " (max.message.bytes of an uncompressed topic)" : ""}`, ErrorCode.MESSAGE_TOO_LARGE);
    }
    fail(`Record batch does not decompress: ${e.message}`, ErrorCode.CORRUPT_MESSAGE);
  }
}

/**
 * Walks every record once: structure (lengths and varints within bounds, offset
 * deltas 0..n-1, exactly the declared count), keys on compacted topics, timestamps.
 * Returns the largest record timestamp (-1 when none).
 */
function walkRecords(section: Uint8Array, h: BatchHeader, rules: ProduceRules): number {
  const r = new Reader(section);
  const shape: RecordShape = { timestampDelta: 0, offsetDelta: 0, keyNull: false };
  const checkRange = !rules.logAppendTime;
  const earliest = rules.now - rules.timestampBeforeMaxMs;
  const latest = rules.now + rules.timestampAfterMaxMs;
  let maxTimestamp = -1;
  let errors: RecordError[] | null = null;
  let badTimestamp = false;
  let previousDelta = -1;
  for (let i = 0; i < h.recordCount; i++) {
    if (r.remaining === 0) fail(`The batch declares ${h.recordCount} records and holds ${i}`, ErrorCode.INVALID_RECORD);
    readRecord(r, i, shape, null);
    // Placed batches keep compaction's holes: deltas rise and the last one is the batch's last offset delta.
    const deltaOk = rules.placedOffsets
      ? shape.offsetDelta > previousDelta && (i < h.recordCount - 1 || shape.offsetDelta === h.lastOffsetDelta)
      : shape.offsetDelta === i;
    if (!deltaOk) fail(`Record ${i} has offset delta ${shape.offsetDelta}`, ErrorCode.INVALID_RECORD);
    previousDelta = shape.offsetDelta;
    const timestamp = h.logAppendTime ? h.maxTimestamp : h.baseTimestamp + shape.timestampDelta;
    if (rules.compacted && shape.keyNull) {
      (errors ??= []).push({ batchIndex: i, batchIndexErrorMessage: `Compacted topic partition ${rules.topic}-${rules.partition} refuses a record without a key` });
    } else if (checkRange && timestamp !== -1) {
      if (timestamp < earliest || timestamp > latest) {
        badTimestamp = true;
        (errors ??= []).push({
          batchIndex: i,
          batchIndexErrorMessage: `Timestamp ${timestamp} of record ${i} is out of range: the topic accepts [${earliest}, ${latest}]`,
        });
      }
    } else if (h.logAppendTime) {
      badTimestamp = true;
      (errors ??= []).push({ batchIndex: i, batchIndexErrorMessage: "Producers may not set the LogAppendTime timestamp type" });
    }
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
  }
  if (r.remaining !== 0) fail(`${r.remaining} bytes follow the ${h.recordCount} declared records`, ErrorCode.INVALID_RECORD);
  if (errors) {
    if (badTimestamp) throw new RecordErrors("One or more records have an invalid timestamp", ErrorCode.INVALID_TIMESTAMP, errors);
    const shown = errors.slice(0, 3).map((e) => `record ${e.batchIndex}: ${e.batchIndexErrorMessage}`);
    throw new RecordErrors(`${errors.length} record(s) refused; ${shown.join("; ")}`, ErrorCode.INVALID_RECORD, errors);
  }
  return maxTimestamp;
}

/**
 * The batch to store: the received one with its maxTimestamp (and LogAppendTime)
 * corrected in place and re-signed only when they change, or, when the topic's
 * codec differs, a new batch of the same records in that codec. Producer id,
 * epoch, sequence and the transactional bit carry over unchanged.
 */
function storedBatch(records: Uint8Array, h: BatchHeader, section: Uint8Array, recordsMax: number, rules: ProduceRules): Uint8Array {
  const codec = rules.storedCodec ?? h.codec;
  const attributes = (h.attributes & ~(Attr.CODEC_MASK | Attr.LOG_APPEND_TIME)) | codec | (rules.logAppendTime ? Attr.LOG_APPEND_TIME : 0);
  const maxTimestamp = rules.logAppendTime ? rules.now : recordsMax;
  if (codec === h.codec) {
    if (attributes !== h.attributes || maxTimestamp !== h.maxTimestamp) resign(records, attributes, maxTimestamp);
    return records;
  }
  const packed = compress(codec, section);
  const out = new Uint8Array(HEADER_SIZE + packed.length);
  out.set(records.subarray(0, HEADER_SIZE));
  out.set(packed, HEADER_SIZE);
  viewOf(out).setInt32(BATCH_LENGTH, out.length - LOG_OVERHEAD);
  resign(out, attributes, maxTimestamp);
  return out;
}

function resign(batch: Uint8Array, attributes: number, maxTimestamp: number): void {
  const v = viewOf(batch);
  v.setInt16(ATTRIBUTES, attributes);
  writeInt64(v, MAX_TIMESTAMP, maxTimestamp);
  v.setUint32(CRC, crc32c(batch.subarray(ATTRIBUTES)));
}
