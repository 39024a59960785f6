// DescribeTransactions and ListTransactions (KIP-664, KIP-994, KIP-1152): the
// transaction coordinator's state as operators see it, with the state names
// spelled as Kafka spells them so admin tools can match on them.

import type * as DescReq from "../../generated/DescribeTransactionsRequest.ts";
import type * as DescRes from "../../generated/DescribeTransactionsResponse.ts";
import type * as ListReq from "../../generated/ListTransactionsRequest.ts";
import type * as ListRes from "../../generated/ListTransactionsResponse.ts";
import type { Broker } from "../broker.ts";
import { compileTopicRegex } from "../groups/topic-regex.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { splitPartitionKey, type TxnMeta } from "../txn/coordinator.ts";
import type { RequestContext } from "./registry.ts";

/**
 * Every state name Kafka's coordinator knows. klite's coordinator shows
 * PrepareCommit/PrepareAbort only while markers are being written, fences
 * through PrepareAbort (never PrepareEpochFence) and removes expired ids at
 * once (never Dead); filtering on those two is still valid and matches nothing.
 */
export const KAFKA_TXN_STATES: ReadonlySet<string> = new Set([
  "Empty",
  "Ongoing",
  "PrepareCommit",
  "PrepareAbort",
  "CompleteCommit",
  "CompleteAbort",
  "Dead",
  "PrepareEpochFence",
]);

/** When the open (or last) transaction started; -1 while none has started since the producer (re)initialised. */
function startTime(t: TxnMeta): number {
  return t.state === "Empty" ? -1 : t.startTimestamp;
}

function topicsOf(t: TxnMeta): DescRes.TopicDataInit[] {
  const byTopic = new Map<string, number[]>();
  for (const k of t.partitions) {
    const [topic, p] = splitPartitionKey(k);
    let list = byTopic.get(topic);
    if (!list) byTopic.set(topic, (list = []));
    list.push(p);
  }
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
}

export function handleDescribeTransactions(broker: Broker, req: DescReq.DescribeTransactionsRequest, _ctx: RequestContext): DescRes.DescribeTransactionsResponseInit {
  return {
    throttleTimeMs: 0,
    transactionStates: req.transactionalIds.map((id): DescRes.TransactionStateInit => {
      const t = broker.transactions.get(id);
      if (!t) return { errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND, transactionalId: id };
      return {
        errorCode: ErrorCode.NONE,
        transactionalId: id,
        transactionState: t.state,
        transactionTimeoutMs: t.timeoutMs,
        transactionStartTimeMs: BigInt(startTime(t)),
        producerId: BigInt(t.producerId),
        producerEpoch: t.epoch,
        topics: topicsOf(t),
      };
    }),
  };
}

export function handleListTransactions(broker: Broker, req: ListReq.ListTransactionsRequest, _ctx: RequestContext): ListRes.ListTransactionsResponseInit {
  const unknownStateFilters = req.stateFilters.filter((s) => !KAFKA_TXN_STATES.has(s));
  const states = new Set(req.stateFilters.filter((s) => KAFKA_TXN_STATES.has(s)));
  const producerIds = new Set(req.producerIdFilters.map(Number));
  const duration = Number(req.durationFilter);
  let pattern: RegExp | null = null;
  if (req.transactionalIdPattern) {
    // Whole-id match as Kafka's Matcher.matches(); the compiler refuses patterns that could backtrack for ever.
    const compiled = compileTopicRegex(req.transactionalIdPattern);
    if (compiled.ok) pattern = compiled.regex;
    else return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REGULAR_EXPRESSION, unknownStateFilters, transactionStates: [] };
  }
  const now = Date.now();
  const transactionStates: ListRes.TransactionStateInit[] = [];
  for (const t of broker.transactions.all()) {
    if (req.stateFilters.length > 0 && !states.has(t.state)) continue;
    if (producerIds.size > 0 && !producerIds.has(t.producerId)) continue;
    // KIP-994: only transactions that have been running longer than the duration; one that never started is not running.
    if (duration >= 0 && (startTime(t) < 0 || now - startTime(t) <= duration)) continue;
    if (pattern && !pattern.test(t.transactionalId)) continue;
    transactionStates.push({ transactionalId: t.transactionalId, producerId: BigInt(t.producerId), transactionState: t.state });
  }
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, unknownStateFilters, transactionStates };
}
