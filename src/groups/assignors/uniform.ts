// The "uniform" server assignor (Kafka's default): every partition of a
// subscribed topic goes to one of its subscribers so that member loads differ
// as little as possible, keeping partitions where the previous target had
// them. Three passes: keep what is still valid, hand out the rest to the least
// loaded eligible member, then move partitions from the most to the least
// loaded member while that narrows the gap by at least two (each move lowers
// the sum of squared loads, so the loop ends).

import { addPartition, emptyAssignments, memberOrder, sortAssignment, type AssignorMember, type ServerAssignor, type TopicAssignment } from "./assignor.ts";

interface Slot {
  member: AssignorMember;
  /** Owned partitions as "topicId:partition" keys, in the order they were taken. */
  owned: string[];
}

function key(topicId: string, partition: number): string {
  return `${topicId}:${partition}`;
}

export const uniformAssignor: ServerAssignor = {
  name: "uniform",
  assign(members: readonly AssignorMember[], topics: ReadonlyMap<string, number>): Map<string, TopicAssignment> {
    const ordered = [...members].sort(memberOrder);
    const slots = ordered.map((member): Slot => ({ member, owned: [] }));
    const owner = new Map<string, Slot>();
    const topicOf = new Map<string, { topicId: string; partition: number }>();

    // 1. Stickiness: a partition stays with its previous owner if that member still subscribes to it.
    for (const s of slots) {
      for (const [topicId, parts] of s.member.current) {
        const count = topics.get(topicId);
        if (count === undefined || !s.member.topics.has(topicId)) continue;
        for (const p of parts) {
          const k = key(topicId, p);
          if (p < 0 || p >= count || owner.has(k)) continue;
          owner.set(k, s);
          s.owned.push(k);
        }
      }
    }

    // 2. Unowned partitions go to the least loaded eligible member (ties: stable member order).
    const sortedTopics = [...topics.keys()].sort();
    for (const topicId of sortedTopics) {
      const eligible = slots.filter((s) => s.member.topics.has(topicId));
      const count = topics.get(topicId)!;
      for (let p = 0; p < count; p++) {
        const k = key(topicId, p);
        topicOf.set(k, { topicId, partition: p });
        if (owner.has(k) || eligible.length === 0) continue;
        let best = eligible[0]!;
        for (const s of eligible) if (s.owned.length < best.owned.length) best = s;
        owner.set(k, best);
        best.owned.push(k);
      }
    }

    // 3. Balance: move from the most loaded to a member at least two below it that may take the partition.
    for (;;) {
      let moved = false;
      const byLoad = [...slots].sort((a, b) => b.owned.length - a.owned.length);
      for (const hi of byLoad) {
        for (let i = hi.owned.length - 1; i >= 0 && !moved; i--) {
          const k = hi.owned[i]!;
          const t = topicOf.get(k)!;
          let lo: Slot | null = null;
          for (const s of slots) {
            if (s === hi || !s.member.topics.has(t.topicId)) continue;
            if (s.owned.length <= hi.owned.length - 2 && (!lo || s.owned.length < lo.owned.length)) lo = s;
          }
          if (lo) {
            hi.owned.splice(i, 1);
            lo.owned.push(k);
            owner.set(k, lo);
            moved = true;
          }
        }
        if (moved) break;
      }
      if (!moved) break;
    }

    const out = emptyAssignments(members);
    for (const s of slots) {
      const a = out.get(s.member.memberId)!;
      for (const k of s.owned) {
        const t = topicOf.get(k)!;
        addPartition(a, t.topicId, t.partition);
      }
      sortAssignment(a);
    }
    return out;
  },
};
