// DescribeProducers (KIP-664): the producers a partition currently tracks for
// idempotence and transactions, read straight from its producer state, so an
// operator can find the producer behind a hanging transaction.

import type * as Req from "../../generated/DescribeProducersRequest.ts";
import type * as Res from "../../generated/DescribeProducersResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { ProducerEntry } from "../txn/producer-state.ts";
import type { RequestContext } from "./registry.ts";

function producerState(e: ProducerEntry): Res.ProducerStateInit {
  const last = e.batches[e.batches.length - 1];
  return {
    producerId: BigInt(e.producerId),
    producerEpoch: e.epoch,
    lastSequence: last ? last.lastSeq : -1,
    lastTimestamp: BigInt(e.lastTimestamp),
    coordinatorEpoch: e.coordinatorEpoch,
    currentTxnStartOffset: BigInt(e.txnFirstOffset),
  };
}

export function handleDescribeProducers(broker: Broker, req: Req.DescribeProducersRequest, _ctx: RequestContext): Res.DescribeProducersResponseInit {
  return {
    throttleTimeMs: 0,
    topics: req.topics.map((t) => {
      const topic = broker.topics.get(t.name);
      return {
        name: t.name,
        partitions: t.partitionIndexes.map((index): Res.PartitionResponseInit => {
          const part = topic?.partitions[index];
          if (!part) return { partitionIndex: index, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null, activeProducers: [] };
          return { partitionIndex: index, errorCode: ErrorCode.NONE, errorMessage: null, activeProducers: [...part.txn.producers.entries.values()].map(producerState) };
        }),
      };
    }),
  };
}
