// LeaveGroup: v0-2 name one member; v3+ a batch, by member id and/or
// group.instance.id (admin tools remove static members by instance id alone).

import type * as Req from "../../generated/LeaveGroupRequest.ts";
import type * as Res from "../../generated/LeaveGroupResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { RequestContext } from "./registry.ts";

export function handleLeaveGroup(broker: Broker, req: Req.LeaveGroupRequest, ctx: RequestContext): Res.LeaveGroupResponseInit {
  const v = ctx.apiVersion;
  const groups = broker.groups;
  let errorCode: number = ErrorCode.NONE;
  let members: { memberId: string; groupInstanceId: string | null; errorCode: number }[] = [];
  const asked = v >= 3 ? req.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId })) : [{ memberId: req.memberId, groupInstanceId: null }];
  if (!groups.loaded) errorCode = ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
  else if (req.groupId === "") errorCode = ErrorCode.INVALID_GROUP_ID;
  else {
    const r = groups.leave(req.groupId, asked);
    errorCode = r.errorCode;
    members = r.members;
  }
  // Before v3 the single member's outcome is the top-level error.
  if (v < 3) return { throttleTimeMs: 0, errorCode: errorCode !== ErrorCode.NONE ? errorCode : (members[0]?.errorCode ?? ErrorCode.NONE) };
  return { throttleTimeMs: 0, errorCode, members };
}
