// DescribeGroups v0-6: members with metadata and assignment (once Stable),
// protocol and state. Unknown groups: state Dead, and from v6
// GROUP_ID_NOT_FOUND (KIP-1043).

import type * as Req from "../../generated/DescribeGroupsRequest.ts";
import type * as Res from "../../generated/DescribeGroupsResponse.ts";
import type { Broker } from "../broker.ts";
import { ALL_GROUP_OPERATIONS } from "../groups/coordinator.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { RequestContext } from "./registry.ts";

const NOT_REQUESTED = -2147483648;

export function handleDescribeGroups(broker: Broker, req: Req.DescribeGroupsRequest, ctx: RequestContext): Res.DescribeGroupsResponseInit {
  const v = ctx.apiVersion;
  const groups = broker.groups;
  const ops = v >= 3 && req.includeAuthorizedOperations ? ALL_GROUP_OPERATIONS : NOT_REQUESTED;
  if (!groups.loaded) {
    return { throttleTimeMs: 0, groups: req.groups.map((groupId) => ({ groupId, errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, groupState: "", protocolType: "", protocolData: "", members: [] })) };
  }
  return {
    throttleTimeMs: 0,
    groups: groups.describeGroups(req.groups).map((g) => {
      const notFound = g.errorCode === ErrorCode.GROUP_ID_NOT_FOUND;
      return {
        groupId: g.groupId,
        errorCode: notFound && v < 6 ? ErrorCode.NONE : g.errorCode,
        ...(v >= 6 ? { errorMessage: g.errorMessage } : {}),
        groupState: g.groupState,
        protocolType: g.protocolType,
        protocolData: g.protocolData,
        members: g.members.map((m) => ({
          memberId: m.memberId,
          ...(v >= 4 ? { groupInstanceId: m.groupInstanceId } : {}),
          clientId: m.clientId,
          clientHost: m.clientHost,
          memberMetadata: m.memberMetadata,
          memberAssignment: m.memberAssignment,
        })),
        ...(v >= 3 ? { authorizedOperations: ops } : {}),
      };
    }),
  };
}
