// ShareGroupDescribe v1: share groups' members, epochs and assignments.

import type * as Req from "../../generated/ShareGroupDescribeRequest.ts";
import type * as Res from "../../generated/ShareGroupDescribeResponse.ts";
import type { Broker } from "../broker.ts";
import { ALL_GROUP_OPERATIONS } from "../groups/coordinator.ts";
import type { RequestContext } from "./registry.ts";

/** Kafka's value when authorized operations were not asked for. */
const OPERATIONS_NOT_REQUESTED = -2147483648;

export function handleShareGroupDescribe(broker: Broker, req: Req.ShareGroupDescribeRequest, _ctx: RequestContext): Res.ShareGroupDescribeResponseInit {
  return {
    throttleTimeMs: 0,
    groups: broker.share.describeGroups(req.groupIds).map((g) => ({
      ...g,
      authorizedOperations: req.includeAuthorizedOperations && g.errorCode === 0 ? ALL_GROUP_OPERATIONS : OPERATIONS_NOT_REQUESTED,
    })),
  };
}
