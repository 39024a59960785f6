// InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn and EndTxn: thin
// adapters from the wire shapes to the transaction coordinator.

import type * as InitReq from "../../generated/InitProducerIdRequest.ts";
import type * as InitRes from "../../generated/InitProducerIdResponse.ts";
import type * as AddPartsReq from "../../generated/AddPartitionsToTxnRequest.ts";
import type * as AddPartsRes from "../../generated/AddPartitionsToTxnResponse.ts";
import type * as AddOffsReq from "../../generated/AddOffsetsToTxnRequest.ts";
import type * as AddOffsRes from "../../generated/AddOffsetsToTxnResponse.ts";
import type * as EndReq from "../../generated/EndTxnRequest.ts";
import type * as EndRes from "../../generated/EndTxnResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { RequestContext } from "./registry.ts";

/** Clients before KIP-588 (InitProducerId < v4, EndTxn < v4 …) know only INVALID_PRODUCER_EPOCH for a fenced producer. */
function fencedFor(errorCode: number, version: number, newestWithoutFenced: number): number {
  return errorCode === ErrorCode.PRODUCER_FENCED && version <= newestWithoutFenced ? ErrorCode.INVALID_PRODUCER_EPOCH : errorCode;
}

export async function handleInitProducerId(broker: Broker, req: InitReq.InitProducerIdRequest, ctx: RequestContext): Promise<InitRes.InitProducerIdResponseInit> {
  if (req.transactionalId === null) {
    // Idempotent producers get a fresh id every time, as from Kafka.
    const producerId = broker.producerIds.allocate();
    await broker.producerIds.durable();
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: BigInt(producerId), producerEpoch: 0 };
  }
  const r = await broker.transactions.initProducerId(req.transactionalId, req.transactionTimeoutMs, Number(req.producerId), req.producerEpoch);
  return { throttleTimeMs: 0, errorCode: fencedFor(r.errorCode, ctx.apiVersion, 3), producerId: BigInt(r.producerId), producerEpoch: r.epoch };
}

export async function handleAddPartitionsToTxn(broker: Broker, req: AddPartsReq.AddPartitionsToTxnRequest, ctx: RequestContext): Promise<AddPartsRes.AddPartitionsToTxnResponseInit> {
  const one = (txnId: string, pid: bigint, epoch: number, topics: AddPartsReq.AddPartitionsToTxnTopic[], verifyOnly: boolean): AddPartsRes.AddPartitionsToTxnTopicResultInit[] => {
    // Unknown topics fail alone; every other partition gets OPERATION_NOT_ATTEMPTED, as Kafka answers.
    const unknown = new Set<string>();
    for (const t of topics) {
      const topic = broker.topics.get(t.name);
      for (const p of t.partitions) if (!topic || !topic.partitions[p]) unknown.add(`${t.name}:${p}`);
    }
    let code: number = ErrorCode.NONE;
    if (unknown.size === 0) {
      code = broker.transactions.addPartitions(txnId, Number(pid), epoch, topics.flatMap((t) => t.partitions.map((p): [string, number] => [t.name, p])), verifyOnly);
      code = fencedFor(code, ctx.apiVersion, 1);
    }
    return topics.map((t) => ({
      name: t.name,
      resultsByPartition: t.partitions.map((p) => ({
        partitionIndex: p,
        partitionErrorCode: unknown.size === 0 ? code : unknown.has(`${t.name}:${p}`) ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.OPERATION_NOT_ATTEMPTED,
      })),
    }));
  };
  if (ctx.apiVersion <= 3) {
    const resultsByTopicV3AndBelow = one(req.v3AndBelowTransactionalId, req.v3AndBelowProducerId, req.v3AndBelowProducerEpoch, req.v3AndBelowTopics, false);
    await broker.transactions.durable();
    return { throttleTimeMs: 0, resultsByTopicV3AndBelow };
  }
  const resultsByTransaction = req.transactions.map((t) => ({
    transactionalId: t.transactionalId,
    topicResults: one(t.transactionalId, t.producerId, t.producerEpoch, t.topics, t.verifyOnly),
  }));
  // The partitions are answered as added only once that survives a crash.
  await broker.transactions.durable();
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, resultsByTransaction };
}

export async function handleAddOffsetsToTxn(broker: Broker, req: AddOffsReq.AddOffsetsToTxnRequest, ctx: RequestContext): Promise<AddOffsRes.AddOffsetsToTxnResponseInit> {
  const code = broker.transactions.addOffsets(req.transactionalId, Number(req.producerId), req.producerEpoch, req.groupId);
  await broker.transactions.durable();
  return { throttleTimeMs: 0, errorCode: fencedFor(code, ctx.apiVersion, 1) };
}

export async function handleEndTxn(broker: Broker, req: EndReq.EndTxnRequest, ctx: RequestContext): Promise<EndRes.EndTxnResponseInit> {
  const r = await broker.transactions.endTxn(req.transactionalId, Number(req.producerId), req.producerEpoch, req.committed, ctx.apiVersion >= 5);
  return { throttleTimeMs: 0, errorCode: fencedFor(r.errorCode, ctx.apiVersion, 1), producerId: BigInt(r.producerId), producerEpoch: r.epoch };
}
