// ShareGroupHeartbeat v1 (KIP-932): join, stay in and leave a share group;
// the answer carries the member's assignment when it changed.

import type * as Req from "../../generated/ShareGroupHeartbeatRequest.ts";
import type * as Res from "../../generated/ShareGroupHeartbeatResponse.ts";
import type { Broker } from "../broker.ts";
import type { RequestContext } from "./registry.ts";

export async function handleShareGroupHeartbeat(broker: Broker, req: Req.ShareGroupHeartbeatRequest, ctx: RequestContext): Promise<Res.ShareGroupHeartbeatResponseInit> {
  const r = await broker.share.heartbeat({
    groupId: req.groupId,
    memberId: req.memberId,
    memberEpoch: req.memberEpoch,
    rackId: req.rackId,
    subscribedTopicNames: req.subscribedTopicNames,
    clientId: ctx.clientId ?? "",
    clientHost: `/${ctx.remoteAddress}`,
  });
  return {
    throttleTimeMs: 0,
    errorCode: r.errorCode,
    errorMessage: r.errorMessage,
    memberId: r.memberId,
    memberEpoch: r.memberEpoch,
    heartbeatIntervalMs: r.heartbeatIntervalMs,
    assignment: r.assignment === null ? null : { topicPartitions: r.assignment },
  };
}
