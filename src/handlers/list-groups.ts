// ListGroups v0-5: every group of every type, filtered by state (v4+) and
// type (v5+), case-insensitively as Kafka does.

import type * as Req from "../../generated/ListGroupsRequest.ts";
import type * as Res from "../../generated/ListGroupsResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { RequestContext } from "./registry.ts";

export function handleListGroups(broker: Broker, req: Req.ListGroupsRequest, ctx: RequestContext): Res.ListGroupsResponseInit {
  const v = ctx.apiVersion;
  const groups = broker.groups;
  if (!groups.loaded) return { throttleTimeMs: 0, errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, groups: [] };
  const listed = groups.listGroups(v >= 4 ? req.statesFilter : [], v >= 5 ? req.typesFilter : []);
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    groups: listed.map((g) => ({
      groupId: g.groupId,
      protocolType: g.protocolType,
      ...(v >= 4 ? { groupState: g.groupState } : {}),
      ...(v >= 5 ? { groupType: g.groupType } : {}),
    })),
  };
}
