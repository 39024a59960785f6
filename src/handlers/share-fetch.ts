// ShareFetch v1-2 (KIP-932): acknowledgements first (made durable before the
// answer), then records acquired for the member from its share session's
// partitions, long-polled up to max_wait_ms. v2 adds renew acknowledgements
// and the record-limit acquire mode (MaxRecords strict, batches cut).

import type * as Req from "../../generated/ShareFetchRequest.ts";
import type * as Res from "../../generated/ShareFetchResponse.ts";
import type { Broker } from "../broker.ts";
import type { ShareFetchOut } from "../share/coordinator.ts";
import type { RequestContext } from "./registry.ts";

export async function handleShareFetch(broker: Broker, req: Req.ShareFetchRequest, ctx: RequestContext): Promise<Res.ShareFetchResponseInit> {
  const r = await broker.share.shareFetch(
    {
      connectionId: ctx.connectionId,
      groupId: req.groupId,
      memberId: req.memberId,
      shareSessionEpoch: req.shareSessionEpoch,
      maxWaitMs: req.maxWaitMs,
      minBytes: req.minBytes,
      maxBytes: req.maxBytes,
      maxRecords: req.maxRecords,
      acquireMode: ctx.apiVersion >= 2 ? req.shareAcquireMode : 0,
      isRenewAck: ctx.apiVersion >= 2 && req.isRenewAck,
      topics: req.topics,
      forgotten: req.forgottenTopicsData,
    },
    () => broker.closing,
  );
  return shareResponse(broker, r);
}

/** The answer of ShareFetch and ShareAcknowledge: partitions name the (only) leader, this broker. */
export function shareResponse(broker: Broker, r: ShareFetchOut): Res.ShareFetchResponseInit {
  return {
    throttleTimeMs: 0,
    errorCode: r.errorCode,
    errorMessage: r.errorMessage,
    acquisitionLockTimeoutMs: r.acquisitionLockTimeoutMs,
    responses: r.responses.map((t) => ({
      topicId: t.topicId,
      partitions: t.partitions.map((p) => ({
        ...p,
        currentLeader: { leaderId: broker.nodeId, leaderEpoch: broker.topics.getById(t.topicId)?.partitions[p.partitionIndex]?.log.leaderEpoch ?? -1 },
      })),
    })),
    nodeEndpoints: [],
  };
}
