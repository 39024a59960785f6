// Copies committed offsets of source consumer groups to the target, for
// groups with no members on the target (a group consuming there owns its
// offsets; MM2 skips those too). Offsets are translated by the mirror and
// only ever move a target group forward, and never past what is mirrored.

import { ConsumerGroupDescribe, DescribeGroups, ListGroups } from "../client/apis.ts";
import type { BrokerConnection } from "../client/connection.ts";
import { ErrorCode } from "../protocol/errors.ts";
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

/**
 * No member consumes in the group on the target: DescribeGroups says Empty or
 * Dead (a classic group, or none), and where the broker has KIP-848 consumer
 * groups, ConsumerGroupDescribe finds no members (Kafka answers DescribeGroups
 * for such a group with an error rather than its state).
 */
async function idleOnTarget(conn: BrokerConnection, group: string): Promise<boolean> {
  const classic = (await conn.send(DescribeGroups, null, { groups: [group], includeAuthorizedOperations: false })).groups[0];
  const classicIdle = classic !== undefined && IDLE.has(classic.groupState) && (classic.errorCode === 0 || classic.errorCode === ErrorCode.GROUP_ID_NOT_FOUND);
  if (!conn.supports(ConsumerGroupDescribe)) return classicIdle;
  const modern = (await conn.send(ConsumerGroupDescribe, null, { groupIds: [group], includeAuthorizedOperations: false })).groups[0];
  if (modern && modern.errorCode === 0) return modern.members.length === 0;
  return classicIdle;
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
    if (!(await idleOnTarget(tconn, group))) continue;
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
