// The ConsumerGroupHeartbeat flow of KIP-848 consumer groups: request
// checks, joining (dynamic and static members, server-made member ids for v0,
// client-made ones from v1), leaving (-1, or -2 for a static member that comes
// back), group epoch bumps when subscriptions or the subscribed topics change,
// the target assignment by the server assignor, one reconciliation step per
// heartbeat, and the session and rebalance timeouts that remove members.

import { randomBytes } from "node:crypto";
import { ErrorCode } from "../protocol/errors.ts";
import type { AssignorMember } from "./assignors/assignor.ts";
import { DEFAULT_ASSIGNOR, SERVER_ASSIGNORS } from "./assignors/index.ts";
import { ConsumerGroup, ConsumerMember, LEAVE_GROUP_MEMBER_EPOCH, LEAVE_GROUP_STATIC_MEMBER_EPOCH, partitionsEqual, type Partitions } from "./consumer-group.ts";
import type { Scheduler } from "./scheduler.ts";
import { compileTopicRegex, type TopicMatcher } from "./topic-regex.ts";
import type { TopicView } from "./topic-view.ts";

export interface ConsumerMembershipConfig {
  /** group.consumer.session.timeout.ms */
  consumerSessionTimeoutMs: number;
  /** group.consumer.heartbeat.interval.ms */
  consumerHeartbeatIntervalMs: number;
}

export interface TopicPartitionsIn {
  topicId: string;
  partitions: readonly number[];
}

export interface ConsumerHeartbeatRequest {
  groupId: string;
  memberId: string;
  memberEpoch: number;
  instanceId: string | null;
  rackId: string | null;
  rebalanceTimeoutMs: number;
  subscribedTopicNames: readonly string[] | null;
  subscribedTopicRegex: string | null;
  serverAssignor: string | null;
  topicPartitions: readonly TopicPartitionsIn[] | null;
  clientId: string;
  clientHost: string;
  apiVersion: number;
}

export interface ConsumerHeartbeatResult {
  errorCode: number;
  errorMessage: string | null;
  memberId: string | null;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  /** null: unchanged since the member's last heartbeat. */
  assignment: { topicId: string; partitions: number[] }[] | null;
}

export interface ConsumerMembershipHost {
  readonly scheduler: Scheduler;
  readonly config: ConsumerMembershipConfig;
  topicView(): TopicView;
  /** The consumer group, created (or converted from an empty classic group) when `create`; else an error code. */
  consumerGroup(groupId: string, create: boolean): ConsumerGroup | number;
  /** The group's epoch or emptiness changed: write its group record. */
  persist(group: ConsumerGroup): void;
  debug(msg: string): void;
}

/** RE2/J accepts (a+)+ and the engine is linear, so subscriptions may use it. */
const SUBSCRIPTION_REGEX = { refuseNestedQuantifiers: false };

const KEY_SEP = "\u0000";
const regexKey = (g: string) => `cg-regex${KEY_SEP}${g}`;
const sessionKey = (g: string, m: string) => `cg-session${KEY_SEP}${g}${KEY_SEP}${m}`;
const rebalanceKey = (g: string, m: string) => `cg-rebalance${KEY_SEP}${g}${KEY_SEP}${m}`;

/** Kafka's member ids: a random uuid in URL-safe base64 without padding. */
export function newConsumerMemberId(): string {
  return randomBytes(16).toString("base64url");
}

function toPartitions(list: readonly TopicPartitionsIn[]): Partitions {
  const out: Partitions = new Map();
  for (const t of list) {
    let s = out.get(t.topicId);
    if (!s) out.set(t.topicId, (s = new Set()));
    for (const p of t.partitions) s.add(p);
  }
  return out;
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((x) => s.has(x));
}

/** The reason for a refused heartbeat, in words close to Kafka's, so client logs say what happened. */
function refusal(code: number, req: ConsumerHeartbeatRequest, g: ConsumerGroup): string | null {
  switch (code) {
    case ErrorCode.UNKNOWN_MEMBER_ID:
      return `Member ${req.memberId} is not a member of group ${req.groupId}.`;
    case ErrorCode.FENCED_MEMBER_EPOCH: {
      const known = g.members.get(req.memberId)?.memberEpoch;
      return `The consumer group member has a ${known !== undefined && req.memberEpoch > known ? "greater" : "smaller"} member epoch (${req.memberEpoch}) than the one known by the group coordinator (${known}). The member must abandon all its partitions and rejoin.`;
    }
    case ErrorCode.UNRELEASED_INSTANCE_ID:
      return `Static member ${req.memberId} with instance id ${req.instanceId} cannot join the group because the instance id is owned by another member.`;
    case ErrorCode.FENCED_INSTANCE_ID:
      return `Static member ${req.memberId} with instance id ${req.instanceId} was fenced by another member.`;
    default:
      return null;
  }
}

export class ConsumerMembership {
  /** Compiled subscription regexes, by pattern (patterns come from a handful of clients; the cache is capped anyway). */
  private readonly regexes = new Map<string, TopicMatcher>();

  constructor(private readonly host: ConsumerMembershipHost) {}

  private error(errorCode: number, errorMessage: string | null = null): ConsumerHeartbeatResult {
    return { errorCode, errorMessage, memberId: null, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null };
  }

  /** INVALID_REQUEST and friends for a malformed heartbeat; null when it may proceed. */
  private validate(req: ConsumerHeartbeatRequest): ConsumerHeartbeatResult | null {
    const bad = (m: string) => this.error(ErrorCode.INVALID_REQUEST, m);
    if (req.groupId === "") return bad("GroupId can't be empty.");
    if (req.instanceId === "") return bad("InstanceId can't be empty.");
    if (req.rackId === "") return bad("RackId can't be empty.");
    if (req.memberEpoch < LEAVE_GROUP_STATIC_MEMBER_EPOCH) return bad("MemberEpoch is invalid.");
    // KIP-1082: from v1 the client makes its member id; v0 leaves it to the coordinator on the first heartbeat.
    if ((req.apiVersion >= 1 || req.memberEpoch !== 0) && req.memberId === "") return bad("MemberId can't be empty.");
    if (req.memberEpoch === 0) {
      if (req.rebalanceTimeoutMs === -1) return bad("RebalanceTimeoutMs must be provided in first request.");
      if (req.topicPartitions === null || req.topicPartitions.length > 0) return bad("TopicPartitions must be empty when (re-)joining.");
      if (req.subscribedTopicNames === null && req.subscribedTopicRegex === null) return bad("SubscribedTopicNames or SubscribedTopicRegex must be set in first request.");
    }
    if (req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH && req.instanceId === null) return bad("InstanceId can't be null.");
    if (req.subscribedTopicRegex !== null && req.subscribedTopicRegex !== "") {
      const c = compileTopicRegex(req.subscribedTopicRegex, SUBSCRIPTION_REGEX);
      if (!c.ok) return this.error(ErrorCode.INVALID_REGULAR_EXPRESSION, `SubscribedTopicRegex \`${req.subscribedTopicRegex}\` is not a valid regular expression: ${c.message}.`);
    }
    if (req.serverAssignor !== null && !SERVER_ASSIGNORS.has(req.serverAssignor)) {
      return this.error(ErrorCode.UNSUPPORTED_ASSIGNOR, `ServerAssignor ${req.serverAssignor} is not supported. Supported assignors: ${[...SERVER_ASSIGNORS.keys()].join(", ")}.`);
    }
    return null;
  }

  heartbeat(req: ConsumerHeartbeatRequest): ConsumerHeartbeatResult {
    const invalid = this.validate(req);
    if (invalid) return invalid;
    if (req.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH || req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) return this.leave(req);

    const joining = req.memberEpoch === 0;
    const g = this.host.consumerGroup(req.groupId, joining);
    if (typeof g === "number") return this.error(g, g === ErrorCode.GROUP_ID_NOT_FOUND ? `Group ${req.groupId} not found.` : null);
    const owned = req.topicPartitions === null ? null : toPartitions(req.topicPartitions);

    const found = this.memberFor(g, req, owned);
    if (typeof found === "number") {
      this.host.debug(`consumer group ${req.groupId}: heartbeat of ${req.memberId} (instance ${req.instanceId}, epoch ${req.memberEpoch}) refused with error ${found}`);
      return this.error(found, refusal(found, req, g));
    }
    const { member: m, isNew } = found;
    const assignedBefore = m.assigned;

    let bump = isNew;
    m.clientId = req.clientId;
    m.clientHost = req.clientHost;
    if (req.rackId !== null) m.rackId = req.rackId;
    if (req.rebalanceTimeoutMs !== -1) m.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    if (req.serverAssignor !== null && req.serverAssignor !== m.serverAssignor) {
      m.serverAssignor = req.serverAssignor;
      bump = true;
    }
    if (req.subscribedTopicNames !== null && !sameNames(req.subscribedTopicNames, m.subscribedTopicNames)) {
      m.subscribedTopicNames = [...req.subscribedTopicNames];
      bump = true;
    }
    if (req.subscribedTopicRegex !== null) {
      const regex = req.subscribedTopicRegex === "" ? null : req.subscribedTopicRegex;
      if (regex !== m.subscribedTopicRegex) {
        m.subscribedTopicRegex = regex;
        bump = true;
      }
    }

    // A regex no one resolved yet adds nothing now: its topics come in a later group epoch, as in Kafka.
    this.maybeResolveRegexes(g);
    const fingerprint = this.refreshSubscriptions(g);
    if (fingerprint !== g.subscriptionFingerprint) {
      g.subscriptionFingerprint = fingerprint;
      bump = true;
    }
    if (bump) this.bumpGroupEpoch(g);

    const wasUnrevoked = m.state === "unrevoked";
    g.reconcile(m, owned);
    this.scheduleSession(g, m);
    if (m.state === "unrevoked" && !wasUnrevoked) {
      this.host.scheduler.schedule(rebalanceKey(g.groupId, m.memberId), m.rebalanceTimeoutMs, () => this.expireRebalance(g.groupId, m.memberId));
    } else if (m.state !== "unrevoked") this.host.scheduler.cancel(rebalanceKey(g.groupId, m.memberId));

    const fullRequest = joining || (req.rebalanceTimeoutMs !== -1 && (req.subscribedTopicNames !== null || req.subscribedTopicRegex !== null) && req.topicPartitions !== null);
    const changed = !partitionsEqual(assignedBefore, m.assigned);
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId: m.memberId,
      memberEpoch: m.memberEpoch,
      heartbeatIntervalMs: this.host.config.consumerHeartbeatIntervalMs,
      assignment: fullRequest || changed ? [...m.assigned].filter(([, s]) => s.size > 0).map(([topicId, s]) => ({ topicId, partitions: [...s].sort((a, b) => a - b) })) : null,
    };
  }

  /** Finds the member the heartbeat speaks for, or joins it; an error code when it may not. */
  private memberFor(g: ConsumerGroup, req: ConsumerHeartbeatRequest, owned: Partitions | null): { member: ConsumerMember; isNew: boolean } | number {
    const joining = req.memberEpoch === 0;
    const memberId = req.memberId === "" ? newConsumerMemberId() : req.memberId;
    if (req.instanceId === null) {
      const m = g.members.get(memberId);
      if (!m) {
        if (!joining) return ErrorCode.UNKNOWN_MEMBER_ID;
        const fresh = new ConsumerMember(memberId);
        g.addMember(fresh);
        return { member: fresh, isNew: true };
      }
      // Static members send their instance id only when it changes: later heartbeats name them by member id alone.
      if (joining) return { member: this.rejoin(g, m), isNew: false };
      const e = g.validateMemberEpoch(m, req.memberEpoch, owned);
      return e === ErrorCode.NONE ? { member: m, isNew: false } : e;
    }
    const existing = g.staticMember(req.instanceId);
    if (joining) {
      if (!existing) {
        if (g.members.has(memberId)) return ErrorCode.UNKNOWN_MEMBER_ID;
        const fresh = new ConsumerMember(memberId);
        fresh.instanceId = req.instanceId;
        g.addMember(fresh);
        return { member: fresh, isNew: true };
      }
      if (existing.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
        // The instance is back (under a new member id or its old one): it takes over its partitions, nothing else moves.
        this.cancelTimers(g.groupId, existing.memberId);
        return { member: g.replaceStaticMember(existing, memberId), isNew: false };
      }
      if (existing.memberId === memberId) return { member: this.rejoin(g, existing), isNew: false };
      return ErrorCode.UNRELEASED_INSTANCE_ID;
    }
    if (!existing) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (existing.memberId !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
    const e = g.validateMemberEpoch(existing, req.memberEpoch, owned);
    return e === ErrorCode.NONE ? { member: existing, isNew: false } : e;
  }

  /**
   * A known member joining again with epoch 0 (after being fenced, with the
   * same client-made id): it reports owning nothing, so what it held is free.
   */
  private rejoin(g: ConsumerGroup, m: ConsumerMember): ConsumerMember {
    m.assigned = new Map();
    m.pendingRevocation = new Map();
    m.previousMemberEpoch = -1;
    m.memberEpoch = 0;
    m.state = "stable";
    this.host.scheduler.cancel(rebalanceKey(g.groupId, m.memberId));
    return m;
  }

  private leave(req: ConsumerHeartbeatRequest): ConsumerHeartbeatResult {
    const g = this.host.consumerGroup(req.groupId, false);
    if (typeof g === "number") return this.error(g, g === ErrorCode.GROUP_ID_NOT_FOUND ? `Group ${req.groupId} not found.` : null);
    let m: ConsumerMember | undefined;
    if (req.instanceId === null) {
      m = g.members.get(req.memberId);
      if (!m) return this.error(ErrorCode.UNKNOWN_MEMBER_ID);
    } else {
      m = g.staticMember(req.instanceId);
      if (!m) return this.error(ErrorCode.UNKNOWN_MEMBER_ID);
      if (m.memberId !== req.memberId) return this.error(ErrorCode.FENCED_INSTANCE_ID);
    }
    if (req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      // It keeps its partitions (nobody else gets them) until it comes back or its session runs out.
      m.memberEpoch = LEAVE_GROUP_STATIC_MEMBER_EPOCH;
      this.host.scheduler.cancel(rebalanceKey(g.groupId, m.memberId));
    } else this.removeMember(g, m.memberId);
    return { errorCode: ErrorCode.NONE, errorMessage: null, memberId: req.memberId, memberEpoch: req.memberEpoch, heartbeatIntervalMs: 0, assignment: null };
  }

  // ------------------------------------------------------------ epochs and assignment

  private compiled(pattern: string): TopicMatcher | null {
    let r = this.regexes.get(pattern);
    if (!r) {
      const c = compileTopicRegex(pattern, SUBSCRIPTION_REGEX);
      if (!c.ok) return null;
      if (this.regexes.size >= 1000) this.regexes.clear();
      this.regexes.set(pattern, (r = c.regex));
    }
    return r;
  }

  /** The topic names a member subscribes to: its names, and its regex's matches once the group resolved it. */
  private memberTopics(g: ConsumerGroup, m: ConsumerMember): Set<string> {
    const names = new Set(m.subscribedTopicNames);
    if (m.subscribedTopicRegex !== null) for (const t of g.resolvedRegexes.get(m.subscribedTopicRegex) ?? []) names.add(t);
    return names;
  }

  /** Topic names a regex may match (internal topics never). */
  private topicNames(): string[] {
    const all: string[] = [];
    for (const t of this.host.topicView().all()) if (!t.internal) all.push(t.name);
    return all;
  }

  /**
   * Kafka resolves subscription regexes off the heartbeat path: a heartbeat
   * that brings a new regex is answered with what the group had resolved so
   * far, and the matches join in the group epoch the resolution bumps. So
   * does klite, on a timer of 0 ms, once the response is out; likewise when
   * topics were created or deleted since the last resolution.
   */
  private maybeResolveRegexes(g: ConsumerGroup): void {
    const used = new Set<string>();
    for (const m of g.members.values()) if (m.subscribedTopicRegex !== null) used.add(m.subscribedTopicRegex);
    if (used.size === 0 && g.resolvedRegexes.size === 0) return;
    const stale = [...used].some((r) => !g.resolvedRegexes.has(r)) || g.resolvedRegexes.size !== used.size || this.topicNames().join("\0") !== g.regexTopicsSeen;
    if (stale) this.host.scheduler.schedule(regexKey(g.groupId), 0, () => this.resolveRegexes(g.groupId));
  }

  private resolveRegexes(groupId: string): void {
    const g = this.liveGroup(groupId);
    if (!g) return;
    const all = this.topicNames();
    const resolved = new Map<string, string[]>();
    for (const m of g.members.values()) {
      const pattern = m.subscribedTopicRegex;
      if (pattern === null || resolved.has(pattern)) continue;
      const re = this.compiled(pattern);
      resolved.set(pattern, re ? all.filter((t) => re.test(t)) : []);
    }
    g.resolvedRegexes = resolved;
    g.regexTopicsSeen = all.join("\0");
    const fingerprint = this.refreshSubscriptions(g);
    if (fingerprint === g.subscriptionFingerprint) return;
    g.subscriptionFingerprint = fingerprint;
    this.bumpGroupEpoch(g);
  }

  /**
   * Recomputes what the group subscribes to from the current topics; returns
   * the fingerprint (names, ids, partition counts of the existing subscribed
   * topics) whose change means a new group epoch.
   */
  refreshSubscriptions(g: ConsumerGroup): string {
    const view = this.host.topicView();
    const subscribed = new Set<string>();
    for (const m of g.members.values()) for (const t of this.memberTopics(g, m)) subscribed.add(t);
    g.subscribedTopics = subscribed;
    const parts: string[] = [];
    for (const name of [...subscribed].sort()) {
      const t = view.byName(name);
      if (t) parts.push(`${name}/${t.id}/${t.partitions}`);
    }
    return parts.join(",");
  }

  private bumpGroupEpoch(g: ConsumerGroup): void {
    g.groupEpoch++;
    this.computeTargetAssignment(g);
    this.host.persist(g);
  }

  private computeTargetAssignment(g: ConsumerGroup): void {
    const view = this.host.topicView();
    const topics = new Map<string, number>();
    const members: AssignorMember[] = [];
    for (const m of g.members.values()) {
      const ids = new Set<string>();
      for (const name of this.memberTopics(g, m)) {
        const t = view.byName(name);
        if (!t) continue;
        ids.add(t.id);
        topics.set(t.id, t.partitions);
      }
      const current = new Map<string, number[]>();
      for (const [t, s] of g.targetAssignment.get(m.memberId) ?? []) current.set(t, [...s]);
      members.push({ memberId: m.memberId, instanceId: m.instanceId, topics: ids, current });
    }
    // An empty group keeps naming the assignor it last used (DescribeGroups, the group record).
    const name = g.members.size === 0 ? g.assignorName : g.preferredAssignor(DEFAULT_ASSIGNOR);
    const assignor = SERVER_ASSIGNORS.get(name) ?? SERVER_ASSIGNORS.get(DEFAULT_ASSIGNOR)!;
    const result = assignor.assign(members, topics);
    g.targetAssignment.clear();
    for (const [memberId, a] of result) {
      const p: Partitions = new Map();
      for (const [t, list] of a) if (list.length > 0) p.set(t, new Set(list));
      g.targetAssignment.set(memberId, p);
    }
    g.assignorName = assignor.name;
    g.assignmentEpoch = g.groupEpoch;
  }

  // ------------------------------------------------------------ removal and timers

  private scheduleSession(g: ConsumerGroup, m: ConsumerMember): void {
    const groupId = g.groupId;
    const memberId = m.memberId;
    this.host.scheduler.schedule(sessionKey(groupId, memberId), this.host.config.consumerSessionTimeoutMs, () => this.expireSession(groupId, memberId));
  }

  private cancelTimers(groupId: string, memberId: string): void {
    this.host.scheduler.cancel(sessionKey(groupId, memberId));
    this.host.scheduler.cancel(rebalanceKey(groupId, memberId));
  }

  cancelAllTimers(g: ConsumerGroup): void {
    this.host.scheduler.cancel(regexKey(g.groupId));
    for (const id of g.members.keys()) this.cancelTimers(g.groupId, id);
  }

  private liveGroup(groupId: string): ConsumerGroup | null {
    const g = this.host.consumerGroup(groupId, false);
    return typeof g === "number" ? null : g;
  }

  private expireSession(groupId: string, memberId: string): void {
    const g = this.liveGroup(groupId);
    if (!g || !g.members.has(memberId)) return;
    this.host.debug(`consumer group ${groupId}: member ${memberId} session expired`);
    this.removeMember(g, memberId);
  }

  /** A member that did not give up its partitions within its rebalance timeout is fenced. */
  private expireRebalance(groupId: string, memberId: string): void {
    const g = this.liveGroup(groupId);
    const m = g?.members.get(memberId);
    if (!g || !m || m.state !== "unrevoked") return;
    this.host.debug(`consumer group ${groupId}: member ${memberId} did not revoke within its rebalance timeout`);
    this.removeMember(g, memberId);
  }

  removeMember(g: ConsumerGroup, memberId: string): void {
    this.cancelTimers(g.groupId, memberId);
    if (!g.removeMember(memberId, this.host.scheduler.now())) return;
    g.subscriptionFingerprint = this.refreshSubscriptions(g);
    this.bumpGroupEpoch(g);
  }
}
