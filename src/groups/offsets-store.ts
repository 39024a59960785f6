// Committed offsets of every group (whatever its type), keyed group → topic
// name → partition, plus the offsets of open transactions (TxnOffsetCommit),
// which stay invisible until the transaction commits. In memory only: the
// coordinator writes each change to the group log before acknowledging it.

import type { CommittedOffset } from "./group.ts";

type TopicOffsets = Map<number, CommittedOffset>;
type GroupOffsets = Map<string, TopicOffsets>;

function getIn(m: Map<string, GroupOffsets>, group: string, topic: string, partition: number): CommittedOffset | undefined {
  return m.get(group)?.get(topic)?.get(partition);
}

function putIn(m: Map<string, GroupOffsets>, group: string, topic: string, partition: number, o: CommittedOffset): void {
  let g = m.get(group);
  if (!g) m.set(group, (g = new Map()));
  let t = g.get(topic);
  if (!t) g.set(topic, (t = new Map()));
  t.set(partition, o);
}

function removeIn(m: Map<string, GroupOffsets>, group: string, topic: string, partition: number): boolean {
  const g = m.get(group);
  const t = g?.get(topic);
  if (!g || !t || !t.delete(partition)) return false;
  if (t.size === 0) g.delete(topic);
  if (g.size === 0) m.delete(group);
  return true;
}

export class OffsetsStore {
  private readonly committed = new Map<string, GroupOffsets>();
  /** producer id → its transaction's pending offsets. */
  private readonly pending = new Map<number, Map<string, GroupOffsets>>();

  get(group: string, topic: string, partition: number): CommittedOffset | undefined {
    return getIn(this.committed, group, topic, partition);
  }

  put(group: string, topic: string, partition: number, o: CommittedOffset): void {
    putIn(this.committed, group, topic, partition, o);
  }

  remove(group: string, topic: string, partition: number): boolean {
    return removeIn(this.committed, group, topic, partition);
  }

  /** The group's committed offsets by topic (live view; do not mutate). */
  groupOffsets(group: string): ReadonlyMap<string, ReadonlyMap<number, CommittedOffset>> | undefined {
    return this.committed.get(group);
  }

  hasOffsets(group: string): boolean {
    return this.committed.has(group);
  }

  groupIds(): IterableIterator<string> {
    return this.committed.keys();
  }

  /** Drops every offset of the group, committed and pending. */
  deleteGroup(group: string): void {
    this.committed.delete(group);
    for (const [pid, byGroup] of this.pending) {
      byGroup.delete(group);
      if (byGroup.size === 0) this.pending.delete(pid);
    }
  }

  /** Drops every offset (committed and pending) of a topic in every group; returns the affected group ids. */
  deleteTopic(topic: string): string[] {
    const groups: string[] = [];
    for (const [group, g] of this.committed) {
      if (g.delete(topic)) groups.push(group);
      if (g.size === 0) this.committed.delete(group);
    }
    for (const [pid, byGroup] of this.pending) {
      for (const [group, g] of byGroup) {
        g.delete(topic);
        if (g.size === 0) byGroup.delete(group);
      }
      if (byGroup.size === 0) this.pending.delete(pid);
    }
    return groups;
  }

  // ------------------------------------------------------------ transactions

  stagePending(producerId: number, group: string, topic: string, partition: number, o: CommittedOffset): void {
    let byGroup = this.pending.get(producerId);
    if (!byGroup) this.pending.set(producerId, (byGroup = new Map()));
    putIn(byGroup, group, topic, partition, o);
  }

  /** Commit: the transaction's offsets for the group become committed offsets. Abort: they vanish. */
  completePending(producerId: number, group: string, commit: boolean): number {
    const byGroup = this.pending.get(producerId);
    const g = byGroup?.get(group);
    if (!byGroup || !g) return 0;
    let n = 0;
    if (commit) {
      for (const [topic, parts] of g) {
        for (const [partition, o] of parts) {
          this.put(group, topic, partition, o);
          n++;
        }
      }
    }
    byGroup.delete(group);
    if (byGroup.size === 0) this.pending.delete(producerId);
    return n;
  }

  /** Removes the partition's committed offset and any pending one; true if there was either. */
  removeEverywhere(group: string, topic: string, partition: number): boolean {
    let found = this.remove(group, topic, partition);
    for (const [pid, byGroup] of this.pending) {
      if (removeIn(byGroup, group, topic, partition)) found = true;
      if (byGroup.size === 0) this.pending.delete(pid);
    }
    return found;
  }

  hasPending(group: string, topic: string, partition: number): boolean {
    for (const byGroup of this.pending.values()) if (getIn(byGroup, group, topic, partition)) return true;
    return false;
  }

  hasPendingForGroup(group: string): boolean {
    for (const byGroup of this.pending.values()) if (byGroup.has(group)) return true;
    return false;
  }

  /** Every pending offset, for rewriting the log. */
  *pendingEntries(): Generator<{ producerId: number; group: string; topic: string; partition: number; offset: CommittedOffset }> {
    for (const [producerId, byGroup] of this.pending) {
      for (const [group, g] of byGroup) for (const [topic, parts] of g) for (const [partition, offset] of parts) yield { producerId, group, topic, partition, offset };
    }
  }
}
