// A classic group (JoinGroup/SyncGroup protocol): its members, state,
// generation, leader and the bookkeeping of a rebalance (members awaiting a
// join or sync answer, pending members, protocol votes). Plain data with its
// invariants; the rebalance flow that drives it with timers lives in
// classic-membership.ts.

import { randomUUID } from "node:crypto";
import { ErrorCode } from "../protocol/errors.ts";
import { CONSUMER_PROTOCOL_TYPE, subscribedTopics } from "./consumer-protocol.ts";
import type { CommitIdentity, CommittedOffset, Group } from "./group.ts";
import type { GroupRecord } from "./records.ts";

export type ClassicState = "Empty" | "PreparingRebalance" | "CompletingRebalance" | "Stable" | "Dead";

const VALID_PREVIOUS: Record<ClassicState, readonly ClassicState[]> = {
  Empty: ["PreparingRebalance"],
  PreparingRebalance: ["Stable", "CompletingRebalance", "Empty"],
  CompletingRebalance: ["PreparingRebalance"],
  Stable: ["CompletingRebalance"],
  Dead: ["Stable", "PreparingRebalance", "CompletingRebalance", "Empty", "Dead"],
};

export const EMPTY_ASSIGNMENT = new Uint8Array(0);

export interface Protocol {
  name: string;
  metadata: Uint8Array;
}

export interface JoinMember {
  memberId: string;
  groupInstanceId: string | null;
  metadata: Uint8Array;
}

/** The answer to a JoinGroup, in the shape of JoinGroupResponse. */
export interface JoinResult {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  skipAssignment: boolean;
  memberId: string;
  members: JoinMember[];
}

/** The answer to a SyncGroup, in the shape of SyncGroupResponse. */
export interface SyncResult {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Uint8Array;
}

export function joinError(errorCode: number, memberId: string): JoinResult {
  return { errorCode, generationId: -1, protocolType: null, protocolName: null, leader: "", skipAssignment: false, memberId, members: [] };
}

export function syncError(errorCode: number): SyncResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY_ASSIGNMENT };
}

export class ClassicMember {
  assignment: Uint8Array = EMPTY_ASSIGNMENT;
  /** Joined during the current rebalance and not yet answered: may be expired by the new-member timeout. */
  isNew = false;
  awaitingJoin: ((r: JoinResult) => void) | null = null;
  awaitingSync: ((r: SyncResult) => void) | null = null;

  constructor(
    readonly memberId: string,
    readonly groupInstanceId: string | null,
    readonly clientId: string,
    readonly clientHost: string,
    public rebalanceTimeoutMs: number,
    public sessionTimeoutMs: number,
    readonly protocolType: string,
    public protocols: Protocol[],
  ) {}

  get isStatic(): boolean {
    return this.groupInstanceId !== null;
  }

  /** Same protocols, in the same order, with byte-identical metadata. */
  matches(protocols: readonly Protocol[]): boolean {
    if (protocols.length !== this.protocols.length) return false;
    for (let i = 0; i < protocols.length; i++) {
      const a = protocols[i]!;
      const b = this.protocols[i]!;
      if (a.name !== b.name || !bytesEqual(a.metadata, b.metadata)) return false;
    }
    return true;
  }

  /** The member's most preferred protocol among the candidates. */
  vote(candidates: ReadonlySet<string>): string | null {
    for (const p of this.protocols) if (candidates.has(p.name)) return p.name;
    return null;
  }

  metadata(protocolName: string | null): Uint8Array {
    for (const p of this.protocols) if (p.name === protocolName) return p.metadata;
    return EMPTY_ASSIGNMENT;
  }

  /** Members parked in a join or sync need no heartbeat; new members always do. */
  hasSatisfiedHeartbeat(): boolean {
    if (this.isNew) return false;
    return this.awaitingJoin !== null || this.awaitingSync !== null;
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Group operations a member may perform with DESCRIBE/READ/DELETE rights: what DescribeGroups reports without an authorizer. */
export const ALL_GROUP_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);

export class ClassicGroup implements Group {
  readonly type = "classic" as const;
  state: ClassicState = "Empty";
  previousState: ClassicState = "Dead";
  stateTimestamp: number;
  protocolType: string | null;
  protocolName: string | null;
  generationId: number;
  leaderId: string | null = null;
  readonly members = new Map<string, ClassicMember>();
  /** group.instance.id → member id */
  readonly staticMembers = new Map<string, string>();
  /** Member ids handed out with MEMBER_ID_REQUIRED that have not joined with them yet. */
  readonly pendingJoinMembers = new Set<string>();
  /** Members of the new generation that have not sent SyncGroup yet. */
  readonly pendingSyncMembers = new Set<string>();
  numAwaitingJoin = 0;
  private readonly supportedProtocols = new Map<string, number>();
  /** null: unknown (not the consumer protocol, or its metadata did not parse). */
  subscribed: Set<string> | null = null;
  /** A member joined during the initial (delayed) rebalance: delay it once more. */
  newMemberAdded = false;

  constructor(
    readonly groupId: string,
    now: number,
    init: { generationId?: number; protocolType?: string | null; protocolName?: string | null; stateTimestamp?: number } = {},
  ) {
    this.generationId = init.generationId ?? 0;
    this.protocolType = init.protocolType ?? null;
    this.protocolName = init.protocolName ?? null;
    this.stateTimestamp = init.stateTimestamp ?? now;
  }

  // ------------------------------------------------------------ membership

  get size(): number {
    return this.members.size;
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  add(member: ClassicMember, onJoin: ((r: JoinResult) => void) | null): void {
    if (member.groupInstanceId !== null) {
      if (this.staticMembers.has(member.groupInstanceId)) throw new Error(`static member ${member.groupInstanceId} is already in group ${this.groupId}`);
      this.staticMembers.set(member.groupInstanceId, member.memberId);
    }
    if (this.members.size === 0) this.protocolType = member.protocolType;
    if (this.leaderId === null) this.leaderId = member.memberId;
    this.members.set(member.memberId, member);
    this.countProtocols(member, 1);
    member.awaitingJoin = onJoin;
    if (onJoin) this.numAwaitingJoin++;
    this.pendingJoinMembers.delete(member.memberId);
  }

  /** Removes a member; a request it still has parked is answered UNKNOWN_MEMBER_ID rather than left hanging. */
  remove(memberId: string): void {
    const m = this.members.get(memberId);
    if (m) {
      this.completeJoin(m, joinError(ErrorCode.UNKNOWN_MEMBER_ID, ""));
      this.completeSync(m, syncError(ErrorCode.UNKNOWN_MEMBER_ID));
      this.members.delete(memberId);
      this.countProtocols(m, -1);
      if (m.groupInstanceId !== null && this.staticMembers.get(m.groupInstanceId) === memberId) this.staticMembers.delete(m.groupInstanceId);
    }
    if (this.isLeader(memberId)) {
      const next = this.members.keys().next();
      this.leaderId = next.done ? null : next.value;
    }
    this.pendingJoinMembers.delete(memberId);
    this.pendingSyncMembers.delete(memberId);
  }

  updateMember(member: ClassicMember, protocols: Protocol[], rebalanceTimeoutMs: number, sessionTimeoutMs: number, onJoin: ((r: JoinResult) => void) | null): void {
    this.countProtocols(member, -1);
    member.protocols = protocols;
    this.countProtocols(member, 1);
    member.rebalanceTimeoutMs = rebalanceTimeoutMs;
    member.sessionTimeoutMs = sessionTimeoutMs;
    if (onJoin && !member.awaitingJoin) this.numAwaitingJoin++;
    else if (!onJoin && member.awaitingJoin) this.numAwaitingJoin--;
    member.awaitingJoin = onJoin;
  }

  /** Static member rejoining with a new member id: the old id is fenced, everything else carries over. */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string): ClassicMember {
    const old = this.members.get(oldMemberId);
    if (!old) throw new Error(`cannot replace unknown member ${oldMemberId}`);
    this.members.delete(oldMemberId);
    this.completeJoin(old, joinError(ErrorCode.FENCED_INSTANCE_ID, oldMemberId));
    this.completeSync(old, syncError(ErrorCode.FENCED_INSTANCE_ID));
    const m = new ClassicMember(newMemberId, old.groupInstanceId, old.clientId, old.clientHost, old.rebalanceTimeoutMs, old.sessionTimeoutMs, old.protocolType, old.protocols);
    m.assignment = old.assignment;
    this.members.set(newMemberId, m);
    if (this.isLeader(oldMemberId)) this.leaderId = newMemberId;
    this.staticMembers.set(groupInstanceId, newMemberId);
    return m;
  }

  staticMemberId(groupInstanceId: string): string | undefined {
    return this.staticMembers.get(groupInstanceId);
  }

  /** UNKNOWN_MEMBER_ID or FENCED_INSTANCE_ID for a request that names a member this group does not have (NONE otherwise). */
  validateMember(memberId: string, groupInstanceId: string | null): number {
    if (groupInstanceId !== null) {
      const existing = this.staticMembers.get(groupInstanceId);
      if (existing === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (existing !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
    }
    return this.members.has(memberId) ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
  }

  hasAllMembersJoined(): boolean {
    return this.members.size === this.numAwaitingJoin && this.pendingJoinMembers.size === 0;
  }

  /** The largest rebalance timeout of the members: how long a join phase may last. */
  rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  /** Keeps the leader if it rejoined, else hands leadership to a member that did; false when none did. */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId === null) return false;
    const leader = this.members.get(this.leaderId);
    if (leader && leader.awaitingJoin) return true;
    for (const m of this.members.values()) {
      if (m.awaitingJoin) {
        this.leaderId = m.memberId;
        return true;
      }
    }
    return false;
  }

  completeJoin(member: ClassicMember, r: JoinResult): boolean {
    const cb = member.awaitingJoin;
    if (!cb) return false;
    member.awaitingJoin = null;
    this.numAwaitingJoin--;
    cb(r);
    return true;
  }

  completeSync(member: ClassicMember, r: SyncResult): boolean {
    const cb = member.awaitingSync;
    if (!cb) return false;
    member.awaitingSync = null;
    cb(r);
    return true;
  }

  /** What the leader receives in its JoinGroup answer. */
  currentMembers(): JoinMember[] {
    return [...this.members.values()].map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadata(this.protocolName) }));
  }

  // ------------------------------------------------------------ protocols

  private countProtocols(member: ClassicMember, delta: number): void {
    for (const p of member.protocols) this.supportedProtocols.set(p.name, (this.supportedProtocols.get(p.name) ?? 0) + delta);
  }

  /** Whether a member with this protocol type and protocols may join: some protocol must be supported by all. */
  supportsProtocols(protocolType: string, protocolNames: readonly string[]): boolean {
    if (this.state === "Empty") return protocolType !== "" && protocolNames.length > 0;
    if (this.protocolType !== protocolType) return false;
    return protocolNames.some((n) => (this.supportedProtocols.get(n) ?? 0) === this.members.size);
  }

  /** Each member votes for its preferred protocol among those all members support; the most votes win (ties: first voted). */
  selectProtocol(): string {
    const candidates = new Set<string>();
    for (const [name, n] of this.supportedProtocols) if (n === this.members.size) candidates.add(name);
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const v = m.vote(candidates);
      if (v !== null) votes.set(v, (votes.get(v) ?? 0) + 1);
    }
    let best: string | null = null;
    let bestVotes = -1;
    for (const [name, n] of votes) {
      if (n > bestVotes) {
        best = name;
        bestVotes = n;
      }
    }
    if (best === null) throw new Error(`group ${this.groupId} has no protocol all members support`);
    return best;
  }

  usesConsumerProtocol(): boolean {
    return this.protocolType === CONSUMER_PROTOCOL_TYPE;
  }

  /** The union of the members' subscriptions when the group runs the consumer protocol; null when unknown. */
  computeSubscribedTopics(): Set<string> | null {
    if (this.protocolType !== CONSUMER_PROTOCOL_TYPE) return null;
    if (this.members.size === 0) return new Set();
    if (this.protocolName === null) return null;
    const all = new Set<string>();
    for (const m of this.members.values()) {
      const topics = subscribedTopics(m.metadata(this.protocolName));
      if (topics === null) return null;
      for (const t of topics) all.add(t);
    }
    return all;
  }

  // ------------------------------------------------------------ state

  canRebalance(): boolean {
    return VALID_PREVIOUS.PreparingRebalance.includes(this.state);
  }

  transitionTo(target: ClassicState, now: number): void {
    if (!VALID_PREVIOUS[target].includes(this.state)) throw new Error(`group ${this.groupId}: illegal transition ${this.state} → ${target}`);
    this.previousState = this.state;
    this.state = target;
    this.stateTimestamp = now;
  }

  initNextGeneration(now: number): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.subscribed = this.computeSubscribedTopics();
      this.transitionTo("CompletingRebalance", now);
    } else {
      this.protocolName = null;
      this.subscribed = this.computeSubscribedTopics();
      this.transitionTo("Empty", now);
    }
    this.pendingSyncMembers.clear();
  }

  // ------------------------------------------------------------ Group

  stateName(): string {
    return this.state;
  }

  listedProtocolType(): string {
    return this.protocolType ?? "";
  }

  isEmpty(): boolean {
    return this.state === "Empty";
  }

  /** A group created by an admin/simple commit: never joined, no protocol. */
  isSimple(): boolean {
    return this.protocolType === null && this.generationId === 0 && this.members.size === 0;
  }

  validateOffsetCommit(who: CommitIdentity): number {
    if (this.state === "Dead") return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    // Generation -1 comes from admin tools and consumers without group management (MirrorMaker 2 too): allowed while nobody is a member.
    if (who.generationIdOrMemberEpoch < 0 && this.state === "Empty") return ErrorCode.NONE;
    if (who.generationIdOrMemberEpoch >= 0 || who.memberId !== "" || who.groupInstanceId !== null) {
      const e = this.validateMember(who.memberId, who.groupInstanceId);
      if (e !== ErrorCode.NONE) return e;
      if (who.generationIdOrMemberEpoch !== this.generationId) return ErrorCode.ILLEGAL_GENERATION;
    } else if (!who.isTransactional && this.state !== "Empty") {
      return ErrorCode.UNKNOWN_MEMBER_ID;
    }
    // The member knows the new generation from its JoinGroup answer but has no assignment yet.
    if (!who.isTransactional && this.state === "CompletingRebalance") return ErrorCode.REBALANCE_IN_PROGRESS;
    return ErrorCode.NONE;
  }

  validateOffsetFetch(): number {
    return this.state === "Dead" ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.NONE;
  }

  validateOffsetDelete(): number {
    if (this.state === "Dead") return ErrorCode.GROUP_ID_NOT_FOUND;
    if (this.state !== "Empty" && !this.usesConsumerProtocol()) return ErrorCode.NON_EMPTY_GROUP;
    return ErrorCode.NONE;
  }

  validateDeleteGroup(): number {
    if (this.state === "Dead") return ErrorCode.GROUP_ID_NOT_FOUND;
    if (this.state !== "Empty") return ErrorCode.NON_EMPTY_GROUP;
    return ErrorCode.NONE;
  }

  isSubscribedToTopic(topic: string): boolean {
    return this.subscribed !== null ? this.subscribed.has(topic) : this.usesConsumerProtocol();
  }

  offsetExpirationBase(): ((o: CommittedOffset) => number) | null {
    if (this.protocolType === null) return (o) => o.commitTimestamp;
    if (this.state === "Empty") {
      const since = this.stateTimestamp;
      return () => since;
    }
    if (this.usesConsumerProtocol() && this.subscribed !== null && this.state === "Stable") return (o) => o.commitTimestamp;
    return null;
  }

  toRecord(): GroupRecord | null {
    if (this.isSimple()) return null;
    return {
      kind: "group",
      group: this.groupId,
      groupType: this.type,
      protocolType: this.protocolType,
      generation: this.generationId,
      protocolName: this.protocolName,
      emptySince: this.state === "Empty" ? this.stateTimestamp : -1,
    };
  }

  shutdown(errorCode: number): void {
    for (const m of this.members.values()) {
      this.completeJoin(m, joinError(errorCode, m.memberId));
      this.completeSync(m, syncError(errorCode));
    }
  }

  /** Fresh member ids: `<group.instance.id or client.id>-<uuid>`, as Kafka makes them. */
  static newMemberId(clientId: string, groupInstanceId: string | null): string {
    return `${groupInstanceId ?? clientId}-${randomUUID()}`;
  }
}
