// ShareAcknowledge v1-2 (KIP-932): acknowledgements outside a fetch, durable
// before the answer; epoch -1 also closes the share session.

import type * as Req from "../../generated/ShareAcknowledgeRequest.ts";
import type * as Res from "../../generated/ShareAcknowledgeResponse.ts";
import type { Broker } from "../broker.ts";
import type { RequestContext } from "./registry.ts";
import { shareResponse } from "./share-fetch.ts";

export async function handleShareAcknowledge(broker: Broker, req: Req.ShareAcknowledgeRequest, ctx: RequestContext): Promise<Res.ShareAcknowledgeResponseInit> {
  const r = await broker.share.shareAcknowledge({
    connectionId: ctx.connectionId,
    groupId: req.groupId,
    memberId: req.memberId,
    shareSessionEpoch: req.shareSessionEpoch,
    isRenewAck: ctx.apiVersion >= 2 && req.isRenewAck,
    topics: req.topics,
  });
  const f = shareResponse(broker, r);
  return {
    throttleTimeMs: 0,
    errorCode: f.errorCode,
    errorMessage: f.errorMessage,
    acquisitionLockTimeoutMs: f.acquisitionLockTimeoutMs,
    responses: (f.responses ?? []).map((t) => ({
      topicId: t.topicId,
      partitions: (t.partitions ?? []).map((p) => ({ partitionIndex: p.partitionIndex, errorCode: p.acknowledgeErrorCode, errorMessage: p.acknowledgeErrorMessage, currentLeader: p.currentLeader })),
    })),
    nodeEndpoints: [],
  };
}
