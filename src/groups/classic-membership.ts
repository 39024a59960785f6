// The classic rebalance protocol over ClassicGroup: JoinGroup (with
// MEMBER_ID_REQUIRED, pending and static members, the initial rebalance
// delay and the rebalance timeout), SyncGroup (the leader's assignment handed
// to everyone, the pending-sync timeout), Heartbeat (session timeouts) and
// LeaveGroup. The protocol facts and error codes are Kafka's; the timers go
// through an injected Scheduler, so the whole flow runs without sockets or
// wall time.

import { ErrorCode } from "../protocol/errors.ts";
import { ClassicGroup, ClassicMember, EMPTY_ASSIGNMENT, joinError, syncError, type JoinResult, type Protocol, type SyncResult } from "./classic-group.ts";
import type { Group } from "./group.ts";
import type { Scheduler } from "./scheduler.ts";

export interface MembershipConfig {
  /** group.min.session.timeout.ms */
  minSessionTimeoutMs: number;
  /** group.max.session.timeout.ms */
  maxSessionTimeoutMs: number;
  /** group.initial.rebalance.delay.ms */
  initialRebalanceDelayMs: number;
  /** How long a new member's parked JoinGroup may wait before it is dropped. */
  newMemberJoinTimeoutMs: number;
}

export interface MembershipHost {
  readonly scheduler: Scheduler;
  readonly config: MembershipConfig;
  /** The classic group under that id, if there is one. */
  classicGroup(groupId: string): ClassicGroup | undefined;
  /** A group of any type under that id. */
  anyGroup(groupId: string): Group | undefined;
  /** The classic group a JoinGroup goes to (created when `create`), or the error code to answer. */
  groupForJoin(groupId: string, create: boolean): ClassicGroup | number;
  /** The group entered a new generation (or became Empty): persist what survives a restart. */
  generationChanged(group: ClassicGroup): void;
  debug(msg: string): void;
}

export interface JoinRequest {
  groupId: string;
  /** "" on a first join. */
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: Protocol[];
  /** JoinGroup v4+: a first join gets MEMBER_ID_REQUIRED and an id to come back with. */
  requireKnownMemberId: boolean;
  /** JoinGroup v9+: a static leader rejoining a stable group may skip the assignment. */
  supportsSkipAssignment: boolean;
}

export interface SyncRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string | null;
  protocolName: string | null;
  assignments: { memberId: string; assignment: Uint8Array }[];
}

export interface LeaveMember {
  memberId: string;
  groupInstanceId: string | null;
}

export interface LeaveResult {
  errorCode: number;
  members: { memberId: string; groupInstanceId: string | null; errorCode: number }[];
}

const KEY_SEP = "\u0000";
const joinKey = (g: string) => `join${KEY_SEP}${g}`;
const syncKey = (g: string) => `sync${KEY_SEP}${g}`;
const heartbeatKey = (g: string, m: string) => `hb${KEY_SEP}${g}${KEY_SEP}${m}`;

export class ClassicMembership {
  constructor(private readonly host: MembershipHost) {}

  private get scheduler(): Scheduler {
    return this.host.scheduler;
  }

  private now(): number {
    return this.host.scheduler.now();
  }

  // ------------------------------------------------------------ JoinGroup

  join(req: JoinRequest): Promise<JoinResult> {
    return new Promise<JoinResult>((resolve) => this.handleJoin(req, resolve));
  }

  private handleJoin(req: JoinRequest, respond: (r: JoinResult) => void): void {
    const isNewMember = req.memberId === "";
    const found = this.host.groupForJoin(req.groupId, isNewMember);
    if (typeof found === "number") return respond(joinError(found, req.memberId));
    if (isNewMember) this.joinNewMember(found, req, respond);
    else this.joinExistingMember(found, req, respond);
  }

  private joinNewMember(group: ClassicGroup, req: JoinRequest, respond: (r: JoinResult) => void): void {
    if (group.state === "Dead") return respond(joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, ""));
    if (!group.supportsProtocols(req.protocolType, req.protocols.map((p) => p.name))) return respond(joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, ""));
    const newMemberId = ClassicGroup.newMemberId(req.clientId, req.groupInstanceId);
    if (req.groupInstanceId !== null) {
      const existing = group.staticMemberId(req.groupInstanceId);
      if (existing !== undefined) return this.replaceStaticMember(group, req, existing, newMemberId, respond);
      return this.addMemberThenRebalanceOrCompleteJoin(group, req, newMemberId, respond);
    }
    if (req.requireKnownMemberId) {
      // The id is only reserved: the member must come back with it before its session timeout.
      group.pendingJoinMembers.add(newMemberId);
      this.scheduler.schedule(heartbeatKey(group.groupId, newMemberId), req.sessionTimeoutMs, () => this.expireHeartbeat(group.groupId, newMemberId));
      return respond(joinError(ErrorCode.MEMBER_ID_REQUIRED, newMemberId));
    }
    this.addMemberThenRebalanceOrCompleteJoin(group, req, newMemberId, respond);
  }

  private joinExistingMember(group: ClassicGroup, req: JoinRequest, respond: (r: JoinResult) => void): void {
    const memberId = req.memberId;
    if (group.state === "Dead") return respond(joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, memberId));
    if (!group.supportsProtocols(req.protocolType, req.protocols.map((p) => p.name))) return respond(joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, memberId));
    if (group.pendingJoinMembers.has(memberId)) {
      // Pending ids are handed to dynamic members only.
      if (req.groupInstanceId !== null) return respond(joinError(ErrorCode.UNKNOWN_MEMBER_ID, memberId));
      return this.addMemberThenRebalanceOrCompleteJoin(group, req, memberId, respond);
    }
    const error = group.validateMember(memberId, req.groupInstanceId);
    if (error !== ErrorCode.NONE) return respond(joinError(error, memberId));
    const member = group.members.get(memberId)!;
    switch (group.state) {
      case "PreparingRebalance":
        return this.updateMemberThenRebalanceOrCompleteJoin(group, member, req, respond);
      case "CompletingRebalance":
        // Same metadata: the member probably lost the first answer; send this generation's again.
        if (member.matches(req.protocols)) return respond(this.currentGeneration(group, memberId, group.isLeader(memberId)));
        return this.updateMemberThenRebalanceOrCompleteJoin(group, member, req, respond);
      case "Stable":
        // A leader's JoinGroup forces a rebalance: that is how it reacts to metadata changes (new partitions...).
        if (group.isLeader(memberId) || !member.matches(req.protocols)) return this.updateMemberThenRebalanceOrCompleteJoin(group, member, req, respond);
        return respond(this.currentGeneration(group, memberId, false));
      default:
        return respond(joinError(ErrorCode.UNKNOWN_MEMBER_ID, memberId));
    }
  }

  private currentGeneration(group: ClassicGroup, memberId: string, withMembers: boolean): JoinResult {
    return {
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? "",
      skipAssignment: false,
      memberId,
      members: withMembers ? group.currentMembers() : [],
    };
  }

  private addMemberThenRebalanceOrCompleteJoin(group: ClassicGroup, req: JoinRequest, memberId: string, respond: (r: JoinResult) => void): void {
    const member = new ClassicMember(memberId, req.groupInstanceId, req.clientId, req.clientHost, req.rebalanceTimeoutMs, req.sessionTimeoutMs, req.protocolType, req.protocols);
    member.isNew = true;
    if (group.state === "PreparingRebalance" && group.previousState === "Empty") group.newMemberAdded = true;
    group.add(member, respond);
    // A parked JoinGroup cannot heartbeat: drop new members that never see their answer (the client retries).
    this.rescheduleHeartbeat(group, member, this.host.config.newMemberJoinTimeoutMs);
    this.maybePrepareRebalanceOrCompleteJoin(group);
  }

  private updateMemberThenRebalanceOrCompleteJoin(group: ClassicGroup, member: ClassicMember, req: JoinRequest, respond: (r: JoinResult) => void): void {
    // A second JoinGroup while one is parked replaces it; the first must not hang.
    group.completeJoin(member, joinError(ErrorCode.REBALANCE_IN_PROGRESS, member.memberId));
    group.updateMember(member, req.protocols, req.rebalanceTimeoutMs, req.sessionTimeoutMs, respond);
    this.maybePrepareRebalanceOrCompleteJoin(group);
  }

  private replaceStaticMember(group: ClassicGroup, req: JoinRequest, oldMemberId: string, newMemberId: string, respond: (r: JoinResult) => void): void {
    const leaderBefore = group.leaderId ?? "";
    const member = group.replaceStaticMember(req.groupInstanceId!, oldMemberId, newMemberId);
    this.scheduler.cancel(heartbeatKey(group.groupId, oldMemberId));
    this.rescheduleHeartbeat(group, member);
    group.updateMember(member, req.protocols, req.rebalanceTimeoutMs, req.sessionTimeoutMs, respond);
    switch (group.state) {
      case "Stable": {
        if (group.protocolName === group.selectProtocol()) {
          // Nothing the assignment depends on changed: no rebalance, the member keeps its partitions.
          const isLeader = group.isLeader(newMemberId);
          if (req.supportsSkipAssignment) {
            group.completeJoin(member, { ...this.currentGeneration(group, newMemberId, isLeader), skipAssignment: isLeader });
          } else {
            // Older clients would recompute the assignment as leader; naming the old leader id makes them follow.
            group.completeJoin(member, { ...this.currentGeneration(group, newMemberId, false), leader: leaderBefore });
          }
          return;
        }
        return this.maybePrepareRebalanceOrCompleteJoin(group);
      }
      case "CompletingRebalance":
        // The leader may be assigning to the old member id: start over so the new id gets partitions.
        return this.prepareRebalance(group);
      default:
        return this.maybeCompleteJoinPhase(group);
    }
  }

  // ------------------------------------------------------------ rebalance

  private maybePrepareRebalanceOrCompleteJoin(group: ClassicGroup): void {
    if (group.canRebalance()) this.prepareRebalance(group);
    else this.maybeCompleteJoinPhase(group);
  }

  /** Starts a rebalance (unless one is running): members must rejoin within the rebalance timeout. */
  prepareRebalance(group: ClassicGroup): void {
    if (group.state === "CompletingRebalance") this.resetAndPropagateAssignment(group, ErrorCode.REBALANCE_IN_PROGRESS);
    group.pendingSyncMembers.clear();
    this.scheduler.cancel(syncKey(group.groupId));
    const initial = group.state === "Empty";
    if (initial) {
      const delay = this.host.config.initialRebalanceDelayMs;
      const remaining = Math.max(group.rebalanceTimeoutMs() - delay, 0);
      this.scheduler.schedule(joinKey(group.groupId), delay, () => this.completeInitialRebalance(group.groupId, delay, remaining));
    }
    group.transitionTo("PreparingRebalance", this.now());
    this.host.debug(`group ${group.groupId}: preparing rebalance from generation ${group.generationId}`);
    if (!initial) this.completeJoinElseSchedule(group);
  }

  private completeJoinElseSchedule(group: ClassicGroup): void {
    if (group.hasAllMembersJoined()) this.completeJoin(group);
    else this.scheduler.schedule(joinKey(group.groupId), group.rebalanceTimeoutMs(), () => this.completeJoinById(group.groupId));
  }

  /** group.initial.rebalance.delay.ms: wait for more members of a new group, again after each newcomer, within the rebalance timeout. */
  private completeInitialRebalance(groupId: string, delayMs: number, remainingMs: number): void {
    const group = this.host.classicGroup(groupId);
    if (!group) return;
    if (group.newMemberAdded && remainingMs !== 0) {
      group.newMemberAdded = false;
      const next = Math.min(this.host.config.initialRebalanceDelayMs, remainingMs);
      const rest = Math.max(remainingMs - delayMs, 0);
      this.scheduler.schedule(joinKey(groupId), next, () => this.completeInitialRebalance(groupId, next, rest));
    } else this.completeJoin(group);
  }

  /** Completes the join phase early when everyone is in, except during the initial delay. */
  private maybeCompleteJoinPhase(group: ClassicGroup): void {
    if (group.state !== "PreparingRebalance" || group.previousState === "Empty" || !group.hasAllMembersJoined()) return;
    this.completeJoin(group);
  }

  private completeJoinById(groupId: string): void {
    const group = this.host.classicGroup(groupId);
    if (group) this.completeJoin(group);
  }

  /** Ends the join phase: dynamic members that did not rejoin are dropped, the next generation starts. */
  private completeJoin(group: ClassicGroup): void {
    this.scheduler.cancel(joinKey(group.groupId));
    if (group.state !== "PreparingRebalance") return;
    for (const m of [...group.members.values()]) {
      if (m.awaitingJoin || m.isStatic) continue;
      group.remove(m.memberId);
      this.scheduler.cancel(heartbeatKey(group.groupId, m.memberId));
    }
    if (!group.maybeElectNewJoinedLeader() && group.size > 0) {
      // Only static members that have not rejoined are left: wait for them (or their session timeouts).
      this.scheduler.schedule(joinKey(group.groupId), group.rebalanceTimeoutMs(), () => this.completeJoinById(group.groupId));
      return;
    }
    group.initNextGeneration(this.now());
    this.host.generationChanged(group);
    if (group.isEmpty()) {
      this.host.debug(`group ${group.groupId}: generation ${group.generationId} is empty`);
      return;
    }
    this.host.debug(`group ${group.groupId}: generation ${group.generationId} with ${group.size} members, protocol ${group.protocolName}`);
    for (const m of [...group.members.values()]) {
      group.completeJoin(m, this.currentGeneration(group, m.memberId, group.isLeader(m.memberId)));
      this.rescheduleHeartbeat(group, m);
      m.isNew = false;
      group.pendingSyncMembers.add(m.memberId);
    }
    const generation = group.generationId;
    this.scheduler.schedule(syncKey(group.groupId), group.rebalanceTimeoutMs(), () => this.expirePendingSync(group.groupId, generation));
  }

  /** Members that joined a generation but never sent SyncGroup are removed, and the group rebalances without them. */
  private expirePendingSync(groupId: string, generationId: number): void {
    const group = this.host.classicGroup(groupId);
    if (!group || group.generationId !== generationId) return;
    if (group.state !== "CompletingRebalance" && group.state !== "Stable") return;
    if (group.pendingSyncMembers.size === 0) return;
    for (const id of [...group.pendingSyncMembers]) {
      group.remove(id);
      this.scheduler.cancel(heartbeatKey(groupId, id));
    }
    this.prepareRebalance(group);
  }

  private resetAndPropagateAssignment(group: ClassicGroup, errorCode: number): void {
    for (const m of group.members.values()) m.assignment = EMPTY_ASSIGNMENT;
    this.propagateAssignment(group, errorCode);
  }

  private propagateAssignment(group: ClassicGroup, errorCode: number): void {
    const ok = errorCode === ErrorCode.NONE;
    for (const m of group.members.values()) {
      const done = group.completeSync(m, {
        errorCode,
        protocolType: ok ? group.protocolType : null,
        protocolName: ok ? group.protocolName : null,
        assignment: m.assignment,
      });
      // A session that ran out while the member waited for the leader starts afresh now.
      if (done) this.rescheduleHeartbeat(group, m);
    }
  }

  // ------------------------------------------------------------ heartbeats and removal

  private rescheduleHeartbeat(group: ClassicGroup, member: ClassicMember, timeoutMs = member.sessionTimeoutMs): void {
    const groupId = group.groupId;
    const memberId = member.memberId;
    this.scheduler.schedule(heartbeatKey(groupId, memberId), timeoutMs, () => this.expireHeartbeat(groupId, memberId));
  }

  private expireHeartbeat(groupId: string, memberId: string): void {
    const group = this.host.classicGroup(groupId);
    if (!group || group.state === "Dead") return;
    if (group.pendingJoinMembers.has(memberId)) {
      group.remove(memberId);
      if (group.state === "PreparingRebalance" && group.hasAllMembersJoined()) this.completeJoin(group);
      return;
    }
    const member = group.members.get(memberId);
    if (!member || member.hasSatisfiedHeartbeat()) return;
    this.host.debug(`group ${groupId}: member ${memberId} timed out`);
    this.removeMemberAndUpdateGroup(group, member);
  }

  private removeMemberAndUpdateGroup(group: ClassicGroup, member: ClassicMember): void {
    group.completeJoin(member, joinError(ErrorCode.UNKNOWN_MEMBER_ID, ""));
    group.remove(member.memberId);
    this.scheduler.cancel(heartbeatKey(group.groupId, member.memberId));
    if (group.state === "Stable" || group.state === "CompletingRebalance") this.maybePrepareRebalanceOrCompleteJoin(group);
    else if (group.state === "PreparingRebalance" && group.hasAllMembersJoined()) this.completeJoin(group);
  }

  /** OffsetCommit from a member keeps its session alive, as a heartbeat would. */
  onOffsetCommit(group: ClassicGroup, memberId: string): void {
    if (group.state !== "Stable" && group.state !== "PreparingRebalance") return;
    const m = group.members.get(memberId);
    if (m) this.rescheduleHeartbeat(group, m);
  }

  // ------------------------------------------------------------ SyncGroup

  sync(req: SyncRequest): Promise<SyncResult> {
    return new Promise<SyncResult>((resolve) => this.handleSync(req, resolve));
  }

  private handleSync(req: SyncRequest, respond: (r: SyncResult) => void): void {
    const any = this.host.anyGroup(req.groupId);
    if (!any || any.isEmpty() || any.type !== "classic") return respond(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    const group = this.host.classicGroup(req.groupId)!;
    if (group.state === "Dead") return respond(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    const error = group.validateMember(req.memberId, req.groupInstanceId);
    if (error !== ErrorCode.NONE) return respond(syncError(error));
    if (req.generationId !== group.generationId) return respond(syncError(ErrorCode.ILLEGAL_GENERATION));
    if ((req.protocolType !== null && req.protocolType !== group.protocolType) || (req.protocolName !== null && req.protocolName !== group.protocolName)) {
      return respond(syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    const member = group.members.get(req.memberId)!;
    switch (group.state) {
      case "PreparingRebalance":
        return respond(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      case "CompletingRebalance": {
        group.completeSync(member, syncError(ErrorCode.REBALANCE_IN_PROGRESS));
        member.awaitingSync = respond;
        this.removePendingSync(group, req.memberId);
        if (group.isLeader(req.memberId)) {
          const given = new Map<string, Uint8Array>();
          for (const a of req.assignments) given.set(a.memberId, a.assignment.slice());
          for (const m of group.members.values()) m.assignment = given.get(m.memberId) ?? EMPTY_ASSIGNMENT;
          this.propagateAssignment(group, ErrorCode.NONE);
          group.transitionTo("Stable", this.now());
          this.host.debug(`group ${group.groupId}: generation ${group.generationId} is stable`);
        }
        return;
      }
      case "Stable":
        this.removePendingSync(group, req.memberId);
        return respond({ errorCode: ErrorCode.NONE, protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment });
      default:
        return respond(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  private removePendingSync(group: ClassicGroup, memberId: string): void {
    group.pendingSyncMembers.delete(memberId);
    const live = group.state === "CompletingRebalance" || group.state === "Stable";
    if (!live || group.pendingSyncMembers.size === 0) this.scheduler.cancel(syncKey(group.groupId));
  }

  // ------------------------------------------------------------ Heartbeat

  heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    const any = this.host.anyGroup(groupId);
    if (!any || any.type !== "classic") return ErrorCode.UNKNOWN_MEMBER_ID;
    const group = this.host.classicGroup(groupId)!;
    if (group.state === "Dead") return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const error = group.validateMember(memberId, groupInstanceId);
    if (error !== ErrorCode.NONE) return error;
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    const member = group.members.get(memberId)!;
    switch (group.state) {
      case "PreparingRebalance":
        this.rescheduleHeartbeat(group, member);
        return ErrorCode.REBALANCE_IN_PROGRESS;
      case "CompletingRebalance":
      case "Stable":
        this.rescheduleHeartbeat(group, member);
        return ErrorCode.NONE;
      default:
        return ErrorCode.UNKNOWN_MEMBER_ID;
    }
  }

  // ------------------------------------------------------------ LeaveGroup

  leave(groupId: string, members: readonly LeaveMember[]): LeaveResult {
    const any = this.host.anyGroup(groupId);
    if (!any || any.type !== "classic") {
      return { errorCode: ErrorCode.NONE, members: members.map((m) => ({ ...m, errorCode: ErrorCode.UNKNOWN_MEMBER_ID })) };
    }
    const group = this.host.classicGroup(groupId)!;
    if (group.state === "Dead") return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    const results: LeaveResult["members"] = [];
    let removed = 0;
    for (const m of members) {
      let errorCode: number = ErrorCode.NONE;
      if (m.memberId === "") {
        // Admin removal of a static member by its instance id alone.
        const id = m.groupInstanceId !== null ? group.staticMemberId(m.groupInstanceId) : undefined;
        if (id !== undefined) this.removeLeavingMember(group, id);
        else errorCode = ErrorCode.UNKNOWN_MEMBER_ID;
      } else if (group.pendingJoinMembers.has(m.memberId)) {
        group.remove(m.memberId);
        this.scheduler.cancel(heartbeatKey(groupId, m.memberId));
      } else {
        errorCode = group.validateMember(m.memberId, m.groupInstanceId);
        if (errorCode === ErrorCode.NONE) this.removeLeavingMember(group, m.memberId);
      }
      if (errorCode === ErrorCode.NONE) removed++;
      results.push({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode });
    }
    if (removed > 0) {
      if (group.state === "Stable" || group.state === "CompletingRebalance") this.maybePrepareRebalanceOrCompleteJoin(group);
      else if (group.state === "PreparingRebalance") this.maybeCompleteJoinPhase(group);
    }
    return { errorCode: ErrorCode.NONE, members: results };
  }

  private removeLeavingMember(group: ClassicGroup, memberId: string): void {
    const member = group.members.get(memberId);
    this.scheduler.cancel(heartbeatKey(group.groupId, memberId));
    if (!member) return;
    group.completeJoin(member, joinError(ErrorCode.UNKNOWN_MEMBER_ID, ""));
    group.remove(memberId);
  }

  // ------------------------------------------------------------ lifecycle

  /** Stops every timer of the group (it is being deleted or converted). */
  cancelTimers(group: ClassicGroup): void {
    this.scheduler.cancel(joinKey(group.groupId));
    this.scheduler.cancel(syncKey(group.groupId));
    for (const id of group.members.keys()) this.scheduler.cancel(heartbeatKey(group.groupId, id));
    for (const id of group.pendingJoinMembers) this.scheduler.cancel(heartbeatKey(group.groupId, id));
  }
}
