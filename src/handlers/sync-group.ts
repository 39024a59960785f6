// SyncGroup: the leader hands in the assignment, every member gets its part.

import type * as Req from "../../generated/SyncGroupRequest.ts";
import type * as Res from "../../generated/SyncGroupResponse.ts";
import type { Broker } from "../broker.ts";
import { syncError, type SyncResult } from "../groups/classic-group.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { RequestContext } from "./registry.ts";

function syncResponse(r: SyncResult, version: number): Res.SyncGroupResponseInit {
  return {
    throttleTimeMs: 0,
    errorCode: r.errorCode,
    ...(version >= 5 ? { protocolType: r.protocolType, protocolName: r.protocolName } : {}),
    assignment: r.assignment,
  };
}

export async function handleSyncGroup(broker: Broker, req: Req.SyncGroupRequest, ctx: RequestContext): Promise<Res.SyncGroupResponseInit> {
  const v = ctx.apiVersion;
  const groups = broker.groups;
  if (!groups.loaded) return syncResponse(syncError(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS), v);
  if (req.groupId === "") return syncResponse(syncError(ErrorCode.INVALID_GROUP_ID), v);
  // From v5 the protocol type and name are mandatory, as Kafka checks before the coordinator.
  if (v >= 5 && (req.protocolType === null || req.protocolName === null)) return syncResponse(syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL), v);
  const r = await groups.sync({
    groupId: req.groupId,
    generationId: req.generationId,
    memberId: req.memberId,
    groupInstanceId: v >= 3 ? req.groupInstanceId : null,
    protocolType: v >= 5 ? req.protocolType : null,
    protocolName: v >= 5 ? req.protocolName : null,
    assignments: req.assignments,
  });
  return syncResponse(r, v);
}
