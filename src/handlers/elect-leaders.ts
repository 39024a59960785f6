// ElectLeaders: klite is the only replica and the leader of every partition,
// which is its preferred leader, so no election is ever needed. The answers
// are Kafka's for that state: ELECTION_NOT_NEEDED per named partition, unknown
// ones UNKNOWN_TOPIC_OR_PARTITION, and for "all partitions" (null) only the
// partitions that needed something, that is none.

import type * as Req from "../../generated/ElectLeadersRequest.ts";
import type * as Res from "../../generated/ElectLeadersResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { RequestContext } from "./registry.ts";

const PREFERRED = 0;
const UNCLEAN = 1;

function electOne(broker: Broker, topic: string, partition: number): Res.PartitionResultInit {
  const t = broker.topics.get(topic);
  if (!t) return { partitionId: partition, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `No such topic as ${topic}` };
  if (!t.partitions[partition]) return { partitionId: partition, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `No such partition as ${topic}-${partition}` };
  return { partitionId: partition, errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: "Leader election not needed for topic partition." };
}

export function handleElectLeaders(broker: Broker, req: Req.ElectLeadersRequest, ctx: RequestContext): Res.ElectLeadersResponseInit {
  if (ctx.apiVersion >= 1 && req.electionType !== PREFERRED && req.electionType !== UNCLEAN) {
    return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, replicaElectionResults: [] };
  }
  const replicaElectionResults =
    req.topicPartitions === null
      ? [...broker.topics.all()].map((t) => ({ topic: t.name, partitionResult: [] }))
      : req.topicPartitions.map((tp) => ({ topic: tp.topic, partitionResult: tp.partitions.map((p) => electOne(broker, tp.topic, p)) }));
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, replicaElectionResults };
}
