// JoinGroup: request checks Kafka makes before the coordinator (group id,
// session timeout bounds) plus a bound on member metadata, then the parked
// join of the classic rebalance protocol.

import type * as Req from "../../generated/JoinGroupRequest.ts";
import type * as Res from "../../generated/JoinGroupResponse.ts";
import type { Broker } from "../broker.ts";
import { joinError, type JoinResult, type Protocol } from "../groups/classic-group.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { RequestContext } from "./registry.ts";

export function joinResponse(r: JoinResult, version: number): Res.JoinGroupResponseInit {
  return {
    throttleTimeMs: 0,
    errorCode: r.errorCode,
    generationId: r.generationId,
    ...(version >= 7 ? { protocolType: r.protocolType } : {}),
    // Before v7 the protocol name is not nullable: Kafka sends "" for "none yet".
    protocolName: version >= 7 ? r.protocolName : (r.protocolName ?? ""),
    leader: r.leader,
    ...(version >= 9 ? { skipAssignment: r.skipAssignment } : {}),
    memberId: r.memberId,
    members: r.members.map((m) => ({ memberId: m.memberId, ...(version >= 5 ? { groupInstanceId: m.groupInstanceId } : {}), metadata: m.metadata })),
  };
}

/** Protocols as the group keeps them: copied out of the request buffer, first of each name only. */
function ownProtocols(protocols: readonly Req.JoinGroupRequestProtocol[]): Protocol[] {
  const seen = new Set<string>();
  const out: Protocol[] = [];
  for (const p of protocols) {
    if (seen.has(p.name)) continue;
    seen.add(p.name);
    out.push({ name: p.name, metadata: p.metadata.slice() });
  }
  return out;
}

export async function handleJoinGroup(broker: Broker, req: Req.JoinGroupRequest, ctx: RequestContext): Promise<Res.JoinGroupResponseInit> {
  const v = ctx.apiVersion;
  const groups = broker.groups;
  const fail = (code: number) => joinResponse(joinError(code, req.memberId), v);
  if (!groups.loaded) return fail(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
  if (req.groupId === "") return fail(ErrorCode.INVALID_GROUP_ID);
  const cfg = groups.config;
  if (req.sessionTimeoutMs < cfg.minSessionTimeoutMs || req.sessionTimeoutMs > cfg.maxSessionTimeoutMs) return fail(ErrorCode.INVALID_SESSION_TIMEOUT);
  let metadataBytes = 0;
  for (const p of req.protocols) metadataBytes += p.metadata.length;
  if (metadataBytes > cfg.maxMemberMetadataBytes) return fail(ErrorCode.INVALID_REQUEST);
  const r = await groups.join({
    groupId: req.groupId,
    memberId: req.memberId,
    groupInstanceId: v >= 5 ? req.groupInstanceId : null,
    clientId: ctx.clientId ?? "",
    clientHost: `/${ctx.remoteAddress}`,
    sessionTimeoutMs: req.sessionTimeoutMs,
    // v0 has no rebalance timeout: the session timeout stands in for it.
    rebalanceTimeoutMs: v >= 1 ? req.rebalanceTimeoutMs : req.sessionTimeoutMs,
    protocolType: req.protocolType,
    protocols: ownProtocols(req.protocols),
    requireKnownMemberId: v >= 4,
    supportsSkipAssignment: v >= 9,
  });
  return joinResponse(r, v);
}
