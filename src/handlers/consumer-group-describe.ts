// ConsumerGroupDescribe v0-1 (KIP-848): epochs, assignor, and each member's
// subscription, current and target assignment. Groups that are unknown or of
// another type answer GROUP_ID_NOT_FOUND, as Kafka does.

import type * as Req from "../../generated/ConsumerGroupDescribeRequest.ts";
import type * as Res from "../../generated/ConsumerGroupDescribeResponse.ts";
import type { Broker } from "../broker.ts";
import { ALL_GROUP_OPERATIONS } from "../groups/coordinator.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { RequestContext } from "./registry.ts";

const NOT_REQUESTED = -2147483648;
/** MemberType (v1): 1 = a member speaking the consumer protocol. */
const CONSUMER_MEMBER = 1;

export function handleConsumerGroupDescribe(broker: Broker, req: Req.ConsumerGroupDescribeRequest, ctx: RequestContext): Res.ConsumerGroupDescribeResponseInit {
  const groups = broker.groups;
  const ops = req.includeAuthorizedOperations ? ALL_GROUP_OPERATIONS : NOT_REQUESTED;
  if (!groups.loaded) {
    return { throttleTimeMs: 0, groups: req.groupIds.map((groupId) => ({ groupId, errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, groupState: "", members: [], authorizedOperations: NOT_REQUESTED })) };
  }
  return {
    throttleTimeMs: 0,
    groups: groups.describeConsumerGroups(req.groupIds).map((g) => {
      if (g.groupId === "") return { groupId: "", errorCode: ErrorCode.INVALID_GROUP_ID, errorMessage: "GroupId can't be empty.", groupState: "", members: [], authorizedOperations: NOT_REQUESTED };
      return {
        groupId: g.groupId,
        errorCode: g.errorCode,
        errorMessage: g.errorMessage,
        groupState: g.groupState,
        groupEpoch: g.groupEpoch,
        assignmentEpoch: g.assignmentEpoch,
        assignorName: g.assignorName,
        members: g.members.map((m) => ({ ...m, assignment: { topicPartitions: m.assignment }, targetAssignment: { topicPartitions: m.targetAssignment }, ...(ctx.apiVersion >= 1 ? { memberType: CONSUMER_MEMBER } : {}) })),
        authorizedOperations: g.errorCode === ErrorCode.NONE ? ops : NOT_REQUESTED,
      };
    }),
  };
}
