// A KIP-848 consumer group: members with their subscriptions, the group
// epoch (bumped whenever subscriptions or the subscribed topics change), the
// target assignment computed at an assignment epoch, and each member's
// current assignment on its way to that target. Reconciliation is
// incremental: a partition moves to its new owner only once no other member
// holds it, i.e. after the previous owner's heartbeat stopped listing it.
// The heartbeat flow and its timers live in consumer-membership.ts.

import { ErrorCode } from "../protocol/errors.ts";
import { CONSUMER_PROTOCOL_TYPE } from "./consumer-protocol.ts";
import type { CommitIdentity, CommittedOffset, Group } from "./group.ts";
import type { GroupRecord } from "./records.ts";

export type ConsumerGroupState = "Empty" | "Assigning" | "Reconciling" | "Stable" | "Dead";
/** stable: at the target epoch; unrevoked: must give partitions up first; unreleased: waits for partitions others still hold. */
export type MemberState = "stable" | "unrevoked" | "unreleased";

/** topic id → partitions. */
export type Partitions = Map<string, Set<number>>;

/** Member epoch of a static member that left for a moment (it keeps its partitions until its session expires). */
export const LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2;
export const LEAVE_GROUP_MEMBER_EPOCH = -1;

export class ConsumerMember {
  memberEpoch = 0;
  previousMemberEpoch = -1;
  state: MemberState = "stable";
  instanceId: string | null = null;
  rackId: string | null = null;
  clientId = "";
  clientHost = "";
  rebalanceTimeoutMs = 300_000;
  serverAssignor: string | null = null;
  subscribedTopicNames: string[] = [];
  /** null: none (an empty regex from the client means none too). */
  subscribedTopicRegex: string | null = null;
  assigned: Partitions = new Map();
  pendingRevocation: Partitions = new Map();

  constructor(readonly memberId: string) {}
}

export function countPartitions(p: Partitions): number {
  let n = 0;
  for (const s of p.values()) n += s.size;
  return n;
}

export function partitionsEqual(a: Partitions, b: Partitions): boolean {
  if (countPartitions(a) !== countPartitions(b)) return false;
  for (const [t, s] of a) {
    const o = b.get(t);
    if (!o && s.size > 0) return false;
    for (const p of s) if (!o!.has(p)) return false;
  }
  return true;
}

function addTo(p: Partitions, topicId: string, partition: number): void {
  let s = p.get(topicId);
  if (!s) p.set(topicId, (s = new Set()));
  s.add(partition);
}

function overlaps(a: Partitions, b: Partitions): boolean {
  for (const [t, s] of a) {
    const o = b.get(t);
    if (o) for (const p of s) if (o.has(p)) return true;
  }
  return false;
}

function isSubset(a: Partitions, b: Partitions): boolean {
  for (const [t, s] of a) {
    const o = b.get(t);
    for (const p of s) if (!o || !o.has(p)) return false;
  }
  return true;
}

export class ConsumerGroup implements Group {
  readonly type = "consumer" as const;
  groupEpoch: number;
  assignmentEpoch: number;
  readonly members = new Map<string, ConsumerMember>();
  /** instance id → member id */
  readonly staticMembers = new Map<string, string>();
  /** member id → its target partitions at assignmentEpoch. */
  readonly targetAssignment = new Map<string, Partitions>();
  /** Fingerprint of the subscribed topics' names, ids and partition counts at the last epoch bump. */
  subscriptionFingerprint = "";
  /** Topic names the members subscribe to (names and regex matches), as of the last refresh. */
  subscribedTopics = new Set<string>();
  /**
   * Subscription regexes resolved to topic names, as Kafka keeps them per
   * group: a regex counts for assignments only once resolved, which happens
   * after the heartbeat that brought it (see ConsumerMembership.resolveRegexes).
   */
  resolvedRegexes = new Map<string, string[]>();
  /** The topic names the regexes were last resolved against. */
  regexTopicsSeen = "";
  /** The assignor the last target was computed with. */
  assignorName: string;
  emptySince: number;
  dead = false;

  constructor(readonly groupId: string, now: number, init: { groupEpoch?: number; assignorName?: string; emptySince?: number } = {}) {
    this.groupEpoch = init.groupEpoch ?? 0;
    this.assignmentEpoch = this.groupEpoch;
    this.assignorName = init.assignorName ?? "uniform";
    this.emptySince = init.emptySince ?? now;
  }

  state(): ConsumerGroupState {
    if (this.dead) return "Dead";
    if (this.members.size === 0) return "Empty";
    if (this.groupEpoch > this.assignmentEpoch) return "Assigning";
    for (const m of this.members.values()) {
      if (m.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) continue;
      if (m.state !== "stable" || m.memberEpoch !== this.assignmentEpoch) return "Reconciling";
    }
    return "Stable";
  }

  // ------------------------------------------------------------ members

  addMember(m: ConsumerMember): void {
    this.members.set(m.memberId, m);
    if (m.instanceId !== null) this.staticMembers.set(m.instanceId, m.memberId);
  }

  removeMember(memberId: string, now: number): ConsumerMember | undefined {
    const m = this.members.get(memberId);
    if (!m) return undefined;
    this.members.delete(memberId);
    this.targetAssignment.delete(memberId);
    if (m.instanceId !== null && this.staticMembers.get(m.instanceId) === memberId) this.staticMembers.delete(m.instanceId);
    if (this.members.size === 0) this.emptySince = now;
    return m;
  }

  staticMember(instanceId: string): ConsumerMember | undefined {
    const id = this.staticMembers.get(instanceId);
    return id === undefined ? undefined : this.members.get(id);
  }

  /** A static member back under a new member id: it takes over the old one's partitions and target, nothing moves. */
  replaceStaticMember(old: ConsumerMember, newMemberId: string): ConsumerMember {
    const m = new ConsumerMember(newMemberId);
    m.state = old.state;
    m.instanceId = old.instanceId;
    m.rackId = old.rackId;
    m.clientId = old.clientId;
    m.clientHost = old.clientHost;
    m.rebalanceTimeoutMs = old.rebalanceTimeoutMs;
    m.serverAssignor = old.serverAssignor;
    m.subscribedTopicNames = old.subscribedTopicNames;
    m.subscribedTopicRegex = old.subscribedTopicRegex;
    m.assigned = old.assigned;
    m.pendingRevocation = old.pendingRevocation;
    this.members.delete(old.memberId);
    const target = this.targetAssignment.get(old.memberId);
    this.targetAssignment.delete(old.memberId);
    if (target) this.targetAssignment.set(newMemberId, target);
    this.addMember(m);
    return m;
  }

  /** The group's preferred assignor: the one most members asked for, else the default. */
  preferredAssignor(defaultName: string): string {
    const votes = new Map<string, number>();
    for (const m of this.members.values()) if (m.serverAssignor) votes.set(m.serverAssignor, (votes.get(m.serverAssignor) ?? 0) + 1);
    let best = defaultName;
    let most = 0;
    for (const [name, n] of votes) if (n > most) [best, most] = [name, n];
    return best;
  }

  // ------------------------------------------------------------ reconciliation

  /** Partitions held by members other than `except`, assigned or still being revoked. */
  private heldByOthers(except: string): Partitions {
    const held: Partitions = new Map();
    for (const m of this.members.values()) {
      if (m.memberId === except) continue;
      for (const src of [m.assigned, m.pendingRevocation]) for (const [t, s] of src) for (const p of s) addTo(held, t, p);
    }
    return held;
  }

  /**
   * FENCED_MEMBER_EPOCH unless the epoch is the member's own, or its previous
   * one with owned partitions it still has (the answer with the new epoch may have been lost).
   */
  validateMemberEpoch(m: ConsumerMember, receivedEpoch: number, owned: Partitions | null): number {
    if (receivedEpoch > m.memberEpoch) return ErrorCode.FENCED_MEMBER_EPOCH;
    if (receivedEpoch < m.memberEpoch) {
      if (receivedEpoch !== m.previousMemberEpoch || owned === null || !isSubset(owned, m.assigned)) return ErrorCode.FENCED_MEMBER_EPOCH;
    }
    return ErrorCode.NONE;
  }

  /**
   * Moves the member one step towards its target. `owned` is what its heartbeat
   * says it holds (null: unchanged since the last one, so assume it still holds everything).
   */
  reconcile(m: ConsumerMember, owned: Partitions | null): void {
    if (m.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) return;
    switch (m.state) {
      case "stable":
        if (m.memberEpoch !== this.assignmentEpoch) this.computeNext(m, owned);
        return;
      case "unrevoked":
        if (owned === null || overlaps(owned, m.pendingRevocation)) return;
        m.pendingRevocation = new Map();
        this.computeNext(m, owned);
        return;
      case "unreleased":
        this.computeNext(m, owned);
        return;
    }
  }

  private computeNext(m: ConsumerMember, owned: Partitions | null): void {
    const target = this.targetAssignment.get(m.memberId) ?? new Map<string, Set<number>>();
    const others = this.heldByOthers(m.memberId);
    const assigned: Partitions = new Map();
    const revoking: Partitions = new Map();
    let unreleased = false;
    for (const [t, s] of m.assigned) {
      const tgt = target.get(t);
      for (const p of s) addTo(tgt?.has(p) ? assigned : revoking, t, p);
    }
    for (const [t, s] of target) {
      const cur = m.assigned.get(t);
      for (const p of s) {
        if (cur?.has(p)) continue;
        if (others.get(t)?.has(p)) unreleased = true;
        else addTo(assigned, t, p);
      }
    }
    if (revoking.size > 0 && (owned === null || overlaps(owned, revoking))) {
      // Keep the epoch: the member must confirm the revocation before it moves on.
      m.state = "unrevoked";
      m.assigned = assigned;
      m.pendingRevocation = revoking;
      return;
    }
    m.previousMemberEpoch = m.memberEpoch;
    m.memberEpoch = this.assignmentEpoch;
    m.state = unreleased ? "unreleased" : "stable";
    m.assigned = assigned;
    m.pendingRevocation = new Map();
  }

  // ------------------------------------------------------------ Group

  stateName(): string {
    return this.state();
  }

  listedProtocolType(): string {
    return CONSUMER_PROTOCOL_TYPE;
  }

  isEmpty(): boolean {
    return this.members.size === 0;
  }

  validateOffsetCommit(who: CommitIdentity): number {
    if (this.dead) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    // Epoch -1: admin tools and consumers outside group management, allowed while nobody is a member.
    if (who.generationIdOrMemberEpoch < 0 && this.members.size === 0) return ErrorCode.NONE;
    const m = this.members.get(who.memberId);
    if (!m) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (!who.isTransactional && who.apiVersion < 9) return ErrorCode.UNSUPPORTED_VERSION;
    if (who.generationIdOrMemberEpoch !== m.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
    return ErrorCode.NONE;
  }

  validateOffsetFetch(memberId: string | null, memberEpoch: number): number {
    if (this.dead) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (memberId === null && memberEpoch < 0) return ErrorCode.NONE;
    const m = memberId === null ? undefined : this.members.get(memberId);
    if (!m) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (memberEpoch !== m.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
    return ErrorCode.NONE;
  }

  validateOffsetDelete(): number {
    return this.dead ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.NONE;
  }

  validateDeleteGroup(): number {
    if (this.dead) return ErrorCode.GROUP_ID_NOT_FOUND;
    return this.members.size === 0 ? ErrorCode.NONE : ErrorCode.NON_EMPTY_GROUP;
  }

  isSubscribedToTopic(topic: string): boolean {
    return this.subscribedTopics.has(topic);
  }

  offsetExpirationBase(): ((o: CommittedOffset) => number) | null {
    // As Kafka does for consumer groups: retention counts from each commit; subscribed topics never expire.
    return (o) => o.commitTimestamp;
  }

  toRecord(): GroupRecord {
    return {
      kind: "group",
      group: this.groupId,
      groupType: this.type,
      protocolType: CONSUMER_PROTOCOL_TYPE,
      generation: this.groupEpoch,
      protocolName: this.assignorName,
      emptySince: this.members.size === 0 ? this.emptySince : -1,
    };
  }

  shutdown(_errorCode: number): void {
    // Heartbeats are answered at once, nothing is parked; timers belong to the membership.
  }
}
