// Heartbeat of a classic group member: keeps its session alive and tells it
// when a rebalance is running.

import type * as Req from "../../generated/HeartbeatRequest.ts";
import type * as Res from "../../generated/HeartbeatResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { RequestContext } from "./registry.ts";

export function handleHeartbeat(broker: Broker, req: Req.HeartbeatRequest, ctx: RequestContext): Res.HeartbeatResponseInit {
  const groups = broker.groups;
  // A heartbeat during loading is answered blindly, as Kafka does: the member just keeps going.
  if (!groups.loaded) return { throttleTimeMs: 0, errorCode: ErrorCode.NONE };
  if (req.groupId === "") return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_GROUP_ID };
  const errorCode = groups.heartbeat(req.groupId, req.memberId, ctx.apiVersion >= 3 ? req.groupInstanceId : null, req.generationId);
  return { throttleTimeMs: 0, errorCode };
}
