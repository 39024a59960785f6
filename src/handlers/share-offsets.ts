// DescribeShareGroupOffsets v0-1, AlterShareGroupOffsets v0 and
// DeleteShareGroupOffsets v0: share groups' start offsets (and lag from v1),
// moved or dropped while the group is empty.

import type * as DescReq from "../../generated/DescribeShareGroupOffsetsRequest.ts";
import type * as DescRes from "../../generated/DescribeShareGroupOffsetsResponse.ts";
import type * as AltReq from "../../generated/AlterShareGroupOffsetsRequest.ts";
import type * as AltRes from "../../generated/AlterShareGroupOffsetsResponse.ts";
import type * as DelReq from "../../generated/DeleteShareGroupOffsetsRequest.ts";
import type * as DelRes from "../../generated/DeleteShareGroupOffsetsResponse.ts";
import type { Broker } from "../broker.ts";
import type { RequestContext } from "./registry.ts";

export function handleDescribeShareGroupOffsets(broker: Broker, req: DescReq.DescribeShareGroupOffsetsRequest, _ctx: RequestContext): DescRes.DescribeShareGroupOffsetsResponseInit {
  return {
    throttleTimeMs: 0,
    groups: req.groups.map((g) => ({ groupId: g.groupId, ...broker.share.describeOffsets(g.groupId, g.topics) })),
  };
}

export async function handleAlterShareGroupOffsets(broker: Broker, req: AltReq.AlterShareGroupOffsetsRequest, _ctx: RequestContext): Promise<AltRes.AlterShareGroupOffsetsResponseInit> {
  return { throttleTimeMs: 0, ...(await broker.share.alterOffsets(req.groupId, req.topics)) };
}

export async function handleDeleteShareGroupOffsets(broker: Broker, req: DelReq.DeleteShareGroupOffsetsRequest, _ctx: RequestContext): Promise<DelRes.DeleteShareGroupOffsetsResponseInit> {
  return { throttleTimeMs: 0, ...(await broker.share.deleteOffsets(req.groupId, req.topics.map((t) => t.topicName))) };
}
