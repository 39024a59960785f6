// The consumer protocol embedded in classic groups: member metadata (an
// int16 version and a ConsumerProtocolSubscription) and assignments (an int16
// version and a ConsumerProtocolAssignment). Written at version 0, which
// every later version extends; read at the version they carry.

import * as Assignment from "../../generated/ConsumerProtocolAssignment.ts";
import * as Subscription from "../../generated/ConsumerProtocolSubscription.ts";
import { rangeAssignor } from "../groups/assignors/range.ts";
import { Reader } from "../protocol/reader.ts";

export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

function withVersion(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + body.length);
  out.set(body, 2);
  return out; // version 0: the first two bytes stay zero
}

export function encodeSubscription(topics: readonly string[]): Uint8Array {
  return withVersion(Subscription.encode({ topics, userData: null }, 0));
}

export function encodeAssignment(assigned: readonly TopicPartitions[]): Uint8Array {
  return withVersion(Assignment.encode({ assignedPartitions: assigned.map((a) => ({ topic: a.topic, partitions: a.partitions })), userData: null }, 0));
}

/** An assignment's partitions, sorted; empty for bytes that do not parse (another protocol's). */
export function decodeAssignment(b: Uint8Array): TopicPartitions[] {
  if (b.length < 2) return [];
  try {
    const r = new Reader(b);
    const version = Math.max(0, Math.min(r.int16(), Assignment.meta.validVersions.max));
    return Assignment.decode(r, version).assignedPartitions.map((t) => ({ topic: t.topic, partitions: [...t.partitions].sort((x, y) => x - y) }));
  } catch {
    return [];
  }
}

/** What a classic group's leader hands out: the range assignor klite's coordinator also offers (topic names as keys). */
export function rangeAssign(members: readonly { memberId: string; topics: readonly string[] }[], partitionCounts: ReadonlyMap<string, number>): Map<string, TopicPartitions[]> {
  const result = rangeAssignor.assign(
    members.map((m) => ({ memberId: m.memberId, instanceId: null, topics: new Set(m.topics), current: new Map() })),
    partitionCounts,
  );
  return new Map([...result].map(([id, a]) => [id, [...a].map(([topic, partitions]) => ({ topic, partitions }))]));
}
