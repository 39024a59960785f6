// ConsumerGroupHeartbeat v0-1 (KIP-848): join, stay, reconcile and leave a
// consumer group in one request; v1 adds regex subscriptions and makes the
// client generate its member id (KIP-1082).

import type * as Req from "../../generated/ConsumerGroupHeartbeatRequest.ts";
import type * as Res from "../../generated/ConsumerGroupHeartbeatResponse.ts";
import type { Broker } from "../broker.ts";
import type { RequestContext } from "./registry.ts";

export function handleConsumerGroupHeartbeat(broker: Broker, req: Req.ConsumerGroupHeartbeatRequest, ctx: RequestContext): Res.ConsumerGroupHeartbeatResponseInit {
  const r = broker.groups.consumerHeartbeat({
    groupId: req.groupId,
    memberId: req.memberId,
    memberEpoch: req.memberEpoch,
    instanceId: req.instanceId,
    rackId: req.rackId,
    rebalanceTimeoutMs: req.rebalanceTimeoutMs,
    subscribedTopicNames: req.subscribedTopicNames,
    subscribedTopicRegex: ctx.apiVersion >= 1 ? req.subscribedTopicRegex : null,
    serverAssignor: req.serverAssignor,
    topicPartitions: req.topicPartitions,
    clientId: ctx.clientId ?? "",
    clientHost: `/${ctx.remoteAddress}`,
    apiVersion: ctx.apiVersion,
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
