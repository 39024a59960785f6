// The "range" server assignor: per topic, the subscribed members in a stable
// order take contiguous ranges of partitions, the first (partitions mod
// members) of them one more. Topics with the same partition count and the same
// subscribers are split identically, so co-partitioned topics stay together.

import { addPartition, emptyAssignments, memberOrder, sortAssignment, type AssignorMember, type ServerAssignor, type TopicAssignment } from "./assignor.ts";

export const rangeAssignor: ServerAssignor = {
  name: "range",
  assign(members: readonly AssignorMember[], topics: ReadonlyMap<string, number>): Map<string, TopicAssignment> {
    const out = emptyAssignments(members);
    const ordered = [...members].sort(memberOrder);
    for (const [topicId, count] of topics) {
      const subscribers = ordered.filter((m) => m.topics.has(topicId));
      if (subscribers.length === 0) continue;
      const base = Math.floor(count / subscribers.length);
      const extra = count % subscribers.length;
      let next = 0;
      subscribers.forEach((m, i) => {
        const n = base + (i < extra ? 1 : 0);
        const a = out.get(m.memberId)!;
        for (let k = 0; k < n; k++) addPartition(a, topicId, next++);
      });
    }
    for (const a of out.values()) sortAssignment(a);
    return out;
  },
};
