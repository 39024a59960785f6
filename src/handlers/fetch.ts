// Fetch: whole stored batches from the one holding the fetch offset, bounded
// by max_bytes and partition_max_bytes (the first batch of the response is
// sent even when larger, KIP-74), long-polled until min_bytes arrive or
// max_wait_ms passes. Fetch sessions (KIP-227) are not kept: every fetch is
// answered in full with session id 0, which clients treat as "no session".

import type * as Req from "../../generated/FetchRequest.ts";
import type * as Res from "../../generated/FetchResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { ZERO_UUID } from "../protocol/generated-support.ts";
import type { Partition, Topic } from "../meta/topics.ts";
import { waitForPartitions } from "../meta/partition-wait.ts";
import type { RequestContext } from "./registry.ts";
import { leaderEpochError } from "./partition-lookup.ts";
import { LOG_OVERHEAD, batchBaseOffset, batchSize, viewOf } from "../log/batch-header.ts";

const READ_COMMITTED = 1;

interface Target {
  topicName: string;
  topicId: string;
  /** null when the topic is unknown; each partition then carries the error. */
  topic: Topic | undefined;
  partitions: Req.FetchPartition[];
}

export async function handleFetch(broker: Broker, req: Req.FetchRequest, ctx: RequestContext): Promise<Res.FetchResponseInit> {
  const v = ctx.apiVersion;
  // A client that believes it has a session (epoch > 0) must start over.
  if (req.sessionEpoch > 0) {
    return { throttleTimeMs: 0, errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND, sessionId: 0, responses: [] };
  }
  const targets: Target[] = req.topics.map((t) => {
    const topic = v >= 13 ? broker.topics.getById(t.topicId) : broker.topics.get(t.topic);
    return { topicName: t.topic, topicId: t.topicId, topic, partitions: t.partitions };
  });

  const deadline = Date.now() + Math.max(0, req.maxWaitMs);
  for (;;) {
    const { responses, bytes, errors } = readAll(broker, req, targets, v);
    const remaining = deadline - Date.now();
    if (bytes >= req.minBytes || errors || remaining <= 0 || broker.closing) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, responses, nodeEndpoints: [] };
    }
    await waitForData(targets, remaining);
  }
}

function readAll(broker: Broker, req: Req.FetchRequest, targets: Target[], v: number): { responses: Res.FetchableTopicResponseInit[]; bytes: number; errors: boolean } {
  let budget = req.maxBytes;
  let bytes = 0;
  let errors = false;
  const responses: Res.FetchableTopicResponseInit[] = [];
  for (const t of targets) {
    const partitions: Res.PartitionDataInit[] = [];
    for (const p of t.partitions) {
      const part = t.topic?.partitions[p.partition];
      if (!part) {
        errors = true;
        partitions.push(errorPartition(p.partition, t.topic || v < 13 ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.UNKNOWN_TOPIC_ID));
        continue;
      }
      const epochErr = leaderEpochError(p.currentLeaderEpoch, part.log.leaderEpoch);
      if (epochErr) {
        errors = true;
        // As Kafka (KIP-951): a fenced client learns the current leader and epoch without a Metadata round trip.
        const currentLeader = { leaderId: broker.nodeId, leaderEpoch: part.log.leaderEpoch };
        partitions.push({ ...errorPartition(p.partition, epochErr), ...(v >= 12 ? { currentLeader } : {}) });
        continue;
      }
      const r = readPartition(part, p, Math.min(p.partitionMaxBytes, budget), bytes === 0, req.isolationLevel, v);
      if (r.errorCode !== ErrorCode.NONE) errors = true;
      budget -= r.size;
      bytes += r.size;
      partitions.push(r.data);
    }
    responses.push({ topic: t.topicName, topicId: t.topic?.id ?? t.topicId ?? ZERO_UUID, partitions });
  }
  return { responses, bytes, errors };
}

// A partition that answers with an error still carries records, empty as from
// Kafka: librdkafka 2.15 reads null records (size -1) as a parse failure of the
// whole response and never sees the error (OFFSET_OUT_OF_RANGE then never
// triggers auto.offset.reset).
const NO_RECORDS: Uint8Array[] = [];

function errorPartition(index: number, errorCode: number): Res.PartitionDataInit {
  return { partitionIndex: index, errorCode, highWatermark: -1n, lastStableOffset: -1n, logStartOffset: -1n, abortedTransactions: null, records: NO_RECORDS };
}

function readPartition(
  part: Partition,
  p: Req.FetchPartition,
  maxBytes: number,
  first: boolean,
  isolation: number,
  v: number,
): { data: Res.PartitionDataInit; size: number; errorCode: number } {
  const log = part.log;
  const hw = part.highWatermark;
  const lso = part.lastStableOffset();
  const limit = isolation === READ_COMMITTED ? lso : hw;
  const offset = Number(p.fetchOffset);
  const base = {
    partitionIndex: p.partition,
    highWatermark: BigInt(hw),
    lastStableOffset: BigInt(lso),
    logStartOffset: BigInt(log.logStartOffset),
    preferredReadReplica: -1,
  };
  // A fetcher that names the epoch of what it read last (v12+, followers in Kafka) learns where its log diverges, and gets no records (checked first, as Kafka does: its offset may lie past the new end).
  if (v >= 12 && p.lastFetchedEpoch >= 0) {
    const end = log.endOffsetForEpoch(p.lastFetchedEpoch);
    if (end.epoch < p.lastFetchedEpoch || end.endOffset < offset) {
      const divergingEpoch = { epoch: end.epoch, endOffset: BigInt(end.endOffset) };
      return { data: { ...base, errorCode: ErrorCode.NONE, abortedTransactions: null, records: NO_RECORDS, divergingEpoch }, size: 0, errorCode: ErrorCode.NONE };
    }
  }
  // Between the high watermark and the log end (written, not yet durable) is in range and reads nothing yet.
  if (offset < log.logStartOffset || offset > log.logEndOffset) {
    return { data: { ...base, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, abortedTransactions: null, records: NO_RECORDS }, size: 0, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE };
  }
  let chunks: Uint8Array[] = [];
  let size = 0;
  if (offset < limit && (maxBytes > 0 || first)) {
    const r = log.read(offset, Math.max(0, maxBytes), first);
    if (r !== "out_of_range") {
      chunks = r.chunks;
      size = r.size;
      if (limit < log.logEndOffset) ({ chunks, size } = cutAt(chunks, limit));
    }
  }
  // Only the aborted transactions that overlap the batches returned, as Kafka answers: not all of them up to the LSO.
  const aborted =
    isolation === READ_COMMITTED
      ? log.abortedTxns(offset, Math.min(limit, endOfBatches(chunks, offset))).map((a) => ({ producerId: BigInt(a.producerId), firstOffset: BigInt(a.firstOffset) }))
      : null;
  return {
    data: { ...base, errorCode: ErrorCode.NONE, abortedTransactions: aborted, records: chunks },
    size,
    errorCode: ErrorCode.NONE,
  };
}

function waitForData(targets: Target[], ms: number): Promise<void> {
  const parts: Partition[] = [];
  for (const t of targets) {
    for (const p of t.partitions) {
      const part = t.topic?.partitions[p.partition];
      if (part) parts.push(part);
    }
  }
  return waitForPartitions(parts, ms);
}

/** Keeps the whole batches that start below `limit` (the last stable offset falls on a batch boundary). */
/** The offset after the last batch in `chunks` (`from` when there is none): headers only. */
function endOfBatches(chunks: Uint8Array[], from: number): number {
  let end = from;
  for (const c of chunks) {
    const v = new DataView(c.buffer, c.byteOffset, c.byteLength);
    for (let pos = 0; pos + 27 <= c.length; pos += 12 + v.getInt32(pos + 8)) end = v.getInt32(pos) * 4294967296 + v.getUint32(pos + 4) + v.getInt32(pos + 23) + 1;
  }
  return end;
}

function cutAt(chunks: Uint8Array[], limit: number): { chunks: Uint8Array[]; size: number } {
  const out: Uint8Array[] = [];
  let size = 0;
  for (const c of chunks) {
    const v = viewOf(c);
    let pos = 0;
    while (pos + LOG_OVERHEAD <= c.length) {
      if (batchBaseOffset(v, pos) >= limit) break;
      pos += batchSize(v, pos);
    }
    if (pos > 0) {
      out.push(c.subarray(0, Math.min(pos, c.length)));
      size += Math.min(pos, c.length);
    }
    if (pos < c.length) break;
  }
  return { chunks: out, size };
}
