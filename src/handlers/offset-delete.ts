// OffsetDelete: removes a group's committed offsets for some partitions,
// refused for topics a live consumer group is subscribed to.

import type * as Req from "../../generated/OffsetDeleteRequest.ts";
import type * as Res from "../../generated/OffsetDeleteResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { RequestContext } from "./registry.ts";

export async function handleOffsetDelete(broker: Broker, req: Req.OffsetDeleteRequest, _ctx: RequestContext): Promise<Res.OffsetDeleteResponseInit> {
  const groups = broker.groups;
  if (!groups.loaded) return { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, throttleTimeMs: 0, topics: [] };
  if (req.groupId === "") return { errorCode: ErrorCode.INVALID_GROUP_ID, throttleTimeMs: 0, topics: [] };
  const known = req.topics.filter((t) => broker.topics.get(t.name)).map((t) => ({ topic: t.name, partitions: t.partitions.map((p) => p.partitionIndex) }));
  const r = await groups.deleteOffsets(req.groupId, known);
  if (r.errorCode !== ErrorCode.NONE) return { errorCode: r.errorCode, throttleTimeMs: 0, topics: [] };
  let next = 0;
  const topics = req.topics.map((t) => {
    if (!broker.topics.get(t.name)) return { name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION })) };
    const done = r.topics[next++]!;
    return { name: t.name, partitions: done.partitions.map((p) => ({ partitionIndex: p.partition, errorCode: p.errorCode })) };
  });
  return { errorCode: ErrorCode.NONE, throttleTimeMs: 0, topics };
}
