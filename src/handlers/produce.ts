// Produce: validate each partition's batch as Kafka does (batch-validator.ts:
// structure, every record, keys on compacted topics, timestamps, the topic's
// codec), check it against the producer's state, append it in request order,
// then acknowledge after the group-commit fsync (acks=1/-1) or not at all
// (acks=0).
//
// Appends happen synchronously before the first await, so pipelined produce
// requests on a connection land in the log in the order they were sent.

import type * as Req from "../../generated/ProduceRequest.ts";
import type * as Res from "../../generated/ProduceResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { ZERO_UUID } from "../protocol/generated-support.ts";
import { RecordErrors, storedCodecOf, validateProducedBatch, type RecordError } from "../protocol/batch-validator.ts";
import { RecordsError } from "../protocol/records.ts";
import { autoCreateTopic } from "../meta/topic-create.ts";
import { invalidTopicName } from "../meta/topic-config.ts";
import type { Partition, Topic } from "../meta/topics.ts";
import type { RequestContext } from "./registry.ts";
import { batchFacts } from "../txn/partition-txn.ts";
import { LogStorageError } from "../log/partition-log.ts";
import { batchBaseOffset, viewOf } from "../log/batch-header.ts";

type PartitionResult = Res.PartitionProduceResponseInit;

function failed(index: number, errorCode: number, errorMessage: string | null = null, recordErrors: RecordError[] = []): PartitionResult {
  return { index, errorCode, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n, recordErrors, errorMessage };
}

function resolveTopic(broker: Broker, t: Req.TopicProduceData, version: number): Topic | number {
  if (version >= 13) return broker.topics.getById(t.topicId) ?? ErrorCode.UNKNOWN_TOPIC_ID;
  const existing = broker.topics.get(t.name);
  if (existing) return existing;
  if (invalidTopicName(t.name)) return ErrorCode.INVALID_TOPIC_EXCEPTION;
  if (!broker.options.autoCreateTopics) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  const created = autoCreateTopic(broker, t.name);
  return "topic" in created ? created.topic : created.errorCode;
}

/** Validates and appends one partition's records; returns the response entry. */
export function appendToPartition(
  broker: Broker,
  part: Partition,
  records: Uint8Array | null,
  now: number,
  apiVersion: number,
  txn: { transactionalId: string | null; implicitAdd: boolean },
): PartitionResult {
  const topic = part.topic;
  if (part.log.storageError) return failed(part.index, ErrorCode.KAFKA_STORAGE_ERROR, part.log.storageError.message);
  if (records === null || records.length === 0) return failed(part.index, ErrorCode.INVALID_RECORD, "Produce request has no records");
  const config = (key: string) => broker.topics.configValue(topic, key);
  const logAppendTime = config("message.timestamp.type") === "LogAppendTime";
  const placedOffsets = config("klite.mirror.preserve.offsets") === "true";
  let batch: Uint8Array;
  try {
    batch = validateProducedBatch(records, {
      apiVersion,
      maxMessageBytes: Number(config("max.message.bytes")),
      compacted: config("cleanup.policy").includes("compact"),
      logAppendTime,
      timestampBeforeMaxMs: Number(config("message.timestamp.before.max.ms")),
      timestampAfterMaxMs: Number(config("message.timestamp.after.max.ms")),
      storedCodec: storedCodecOf(config("compression.type")),
      now,
      placedOffsets,
      topic: topic.name,
      partition: part.index,
    });
  } catch (e) {
    if (e instanceof RecordsError) return failed(part.index, e.kafkaErrorCode, e.message, e instanceof RecordErrors ? e.recordErrors : []);
    throw e;
  }
  const first = batchFacts(batch);

  if (first.producerId >= 0) {
    if (first.transactional) {
      if (txn.transactionalId === null) return failed(part.index, ErrorCode.INVALID_TXN_STATE, "Transactional records need a transactional id");
      const coord = broker.transactions;
      const code = txn.implicitAdd
        ? coord.addPartitions(txn.transactionalId, first.producerId, first.producerEpoch, [[topic.name, part.index]])
        : coord.check(txn.transactionalId, first.producerId, first.producerEpoch).errorCode ||
          (coord.inTransaction(txn.transactionalId, first.producerId, topic.name, part.index) ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE);
      if (code !== ErrorCode.NONE) return failed(part.index, code);
    }
    const c = part.txn.producers.check({ producerId: first.producerId, producerEpoch: first.producerEpoch, baseSequence: first.baseSequence, count: first.lastOffset - first.baseOffset + 1 });
    if (c.kind === "error") return failed(part.index, c.errorCode, c.message);
    if (c.kind === "duplicate") {
      // A retry of a batch we already have: answer with where it went.
      return { index: part.index, errorCode: ErrorCode.NONE, baseOffset: BigInt(c.firstOffset), logAppendTimeMs: -1n, logStartOffset: BigInt(part.log.logStartOffset), recordErrors: [], errorMessage: null };
    }
  }

  // A placed batch (klite mirror) goes where it says, never below the log end: a copy sent twice is refused.
  const placedAt = placedOffsets ? placement(batch) : 0;
  if (placedAt > 0 && placedAt < part.log.logEndOffset) {
    return failed(part.index, ErrorCode.INVALID_RECORD, `The batch is placed at offset ${placedAt}, below the log end offset ${part.log.logEndOffset}`);
  }
  let appended;
  try {
    appended = part.log.append(batch, undefined, placedAt > 0 ? placedAt : undefined);
  } catch (e) {
    if (e instanceof LogStorageError) return failed(part.index, ErrorCode.KAFKA_STORAGE_ERROR, e.message);
    throw e;
  }
  // The log patched the base offset in place: the facts now carry the real offsets.
  // (It wakes long-polling fetches itself, once the records are visible.)
  part.txn.apply(batchFacts(batch), batch);
  return {
    index: part.index,
    errorCode: ErrorCode.NONE,
    baseOffset: BigInt(appended.baseOffset),
    logAppendTimeMs: logAppendTime ? BigInt(now) : -1n,
    logStartOffset: BigInt(part.log.logStartOffset),
    recordErrors: [],
    errorMessage: null,
  };
}

function placement(batch: Uint8Array): number {
  return batchBaseOffset(viewOf(batch), 0);
}

export async function handleProduce(broker: Broker, req: Req.ProduceRequest, ctx: RequestContext): Promise<Res.ProduceResponseInit | null> {
  const v = ctx.apiVersion;
  const now = Date.now();
  const acks = req.acks;
  const touched: [Partition, PartitionResult][] = [];
  const responses: Res.TopicProduceResponseInit[] = [];
  for (const t of req.topicData) {
    const resolved = acks === 0 || acks === 1 || acks === -1 ? resolveTopic(broker, t, v) : ErrorCode.INVALID_REQUIRED_ACKS;
    const partitionResponses: PartitionResult[] = [];
    for (const p of t.partitionData) {
      if (typeof resolved === "number") {
        partitionResponses.push(failed(p.index, resolved));
        continue;
      }
      const part = resolved.partitions[p.index];
      if (!part) {
        partitionResponses.push(failed(p.index, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
        continue;
      }
      // Transactions v2 (Produce v12+): a transactional produce adds its partition to the transaction.
      const r = appendToPartition(broker, part, p.records, now, v, { transactionalId: req.transactionalId, implicitAdd: v >= 12 });
      if (r.errorCode === ErrorCode.NONE) touched.push([part, r]);
      // Produce answers never carry PRODUCER_FENCED, as from Kafka (KAFKA-10687): clients know a stale epoch only as INVALID_PRODUCER_EPOCH.
      partitionResponses.push(r.errorCode === ErrorCode.PRODUCER_FENCED ? { ...r, errorCode: ErrorCode.INVALID_PRODUCER_EPOCH } : r);
    }
    responses.push({ name: t.name, topicId: typeof resolved === "number" ? (v >= 13 ? t.topicId : ZERO_UUID) : resolved.id, partitionResponses });
  }
  if (acks === 0) return null;
  // Group commit: one fsync covers every append of this window, across partitions and connections.
  // A partition whose fsync failed answers KAFKA_STORAGE_ERROR: its records may be lost.
  await Promise.all(
    touched.map(([part, r]) =>
      part.log.flushed().catch((e) => Object.assign(r, failed(part.index, ErrorCode.KAFKA_STORAGE_ERROR, e instanceof Error ? e.message : String(e)))),
    ),
  );
  return { responses, throttleTimeMs: 0, nodeEndpoints: [] };
}
