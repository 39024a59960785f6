// TxnOffsetCommit v0-5: a transactional producer stages a consumer group's
// offsets inside its transaction; the group coordinator makes them visible on
// commit and drops them on abort (EndTxn → markers → completeTransaction).
//
// Checks run in Kafka's order: unknown topics/partitions fail alone; then the
// transaction check (Kafka's partition verification against the transaction
// coordinator); then the group's generation/member check and a durable write.
// v0-4 require the group to have been added with AddOffsetsToTxn; v5
// (transactions v2, KIP-890) adds it implicitly.

import type * as Req from "../../generated/TxnOffsetCommitRequest.ts";
import type * as Res from "../../generated/TxnOffsetCommitResponse.ts";
import type { Broker } from "../broker.ts";
import type { OffsetCommitItem } from "../groups/coordinator.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { RequestContext } from "./registry.ts";

/** The first version whose clients understand TRANSACTION_ABORTABLE (KIP-890). */
const ABORTABLE_FROM = 4;
/** From this version the request itself adds the group to the transaction (transactions v2). */
const IMPLICIT_ADD_FROM = 5;

/**
 * Is the producer allowed to commit offsets for `groupId` in its transaction?
 * Error codes as a Kafka broker answers them after verification: a fenced or
 * mismatched epoch is INVALID_PRODUCER_EPOCH (clients treat it as fenced), a
 * group outside the transaction TRANSACTION_ABORTABLE, or INVALID_TXN_STATE
 * for clients older than KIP-890.
 */
export function verifyTxnOffsetCommit(broker: Broker, req: Req.TxnOffsetCommitRequest, version: number): number {
  if (req.transactionalId === "") return ErrorCode.INVALID_REQUEST;
  const pid = Number(req.producerId);
  const code =
    version >= IMPLICIT_ADD_FROM
      ? broker.transactions.addOffsets(req.transactionalId, pid, req.producerEpoch, req.groupId)
      : groupInTransaction(broker, req.transactionalId, pid, req.producerEpoch, req.groupId);
  if (code === ErrorCode.PRODUCER_FENCED) return ErrorCode.INVALID_PRODUCER_EPOCH;
  if (code === ErrorCode.TRANSACTION_ABORTABLE && version < ABORTABLE_FROM) return ErrorCode.INVALID_TXN_STATE;
  return code;
}

function groupInTransaction(broker: Broker, transactionalId: string, producerId: number, epoch: number, groupId: string): number {
  const c = broker.transactions.check(transactionalId, producerId, epoch);
  if (!c.txn) return c.errorCode;
  return c.txn.state === "Ongoing" && c.txn.groups.includes(groupId) ? ErrorCode.NONE : ErrorCode.TRANSACTION_ABORTABLE;
}

export async function handleTxnOffsetCommit(broker: Broker, req: Req.TxnOffsetCommitRequest, ctx: RequestContext): Promise<Res.TxnOffsetCommitResponseInit> {
  const v = ctx.apiVersion;
  const items: OffsetCommitItem[] = [];
  const waiting: Res.TxnOffsetCommitResponsePartitionInit[] = [];
  const topics: Res.TxnOffsetCommitResponseTopicInit[] = req.topics.map((t) => {
    const topic = broker.topics.get(t.name);
    const partitions = t.partitions.map((p) => {
      const known = !!topic && p.partitionIndex >= 0 && p.partitionIndex < topic.partitions.length;
      const out: Res.TxnOffsetCommitResponsePartitionInit = { partitionIndex: p.partitionIndex, errorCode: known ? ErrorCode.NONE : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
      if (known) {
        waiting.push(out);
        items.push({ topic: t.name, partition: p.partitionIndex, offset: p.committedOffset, leaderEpoch: v >= 2 ? p.committedLeaderEpoch : -1, metadata: p.committedMetadata });
      }
      return out;
    });
    return { name: t.name, partitions };
  });
  if (items.length === 0) return { throttleTimeMs: 0, topics };
  const fail = (code: number) => {
    for (const w of waiting) w.errorCode = code;
    return { throttleTimeMs: 0, topics };
  };
  if (req.groupId === "") return fail(ErrorCode.INVALID_GROUP_ID);
  const verified = verifyTxnOffsetCommit(broker, req, v);
  if (verified !== ErrorCode.NONE) return fail(verified);
  const codes = await broker.groups.commitTransactionalOffsets(
    {
      groupId: req.groupId,
      producerId: Number(req.producerId),
      // v0-2 carry no member identity: Kafka treats them as generation -1, member "".
      memberId: v >= 3 ? req.memberId : "",
      groupInstanceId: v >= 3 ? req.groupInstanceId : null,
      generationId: v >= 3 ? req.generationId : -1,
      apiVersion: v,
    },
    items,
  );
  codes.forEach((c, i) => (waiting[i]!.errorCode = c));
  return { throttleTimeMs: 0, topics };
}
