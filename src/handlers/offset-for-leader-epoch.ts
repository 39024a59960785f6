// OffsetForLeaderEpoch v2-4 (KIP-101/KIP-320): where a leader epoch's records
// end. A consumer that saw a new epoch in Metadata asks for the epoch of the
// last record it read; an end offset below its position means the log was
// truncated under it (klite: a power loss took an unsynced tail), and it
// resets instead of waiting at an offset that will be reused.

import type * as Req from "../../generated/OffsetForLeaderEpochRequest.ts";
import type * as Res from "../../generated/OffsetForLeaderEpochResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { RequestContext } from "./registry.ts";
import { leaderEpochError } from "./partition-lookup.ts";

export function handleOffsetForLeaderEpoch(broker: Broker, req: Req.OffsetForLeaderEpochRequest, _ctx: RequestContext): Res.OffsetForLeaderEpochResponseInit {
  return {
    throttleTimeMs: 0,
    topics: req.topics.map((t) => {
      const topic = broker.topics.get(t.topic);
      return {
        topic: t.topic,
        partitions: t.partitions.map((p): Res.EpochEndOffsetInit => {
          const none = { partition: p.partition, leaderEpoch: -1, endOffset: -1n };
          const part = topic?.partitions[p.partition];
          if (!part) return { ...none, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
          const epochErr = leaderEpochError(p.currentLeaderEpoch, part.log.leaderEpoch);
          if (epochErr) return { ...none, errorCode: epochErr };
          const r = part.log.endOffsetForEpoch(p.leaderEpoch);
          return { partition: p.partition, errorCode: ErrorCode.NONE, leaderEpoch: r.epoch, endOffset: BigInt(r.endOffset) };
        }),
      };
    }),
  };
}
