// Copies committed offsets of source consumer groups to the target, for
// groups with no members on the target (a group consuming there owns its
// offsets; MM2 skips those too). Offsets are translated by the mirror and
// only ever move a target group forward, and never past what is mirrored.

import { DescribeGroups, ListGroups } from "../client/apis.ts";
import type { KafkaClient } from "../client/client.ts";
import { check } from "../client/errors.ts";
import { commit, fetchCommitted } from "../client/offsets.ts";
import type { MirrorEvents } from "./mirror.ts";

/** DescribeGroups states of a group nobody consumes in. */
const IDLE = new Set(["Empty", "Dead", ""]);

export async function sourceGroups(source: KafkaClient, pattern: RegExp): Promise<string[]> {
  const md = await source.metadata([]);
  const names = new Set<string>();
  await Promise.all(
    md.brokers.map(async (b) => {
      const res = await (await source.broker(b.nodeId)).send(ListGroups, null, { statesFilter: [], typesFilter: [] });
      check(res.errorCode, "ListGroups");
      for (const g of res.groups) if (pattern.test(g.groupId) && (g.protocolType === "consumer" || g.protocolType === "")) names.add(g.groupId);
    }),
  );
  return [...names].sort();
}

export async function syncGroupOffsets(
  source: KafkaClient,
  target: KafkaClient,
  pattern: RegExp,
  translate: (topic: string, partition: number, offset: bigint) => bigint | null,
  events: MirrorEvents,
): Promise<void> {
  for (const group of await sourceGroups(source, pattern)) {
    const committed = await fetchCommitted(await source.coordinator(group), group, null);
    const tconn = await target.coordinator(group);
    const described = await tconn.send(DescribeGroups, null, { groups: [group], includeAuthorizedOperations: false });
    const state = described.groups[0]?.groupState ?? "";
    if (!IDLE.has(state)) continue;
    const current = await fetchCommitted(tconn, group, null);
    const updates = new Map<string, Map<number, bigint>>();
    for (const [topic, parts] of committed) {
      for (const [partition, offset] of parts) {
        if (offset < 0n) continue;
        const translated = translate(topic, partition, offset);
        if (translated === null) continue;
        const now = current.get(topic)?.get(partition) ?? -1n;
        if (translated <= now) continue;
        const m = updates.get(topic) ?? new Map<number, bigint>();
        m.set(partition, translated);
        updates.set(topic, m);
      }
    }
    if (updates.size === 0) continue;
    await commit(tconn, group, updates);
    events.log(`group ${group}: committed ${[...updates].map(([t, m]) => [...m].map(([p, o]) => `${t}-${p}@${o}`).join(" ")).join(" ")} on the target`);
  }
}
