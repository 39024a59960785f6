// ListOffsets: earliest, latest (honouring the isolation level), max
// timestamp, and by timestamp down to the record inside a batch. klite has no
// tiered storage, so the tiered specs answer as Kafka does without it.

import type * as Req from "../../generated/ListOffsetsRequest.ts";
import type * as Res from "../../generated/ListOffsetsResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { firstRecordAtOrAfter, maxTimestampRecord } from "../protocol/record-search.ts";
import type { Partition } from "../meta/topics.ts";
import type { RequestContext } from "./registry.ts";
import { leaderEpochError } from "./partition-lookup.ts";

export const LATEST = -1n;
export const EARLIEST = -2n;
export const MAX_TIMESTAMP = -3n;
export const EARLIEST_LOCAL = -4n;
export const LATEST_TIERED = -5n;
export const EARLIEST_PENDING_UPLOAD = -6n;

const READ_COMMITTED = 1;

/** An answer with the leader epoch of the records at `offset` (or the given one), as Kafka gives it. */
function found(part: Partition, offset: number, timestamp: number | bigint, epoch?: number): Res.ListOffsetsPartitionResponseInit {
  const leaderEpoch = epoch ?? (offset >= part.log.logEndOffset ? part.log.leaderEpoch : part.log.epochForOffset(offset));
  return { partitionIndex: part.index, errorCode: ErrorCode.NONE, offset: BigInt(offset), timestamp: BigInt(timestamp), leaderEpoch };
}
function notFound(index: number): Res.ListOffsetsPartitionResponseInit {
  return { partitionIndex: index, errorCode: ErrorCode.NONE, offset: -1n, timestamp: -1n, leaderEpoch: -1 };
}

export function lookupOffset(part: Partition, ts: bigint, isolation: number): Res.ListOffsetsPartitionResponseInit {
  const log = part.log;
  const i = part.index;
  switch (ts) {
    case LATEST:
      return found(part, isolation === READ_COMMITTED ? part.lastStableOffset() : part.highWatermark, -1, log.leaderEpoch);
    case EARLIEST:
    case EARLIEST_LOCAL:
      return found(part, log.logStartOffset, -1);
    case LATEST_TIERED:
    case EARLIEST_PENDING_UPLOAD:
      // Nothing is ever tiered: there is no such offset.
      return notFound(i);
    case MAX_TIMESTAMP: {
      const m = log.maxTimestamp(maxTimestampRecord);
      return m && m.offset < part.highWatermark ? found(part, m.offset, m.timestamp) : notFound(i);
    }
  }
  if (ts < 0n) return { partitionIndex: i, errorCode: ErrorCode.INVALID_REQUEST, offset: -1n, timestamp: -1n, leaderEpoch: -1 };
  const target = Number(ts);
  const r = log.offsetForTimestamp(target, (batch, minOffset) => firstRecordAtOrAfter(batch, target, minOffset));
  if (!r) return notFound(i);
  // Like Fetch, never point past what consumers may read.
  if (r.offset >= (isolation === READ_COMMITTED ? part.lastStableOffset() : part.highWatermark)) return notFound(i);
  return found(part, r.offset, r.timestamp);
}

export function handleListOffsets(broker: Broker, req: Req.ListOffsetsRequest, ctx: RequestContext): Res.ListOffsetsResponseInit {
  const isolation = ctx.apiVersion >= 2 ? req.isolationLevel : 0;
  // Before v4 the response has no leader epoch; it must stay at its default there.
  const epochs = ctx.apiVersion >= 4;
  return {
    throttleTimeMs: 0,
    topics: req.topics.map((t) => {
      const topic = broker.topics.get(t.name);
      return {
        name: t.name,
        partitions: t.partitions.map((p) => {
          const part = topic?.partitions[p.partitionIndex];
          const base = { partitionIndex: p.partitionIndex, offset: -1n, timestamp: -1n, leaderEpoch: -1 };
          if (!part) return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
          const epochErr = leaderEpochError(p.currentLeaderEpoch, part.log.leaderEpoch);
          if (epochErr) return { ...base, errorCode: epochErr };
          const r = lookupOffset(part, p.timestamp, isolation);
          return epochs ? r : { ...r, leaderEpoch: -1 };
        }),
      };
    }),
  };
}
