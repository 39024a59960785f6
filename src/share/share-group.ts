// A share group (KIP-932) in the coordinator's one group namespace: members
// with their subscriptions and the group epoch. There is no reconciliation:
// a share-partition may be consumed by several members at once, so a
// member's epoch goes straight to the group epoch and its assignment is the
// simple assignor's answer for the current members.

import { ErrorCode } from "../protocol/errors.ts";
import type { CommittedOffset, Group } from "../groups/group.ts";
import type { GroupRecord } from "../groups/records.ts";
import type { TopicView } from "../groups/topic-view.ts";

export const SHARE_PROTOCOL_TYPE = "share";
export const SHARE_ASSIGNOR = "simple";

/** topic id → partitions, sorted. */
export type ShareAssignment = Map<string, number[]>;

export class ShareMember {
  memberEpoch = 0;
  rackId: string | null = null;
  clientId = "";
  clientHost = "";
  subscribedTopicNames: string[] = [];
  assignment: ShareAssignment = new Map();
  /** The assignment last sent to the member: the next heartbeat answer carries it only when it changed. */
  sentAssignment: ShareAssignment | null = null;

  constructor(readonly memberId: string) {}
}

export function sameAssignment(a: ShareAssignment, b: ShareAssignment): boolean {
  if (a.size !== b.size) return false;
  for (const [t, ps] of a) {
    const o = b.get(t);
    if (!o || o.length !== ps.length || o.some((p, i) => p !== ps[i])) return false;
  }
  return true;
}

/**
 * The simple assignor: per topic, members subscribed to it share its
 * partitions round-robin when there are at least as many partitions as
 * members; with more members than partitions every partition goes to
 * several members (member i gets partition i mod P), so none sits idle.
 */
export function assignShare(members: readonly ShareMember[], topics: TopicView): Map<string, ShareAssignment> {
  const out = new Map<string, ShareAssignment>(members.map((m) => [m.memberId, new Map()]));
  const names = new Set<string>();
  for (const m of members) for (const n of m.subscribedTopicNames) names.add(n);
  for (const name of [...names].sort()) {
    const t = topics.byName(name);
    if (!t || t.partitions === 0) continue;
    const subs = members.filter((m) => m.subscribedTopicNames.includes(name)).sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
    const P = t.partitions;
    subs.forEach((m, i) => {
      const ps: number[] = [];
      if (subs.length <= P) for (let p = i; p < P; p += subs.length) ps.push(p);
      else ps.push(i % P);
      out.get(m.memberId)!.set(t.id, ps);
    });
  }
  return out;
}

export class ShareGroup implements Group {
  readonly type = "share" as const;
  readonly members = new Map<string, ShareMember>();
  groupEpoch: number;
  assignmentEpoch: number;
  dead = false;
  /** When the group last became empty (for offsets retention of the coordinator). */
  emptySince: number;

  constructor(
    readonly groupId: string,
    now: number,
    groupEpoch = 0,
    private readonly onDeleted: (g: ShareGroup) => void = () => {},
    /** Whether share-partition state of the group exists (the group then never counts as empty). */
    private readonly hasState: (g: ShareGroup) => boolean = () => false,
  ) {
    this.groupEpoch = groupEpoch;
    this.assignmentEpoch = groupEpoch;
    this.emptySince = now;
  }

  stateName(): string {
    if (this.dead) return "Dead";
    return this.members.size === 0 ? "Empty" : "Stable";
  }

  listedProtocolType(): string {
    return SHARE_PROTOCOL_TYPE;
  }

  /**
   * Without members and without share-partition state: only then may offsets
   * retention drop the group or a JoinGroup turn it classic (which would
   * orphan its state). DeleteGroups looks at members only.
   */
  isEmpty(): boolean {
    return this.members.size === 0 && !this.hasState(this);
  }

  // Share groups commit no offsets: their progress is the share-partition state.
  validateOffsetCommit(): number {
    return ErrorCode.GROUP_ID_NOT_FOUND;
  }

  validateOffsetFetch(): number {
    return ErrorCode.GROUP_ID_NOT_FOUND;
  }

  validateOffsetDelete(): number {
    return ErrorCode.GROUP_ID_NOT_FOUND;
  }

  validateDeleteGroup(): number {
    return this.members.size > 0 ? ErrorCode.NON_EMPTY_GROUP : ErrorCode.NONE;
  }

  isSubscribedToTopic(topic: string): boolean {
    for (const m of this.members.values()) if (m.subscribedTopicNames.includes(topic)) return true;
    return false;
  }

  offsetExpirationBase(): ((o: CommittedOffset) => number) | null {
    return this.members.size > 0 ? null : () => this.emptySince;
  }

  toRecord(): GroupRecord {
    return {
      kind: "group",
      group: this.groupId,
      groupType: "share",
      protocolType: SHARE_PROTOCOL_TYPE,
      generation: this.groupEpoch,
      protocolName: SHARE_ASSIGNOR,
      emptySince: this.members.size === 0 ? this.emptySince : -1,
    };
  }

  /** Called by the coordinator when the group leaves its namespace: deleted, or at shutdown. */
  shutdown(errorCode: number): void {
    // DeleteGroups and retention answer COORDINATOR_NOT_AVAILABLE to parked requests; a broker shutdown NOT_COORDINATOR.
    if (errorCode === ErrorCode.COORDINATOR_NOT_AVAILABLE) {
      this.dead = true;
      this.onDeleted(this);
    }
  }
}
