// What every group type shares in the coordinator's one namespace: classic
// groups (JoinGroup/SyncGroup) now, KIP-848 consumer groups beside them. The
// offsets store, ListGroups, DescribeGroups, DeleteGroups, OffsetDelete and
// retention only talk to groups through this interface.

import type { GroupRecord } from "./records.ts";

export type GroupType = "classic" | "consumer" | "share";

/** One committed offset as stored (by topic name, as Kafka keys them). */
export interface CommittedOffset {
  offset: bigint;
  leaderEpoch: number;
  /** Never null: Kafka stores a null commit metadata as "". */
  metadata: string;
  commitTimestamp: number;
  /** -1: none; else the explicit expiry from OffsetCommit v2-4 RetentionTimeMs. */
  expireTimestamp: number;
}

/** Who is committing: the fields OffsetCommit and TxnOffsetCommit carry for the generation/epoch check. */
export interface CommitIdentity {
  memberId: string;
  groupInstanceId: string | null;
  /** Generation id for classic groups, member epoch for consumer groups; -1 for admin/simple commits. */
  generationIdOrMemberEpoch: number;
  isTransactional: boolean;
  apiVersion: number;
}

export interface Group {
  readonly groupId: string;
  readonly type: GroupType;
  /** Kafka's state name, as ListGroups and DescribeGroups spell it. */
  stateName(): string;
  /** ListGroups' protocol type: "" when the group has none. */
  listedProtocolType(): string;
  /** Kafka's isEmpty(): no members, so the group may be deleted or converted. */
  isEmpty(): boolean;
  /** An error code (NONE when the commit may proceed). */
  validateOffsetCommit(who: CommitIdentity): number;
  /** An error code; GROUP_ID_NOT_FOUND makes the fetch answer "no offsets" without an error. */
  validateOffsetFetch(memberId: string | null, memberEpoch: number): number;
  validateOffsetDelete(): number;
  validateDeleteGroup(): number;
  isSubscribedToTopic(topic: string): boolean;
  /**
   * The timestamp an offset's retention counts from, or null when the group's
   * offsets must not expire now (members are using them).
   */
  offsetExpirationBase(): ((o: CommittedOffset) => number) | null;
  /** What must survive a restart (the group log's group record); null when nothing does. */
  toRecord(): GroupRecord | null;
  /** Ends the group's life in this coordinator: parked requests are answered with `errorCode`, timers stop. */
  shutdown(errorCode: number): void;
}
