// The share-group coordinator (KIP-932): membership (ShareGroupHeartbeat),
// share sessions, acquisition of records under time locks (ShareFetch),
// acknowledgements (piggy-backed or ShareAcknowledge), lock expiry, group
// configs and the admin views. Share groups live in the group coordinator's
// namespace (ListGroups, DeleteGroups, the group log); their share-partition
// state lives in <data-dir>/share-state.log, written before an
// acknowledgement is answered, so an acknowledged record is never handed out
// again after a crash and an acquired, unacknowledged one is.

import { join } from "node:path";
import type { FlushScheduler } from "../log/flush-scheduler.ts";
import { ATTRIBUTES, LOG_OVERHEAD, PRODUCER_ID, batchBaseOffset, batchLastOffsetDelta, batchSize, readInt64, viewOf } from "../log/batch-header.ts";
import type { Partition, TopicRegistry } from "../meta/topics.ts";
import { waitForPartitions } from "../meta/partition-wait.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { firstRecordAtOrAfter } from "../protocol/record-search.ts";
import type { GroupCoordinator } from "../groups/coordinator.ts";
import { effectiveSettings, parseReset, SHARE_GROUP_CONFIGS, validateShareConfig, type ShareSettings } from "./group-configs.ts";
import { assignShare, sameAssignment, ShareGroup, ShareMember, SHARE_ASSIGNOR, type ShareAssignment } from "./share-group.ts";
import { AckType, RecordState, SharePartition, type AckBatch, type AcquiredRange, type SourceBatch } from "./share-partition.ts";
import { FINAL_EPOCH, INITIAL_EPOCH, ShareSessionCache, type ShareSession } from "./sessions.ts";
import { openShareStateLog, type ShareStateLog, type ShareStateRecord } from "./state-records.ts";

export const SHARE_STATE_FILE = "share-state.log";
const COMPACTION_SLACK = 10_000;
const CONTROL_BIT = 0x20;
const TRANSACTIONAL_BIT = 0x10;

export interface ShareLogger {
  error(msg: string): void;
  warn(msg: string): void;
  info(msg: string): void;
  debug(msg: string): void;
}

export interface ShareCoordinatorOptions {
  dataDir: string | null;
  fsync: "group" | "never";
  flusher: FlushScheduler | null;
  logger: ShareLogger;
  groups: GroupCoordinator;
  topics: TopicRegistry;
  defaults: ShareSettings;
  /** max.share.sessions */
  maxSessions: number;
}

export interface HeartbeatIn {
  groupId: string;
  memberId: string;
  memberEpoch: number;
  rackId: string | null;
  subscribedTopicNames: readonly string[] | null;
  clientId: string;
  clientHost: string;
}

export interface HeartbeatOut {
  errorCode: number;
  errorMessage: string | null;
  memberId: string | null;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: { topicId: string; partitions: number[] }[] | null;
}

export interface AckPartitionIn {
  partitionIndex: number;
  acknowledgementBatches: readonly { firstOffset: bigint; lastOffset: bigint; acknowledgeTypes: readonly number[] }[];
}

export interface TopicIn<P> {
  topicId: string;
  partitions: readonly P[];
}

export interface PartitionOut {
  partitionIndex: number;
  errorCode: number;
  errorMessage: string | null;
  acknowledgeErrorCode: number;
  acknowledgeErrorMessage: string | null;
  records: Uint8Array[];
  acquiredRecords: { firstOffset: bigint; lastOffset: bigint; deliveryCount: number }[];
}

export interface ShareFetchIn {
  connectionId: number;
  groupId: string | null;
  memberId: string | null;
  shareSessionEpoch: number;
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  maxRecords: number;
  /** v2: 0 batch-optimized, 1 record-limit. */
  acquireMode: number;
  isRenewAck: boolean;
  topics: readonly TopicIn<AckPartitionIn>[];
  forgotten: readonly { topicId: string; partitions: readonly number[] }[];
}

export interface ShareFetchOut {
  errorCode: number;
  errorMessage: string | null;
  acquisitionLockTimeoutMs: number;
  responses: { topicId: string; partitions: PartitionOut[] }[];
}

interface AckOutcome {
  errorCode: number;
  errorMessage: string | null;
}

const spKey = (group: string, topicId: string, partition: number) => `${group}\u0000${topicId}\u0000${partition}`;

export class ShareCoordinator {
  readonly partitions = new Map<string, { group: string; topicId: string; partition: number; sp: SharePartition }>();
  readonly configs = new Map<string, Map<string, string>>();
  readonly sessions: ShareSessionCache;
  private log: ShareStateLog | null = null;
  /** Long-polling share fetches, woken when records become available again. */
  private readonly waiters = new Set<() => void>();
  private closed = false;

  constructor(private readonly o: ShareCoordinatorOptions) {
    this.sessions = new ShareSessionCache(o.maxSessions);
    // Members do not survive a restart: a share group comes back Empty at its group epoch.
    o.groups.registerLoader("share", (r, now) => this.newGroup(r.group, r.emptySince >= 0 ? r.emptySince : now, r.generation));
  }

  private get scheduler() {
    return this.o.groups.scheduler;
  }

  // ------------------------------------------------------------ state log

  load(): void {
    if (this.o.dataDir === null) return;
    const { log, records } = openShareStateLog(join(this.o.dataDir, SHARE_STATE_FILE), { fsync: this.o.fsync, flusher: this.o.flusher, warn: (m) => this.o.logger.warn(m) });
    this.log = log;
    for (const r of records) {
      if (r.kind === "partition") {
        this.partitions.set(spKey(r.group, r.topicId, r.partition), { group: r.group, topicId: r.topicId, partition: r.partition, sp: SharePartition.restore(r.startOffset, r.stateEpoch, r.runs) });
      } else if (r.kind === "partition-delete") this.partitions.delete(spKey(r.group, r.topicId, r.partition));
      else if (r.configs.length === 0) this.configs.delete(r.group);
      else this.configs.set(r.group, new Map(r.configs));
    }
    if (records.length > 0) this.o.logger.info(`share coordinator loaded ${this.partitions.size} share-partitions from ${records.length} records`);
  }

  private stateRecord(group: string, topicId: string, partition: number, sp: SharePartition): ShareStateRecord {
    return { kind: "partition", group, topicId, partition, stateEpoch: sp.stateEpoch, startOffset: sp.startOffset, runs: sp.runs() };
  }

  private append(records: ShareStateRecord[]): Promise<void> {
    if (!this.log || records.length === 0) return Promise.resolve();
    let done: Promise<void>;
    try {
      done = this.log.append(records);
    } catch (e) {
      return Promise.reject(e);
    }
    const live = this.partitions.size + this.configs.size;
    if (this.log.appended > 2 * live + COMPACTION_SLACK) {
      try {
        this.log.rewrite(this.liveRecords());
      } catch (e) {
        this.o.logger.error(`share state log rewrite failed: ${(e as Error).message}`);
      }
    }
    return done;
  }

  private appendInBackground(records: ShareStateRecord[]): void {
    this.append(records).catch((e) => this.o.logger.error(`share state write failed: ${(e as Error).message}`));
  }

  private *liveRecords(): Generator<ShareStateRecord> {
    for (const e of this.partitions.values()) yield this.stateRecord(e.group, e.topicId, e.partition, e.sp);
    for (const [group, c] of this.configs) yield { kind: "group-config", group, configs: [...c] };
  }

  // ------------------------------------------------------------ settings

  settings(groupId: string): ShareSettings {
    return effectiveSettings(this.o.defaults, this.configs.get(groupId));
  }

  describeConfigs(groupId: string): { name: string; value: string; dynamic: boolean }[] {
    const c = this.configs.get(groupId);
    const s = this.settings(groupId);
    return [...SHARE_GROUP_CONFIGS.entries()].map(([name, def]) => ({ name, value: String(s[def.key]), dynamic: c?.has(name) ?? false }));
  }

  /** IncrementalAlterConfigs on a GROUP resource: SET/DELETE of share.* keys; an error message when refused. */
  async alterConfigs(groupId: string, ops: readonly { name: string; op: number; value: string | null }[], validateOnly: boolean): Promise<{ errorCode: number; errorMessage: string | null }> {
    const next = new Map(this.configs.get(groupId) ?? []);
    for (const c of ops) {
      if (!SHARE_GROUP_CONFIGS.has(c.name)) return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: `Unknown group config name: ${c.name}` };
      if (c.op === 0) {
        const bad = c.value === null ? `Null value not supported for group configs: ${c.name}` : validateShareConfig(c.name, c.value);
        if (bad) return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: bad };
        next.set(c.name, c.value!.trim());
      } else if (c.op === 1) next.delete(c.name);
      else return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: `Config value append/subtract is not allowed for config key: ${c.name}` };
    }
    if (validateOnly) return { errorCode: ErrorCode.NONE, errorMessage: null };
    if (next.size === 0) this.configs.delete(groupId);
    else this.configs.set(groupId, next);
    try {
      await this.append([{ kind: "group-config", group: groupId, configs: [...next] }]);
    } catch (e) {
      return { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, errorMessage: `writing the group config failed: ${(e as Error).message}` };
    }
    return { errorCode: ErrorCode.NONE, errorMessage: null };
  }

  // ------------------------------------------------------------ share-partitions

  private partitionOf(topicId: string, partition: number): Partition | undefined {
    return this.o.topics.getById(topicId)?.partitions[partition];
  }

  /** Where a new share-partition starts: share.auto.offset.reset of the group. */
  private initialOffset(groupId: string, part: Partition): number {
    const policy = parseReset(this.settings(groupId).autoOffsetReset) ?? { kind: "latest" as const };
    if (policy.kind === "earliest") return part.log.logStartOffset;
    if (policy.kind === "by_duration") {
      const target = this.scheduler.now() - policy.ms;
      const r = part.log.offsetForTimestamp(target, (batch, min) => firstRecordAtOrAfter(batch, target, min));
      if (r && r.offset < part.highWatermark) return r.offset;
    }
    return part.highWatermark;
  }

  /** The share-partition, initialized (and persisted) at the reset position the first time the group touches it. */
  private sharePartition(groupId: string, topicId: string, partition: number, part: Partition, initialized?: ShareStateRecord[]): SharePartition {
    const key = spKey(groupId, topicId, partition);
    let e = this.partitions.get(key);
    if (!e) {
      e = { group: groupId, topicId, partition, sp: new SharePartition(this.initialOffset(groupId, part)) };
      this.partitions.set(key, e);
      const r = this.stateRecord(groupId, topicId, partition, e.sp);
      if (initialized) initialized.push(r);
      else this.appendInBackground([r]);
    }
    e.sp.skipTo(part.log.logStartOffset);
    return e.sp;
  }

  private lockKey(key: string): string {
    return `share-lock\u0000${key}`;
  }

  /** Keeps one timer per share-partition at its earliest lock expiry. */
  private scheduleLocks(groupId: string, topicId: string, partition: number, sp: SharePartition): void {
    const key = spKey(groupId, topicId, partition);
    const next = sp.nextExpiry();
    if (next === null) {
      this.scheduler.cancel(this.lockKey(key));
      return;
    }
    this.scheduler.schedule(this.lockKey(key), next - this.scheduler.now(), () => {
      const e = this.partitions.get(key);
      if (!e || e.sp !== sp) return;
      const n = sp.release(this.settings(groupId).deliveryCountLimit, { now: this.scheduler.now() });
      if (n > 0) {
        this.o.logger.debug(`share group ${groupId}: ${n} records of ${topicId}-${partition} released after their lock ran out`);
        this.appendInBackground([this.stateRecord(groupId, topicId, partition, sp)]);
        this.wake();
      }
      this.scheduleLocks(groupId, topicId, partition, sp);
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Releases what `memberId` holds in the group (it left, its session closed, or it forgot partitions). */
  private releaseMember(groupId: string, memberId: string, only?: ReadonlySet<string>): void {
    const limit = this.settings(groupId).deliveryCountLimit;
    const records: ShareStateRecord[] = [];
    for (const [key, e] of this.partitions) {
      if (e.group !== groupId || (only && !only.has(`${e.topicId}:${e.partition}`))) continue;
      if (e.sp.release(limit, { member: memberId }) > 0) {
        records.push(this.stateRecord(e.group, e.topicId, e.partition, e.sp));
        this.scheduleLocks(e.group, e.topicId, e.partition, e.sp);
      }
      void key;
    }
    if (records.length > 0) {
      this.appendInBackground(records);
      this.wake();
    }
  }

  // ------------------------------------------------------------ membership

  private newGroup(groupId: string, now: number, epoch: number): ShareGroup {
    return new ShareGroup(
      groupId,
      now,
      epoch,
      (g) => this.groupDeleted(g),
      (g) => {
        for (const e of this.partitions.values()) if (e.group === g.groupId) return true;
        return false;
      },
    );
  }

  private shareGroup(groupId: string, create: boolean): ShareGroup | number {
    const g = this.o.groups.groups.get(groupId);
    if (g instanceof ShareGroup) return g;
    if (g || !create) return ErrorCode.GROUP_ID_NOT_FOUND;
    const fresh = this.newGroup(groupId, this.scheduler.now(), 0);
    this.o.groups.groups.set(groupId, fresh);
    return fresh;
  }

  /** The heartbeat; share-partitions it initializes (their start offset from share.auto.offset.reset) are durable before it is answered. */
  async heartbeat(req: HeartbeatIn): Promise<HeartbeatOut> {
    const initialized: ShareStateRecord[] = [];
    const r = this.heartbeatNow(req, initialized);
    try {
      await this.append(initialized);
    } catch (e) {
      this.o.logger.error(`share state write failed: ${(e as Error).message}`);
      return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: "writing the share state failed", memberId: null, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null };
    }
    return r;
  }

  private heartbeatNow(req: HeartbeatIn, initialized: ShareStateRecord[]): HeartbeatOut {
    const fail = (errorCode: number, errorMessage: string | null = null): HeartbeatOut => ({ errorCode, errorMessage, memberId: null, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null });
    if (!this.o.groups.loaded) return fail(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    if (this.closed) return fail(ErrorCode.NOT_COORDINATOR);
    if (req.groupId === "") return fail(ErrorCode.INVALID_REQUEST, "GroupId can't be empty.");
    if (req.memberId === "") return fail(ErrorCode.INVALID_REQUEST, "MemberId can't be empty.");
    if (req.rackId === "") return fail(ErrorCode.INVALID_REQUEST, "RackId can't be empty.");
    if (req.memberEpoch < -1) return fail(ErrorCode.INVALID_REQUEST, "MemberEpoch is invalid.");
    if (req.memberEpoch === 0 && (req.subscribedTopicNames === null || req.subscribedTopicNames.length === 0)) {
      return fail(ErrorCode.INVALID_REQUEST, "SubscribedTopicNames must be set in first request.");
    }
    const settings = this.settings(req.groupId);
    if (req.memberEpoch === -1) {
      const g = this.shareGroup(req.groupId, false);
      if (typeof g !== "number" && g.members.has(req.memberId)) this.removeMember(g, req.memberId);
      return { errorCode: ErrorCode.NONE, errorMessage: null, memberId: req.memberId, memberEpoch: -1, heartbeatIntervalMs: 0, assignment: null };
    }
    const g = this.shareGroup(req.groupId, req.memberEpoch === 0);
    if (typeof g === "number") return fail(g, this.o.groups.groups.has(req.groupId) ? `Group ${req.groupId} is not a share group.` : `Group ${req.groupId} not found.`);
    let m = g.members.get(req.memberId);
    let bump = false;
    if (req.memberEpoch === 0) {
      if (!m) {
        g.members.set(req.memberId, (m = new ShareMember(req.memberId)));
        bump = true;
      }
      m.sentAssignment = null;
    } else {
      if (!m) return fail(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${req.memberId} is not a member of group ${req.groupId}.`);
      if (req.memberEpoch !== m.memberEpoch) {
        return fail(ErrorCode.FENCED_MEMBER_EPOCH, `The share group member has a ${req.memberEpoch > m.memberEpoch ? "greater" : "smaller"} member epoch (${req.memberEpoch}) than the one known by the group coordinator (${m.memberEpoch}). The member must abandon all its partitions and rejoin.`);
      }
    }
    m.clientId = req.clientId;
    m.clientHost = req.clientHost;
    if (req.rackId !== null) m.rackId = req.rackId;
    if (req.subscribedTopicNames !== null) {
      const next = [...new Set(req.subscribedTopicNames)].sort();
      if (next.join("\u0000") !== m.subscribedTopicNames.join("\u0000")) {
        m.subscribedTopicNames = next;
        bump = true;
      }
    }
    // Topics appear and grow: the assignment follows on the next heartbeat of each member.
    if (this.reassign(g, initialized) || bump) this.bumpEpoch(g);
    m.memberEpoch = g.groupEpoch;
    this.scheduler.schedule(this.sessionKey(g.groupId, m.memberId), settings.sessionTimeoutMs, () => this.expireMember(g.groupId, req.memberId));
    const changed = m.sentAssignment === null || !sameAssignment(m.sentAssignment, m.assignment);
    if (changed) m.sentAssignment = m.assignment;
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId: m.memberId,
      memberEpoch: m.memberEpoch,
      heartbeatIntervalMs: settings.heartbeatIntervalMs,
      assignment: changed ? [...m.assignment].map(([topicId, partitions]) => ({ topicId, partitions })) : null,
    };
  }

  private sessionKey(groupId: string, memberId: string): string {
    return `share-member\u0000${groupId}\u0000${memberId}`;
  }

  /** Recomputes every member's assignment; true when one changed. Initializes newly assigned share-partitions. */
  private reassign(g: ShareGroup, initialized?: ShareStateRecord[]): boolean {
    const next = assignShare([...g.members.values()], this.o.groups.topicView());
    let changed = false;
    for (const m of g.members.values()) {
      const a: ShareAssignment = next.get(m.memberId) ?? new Map();
      if (!sameAssignment(a, m.assignment)) {
        m.assignment = a;
        changed = true;
      }
      for (const [topicId, ps] of a) {
        for (const p of ps) {
          const part = this.partitionOf(topicId, p);
          if (part) this.sharePartition(g.groupId, topicId, p, part, initialized);
        }
      }
    }
    return changed;
  }

  private bumpEpoch(g: ShareGroup): void {
    g.groupEpoch++;
    g.assignmentEpoch = g.groupEpoch;
    // Each member moves to the new epoch in its own next heartbeat (which carries its old one).
    this.o.groups.persist(g);
  }

  private removeMember(g: ShareGroup, memberId: string, expired = false): void {
    g.members.delete(memberId);
    this.scheduler.cancel(this.sessionKey(g.groupId, memberId));
    if (g.members.size === 0) g.emptySince = this.scheduler.now();
    this.reassign(g);
    this.bumpEpoch(g);
    // A member that leaves still has its share session: its last ShareAcknowledge (epoch -1) may come after
    // the leave heartbeat, and closing the session releases what it still holds. Without a session
    // (or when the member is gone for its session timeout) its records are released now.
    const sessions = [...this.sessions.ofGroup(g.groupId, memberId)];
    if (sessions.length === 0 || expired) {
      for (const s of sessions) this.sessions.close(s);
      this.releaseMember(g.groupId, memberId);
    }
  }

  private expireMember(groupId: string, memberId: string): void {
    const g = this.shareGroup(groupId, false);
    if (typeof g === "number" || !g.members.has(memberId)) return;
    this.o.logger.info(`share group ${groupId}: member ${memberId} removed after its session timed out`);
    this.removeMember(g, memberId, true);
  }

  /** A closed connection ends the share sessions it carried; what their members held is released. */
  connectionClosed(connectionId: number): void {
    for (const s of this.sessions.onConnection(connectionId)) {
      this.sessions.close(s);
      this.releaseMember(s.groupId, s.memberId, new Set(s.partitions.keys()));
    }
  }

  /** A deleted topic takes its share-partitions with it, in every group. */
  onTopicDeleted(topicId: string): void {
    const records: ShareStateRecord[] = [];
    for (const [key, e] of [...this.partitions]) {
      if (e.topicId !== topicId) continue;
      this.partitions.delete(key);
      this.scheduler.cancel(this.lockKey(key));
      records.push({ kind: "partition-delete", group: e.group, topicId, partition: e.partition });
    }
    this.appendInBackground(records);
  }

  /** DeleteGroups (or retention) removed the group: its share state and configs go with it. */
  private groupDeleted(g: ShareGroup): void {
    const records: ShareStateRecord[] = [];
    for (const [key, e] of [...this.partitions]) {
      if (e.group !== g.groupId) continue;
      this.partitions.delete(key);
      this.scheduler.cancel(this.lockKey(key));
      records.push({ kind: "partition-delete", group: e.group, topicId: e.topicId, partition: e.partition });
    }
    for (const s of this.sessions.ofGroup(g.groupId)) this.sessions.close(s);
    if (this.configs.delete(g.groupId)) records.push({ kind: "group-config", group: g.groupId, configs: [] });
    this.appendInBackground(records);
  }

  // ------------------------------------------------------------ acknowledgements

  /** Validates and applies one partition's acknowledgements; the states to persist are collected in `dirty`. */
  private acknowledgePartition(groupId: string, memberId: string, topicId: string, p: AckPartitionIn, renew: boolean, dirty: Map<string, () => ShareStateRecord>): AckOutcome {
    const bad = (m: string): AckOutcome => ({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: m });
    const batches: AckBatch[] = [];
    let prevLast = -1;
    for (const b of p.acknowledgementBatches) {
      const first = Number(b.firstOffset);
      const last = Number(b.lastOffset);
      if (first < 0 || last < first) return bad(`Invalid acknowledgement batch ${b.firstOffset}-${b.lastOffset}`);
      if (first <= prevLast) return bad("Acknowledgement batches overlap or are not in order");
      const n = last - first + 1;
      if (b.acknowledgeTypes.length !== 1 && b.acknowledgeTypes.length !== n) return bad(`Acknowledgement batch ${first}-${last} has ${b.acknowledgeTypes.length} types`);
      for (const t of b.acknowledgeTypes) {
        if (t < AckType.GAP || t > AckType.RENEW || (t === AckType.RENEW && !renew)) return bad(`Invalid acknowledge type ${t}`);
      }
      prevLast = last;
      batches.push({ first, last, types: b.acknowledgeTypes });
    }
    const topic = this.o.topics.getById(topicId);
    if (!topic) return { errorCode: ErrorCode.UNKNOWN_TOPIC_ID, errorMessage: null };
    const part = topic.partitions[p.partitionIndex];
    if (!part) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null };
    const key = spKey(groupId, topicId, p.partitionIndex);
    const e = this.partitions.get(key);
    if (!e) return { errorCode: ErrorCode.INVALID_RECORD_STATE, errorMessage: "The share-partition has no acquired records" };
    const s = this.settings(groupId);
    const r = e.sp.acknowledge(memberId, batches, s.deliveryCountLimit, this.scheduler.now() + s.lockDurationMs);
    if (r === "invalid_state") return { errorCode: ErrorCode.INVALID_RECORD_STATE, errorMessage: "The record state is invalid. The acknowledgement of delivery could not be completed." };
    dirty.set(key, () => this.stateRecord(groupId, topicId, p.partitionIndex, e.sp));
    this.scheduleLocks(groupId, topicId, p.partitionIndex, e.sp);
    return { errorCode: ErrorCode.NONE, errorMessage: null };
  }

  /** Applies acknowledgements of every partition and waits until the new states are durable. */
  private async acknowledgeAll(groupId: string, memberId: string, topics: readonly TopicIn<AckPartitionIn>[], renew: boolean): Promise<Map<string, AckOutcome>> {
    const out = new Map<string, AckOutcome>();
    const dirty = new Map<string, () => ShareStateRecord>();
    for (const t of topics) {
      for (const p of t.partitions) {
        if (p.acknowledgementBatches.length === 0) continue;
        out.set(`${t.topicId}:${p.partitionIndex}`, this.acknowledgePartition(groupId, memberId, t.topicId, p, renew, dirty));
      }
    }
    if (dirty.size > 0) {
      this.wake();
      try {
        await this.append([...dirty.values()].map((f) => f()));
      } catch (e) {
        this.o.logger.error(`share state write failed: ${(e as Error).message}`);
        for (const [k, v] of out) if (v.errorCode === ErrorCode.NONE) out.set(k, { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, errorMessage: "writing the share state failed" });
      }
    }
    return out;
  }

  // ------------------------------------------------------------ ShareFetch

  private checkIds(groupId: string | null, memberId: string | null): AckOutcome | null {
    if (!this.o.groups.loaded) return { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, errorMessage: null };
    if (groupId === null || groupId === "") return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: "Group id must be specified" };
    if (memberId === null || memberId === "") return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: "Member id must be specified" };
    // Share-partition state belongs to a share group: none is made for an id that is not one.
    if (!(this.o.groups.groups.get(groupId) instanceof ShareGroup)) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: `Group ${groupId} is not a share group.` };
    return null;
  }

  async shareFetch(req: ShareFetchIn, closing: () => boolean): Promise<ShareFetchOut> {
    const lockMs = () => (req.groupId ? this.settings(req.groupId).lockDurationMs : this.o.defaults.lockDurationMs);
    const top = (errorCode: number, errorMessage: string | null = null): ShareFetchOut => ({ errorCode, errorMessage, acquisitionLockTimeoutMs: lockMs(), responses: [] });
    const idError = this.checkIds(req.groupId, req.memberId);
    if (idError) return top(idError.errorCode, idError.errorMessage);
    const groupId = req.groupId!;
    const memberId = req.memberId!;
    if (req.acquireMode !== 0 && req.acquireMode !== 1) return top(ErrorCode.INVALID_REQUEST, `Invalid ShareAcquireMode ${req.acquireMode}`);
    const hasAcks = req.topics.some((t) => t.partitions.some((p) => p.acknowledgementBatches.length > 0));
    let session: ShareSession;
    if (req.shareSessionEpoch === INITIAL_EPOCH) {
      if (hasAcks) return top(ErrorCode.INVALID_REQUEST, "Acknowledge data present on initial fetch request");
      const old = this.sessions.get(groupId, memberId);
      const s = this.sessions.open(groupId, memberId);
      if (typeof s === "number") return top(s);
      if (old) this.releaseMember(groupId, memberId, new Set(old.partitions.keys()));
      session = s;
    } else {
      const s = this.sessions.check(groupId, memberId, req.shareSessionEpoch);
      if (typeof s === "number") return top(s);
      session = s;
      // Moved on before anything is awaited: a request with the same epoch meanwhile is stale.
      if (req.shareSessionEpoch !== FINAL_EPOCH) session.epoch++;
    }
    session.connectionId = req.connectionId;
    if (req.isRenewAck && !hasAcks) return top(ErrorCode.INVALID_REQUEST, "IsRenewAck is set without acknowledgements");
    const acks = hasAcks ? await this.acknowledgeAll(groupId, memberId, req.topics, req.isRenewAck) : new Map<string, AckOutcome>();

    const results = new Map<string, PartitionOut>();
    const entry = (topicId: string, partition: number): PartitionOut => {
      const k = `${topicId}:${partition}`;
      let r = results.get(k);
      if (!r) {
        r = { partitionIndex: partition, errorCode: 0, errorMessage: null, acknowledgeErrorCode: 0, acknowledgeErrorMessage: null, records: [], acquiredRecords: [] };
        results.set(k, r);
      }
      return r;
    };
    for (const [k, a] of acks) {
      const i = k.lastIndexOf(":");
      const r = entry(k.slice(0, i), Number(k.slice(i + 1)));
      r.acknowledgeErrorCode = a.errorCode;
      r.acknowledgeErrorMessage = a.errorMessage;
    }

    if (req.shareSessionEpoch === FINAL_EPOCH) {
      // The last request of a session acknowledges only; what the member still holds is released.
      this.sessions.close(session);
      this.releaseMember(groupId, memberId, new Set(session.partitions.keys()));
      return this.answer(results, lockMs());
    }
    const forgotten = new Set<string>();
    for (const f of req.forgotten) for (const p of f.partitions) if (session.forget(f.topicId, p)) forgotten.add(`${f.topicId}:${p}`);
    if (forgotten.size > 0) this.releaseMember(groupId, memberId, forgotten);
    for (const t of req.topics) for (const p of t.partitions) session.add(t.topicId, p.partitionIndex);
    if (req.isRenewAck) return this.answer(results, lockMs());

    const deadline = Date.now() + Math.max(0, req.maxWaitMs);
    for (;;) {
      const got = this.acquireAll(groupId, memberId, session, req, entry);
      const remaining = deadline - Date.now();
      if (got > 0 || remaining <= 0 || closing() || this.closed) return this.answer(results, lockMs());
      await this.waitForRecords(session, remaining);
      if (this.sessions.get(groupId, memberId) !== session) return this.answer(results, lockMs());
    }
  }

  private answer(results: Map<string, PartitionOut>, lockMs: number): ShareFetchOut {
    const byTopic = new Map<string, PartitionOut[]>();
    for (const [k, r] of results) {
      const topicId = k.slice(0, k.lastIndexOf(":"));
      let l = byTopic.get(topicId);
      if (!l) byTopic.set(topicId, (l = []));
      l.push(r);
    }
    return { errorCode: ErrorCode.NONE, errorMessage: null, acquisitionLockTimeoutMs: lockMs, responses: [...byTopic].map(([topicId, partitions]) => ({ topicId, partitions })) };
  }

  /** One pass over the session's partitions; the number of records acquired. */
  private acquireAll(groupId: string, memberId: string, session: ShareSession, req: ShareFetchIn, entry: (t: string, p: number) => PartitionOut): number {
    const s = this.settings(groupId);
    const readCommitted = s.isolationLevel === "read_committed";
    let records = 0;
    let bytes = 0;
    const maxRecords = req.maxRecords > 0 ? req.maxRecords : Number.MAX_SAFE_INTEGER;
    // Each fetch starts one partition further, so that MaxRecords does not keep the last ones waiting.
    const list = [...session.partitions.values()];
    const first = list.length > 0 ? session.rotation++ % list.length : 0;
    for (let i = 0; i < list.length; i++) {
      const { topicId, partition } = list[(first + i) % list.length]!;
      if (records >= maxRecords) break;
      const topic = this.o.topics.getById(topicId);
      const part = topic?.partitions[partition];
      if (!part) {
        const r = entry(topicId, partition);
        r.errorCode = topic ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.UNKNOWN_TOPIC_ID;
        continue;
      }
      const sp = this.sharePartition(groupId, topicId, partition, part);
      const limit = readCommitted ? part.lastStableOffset() : part.highWatermark;
      if (!sp.canAcquire(limit, s.maxRecordLocks)) continue;
      const got = sp.acquire(
        memberId,
        { maxRecords: maxRecords - records, strictMaxRecords: req.acquireMode === 1, maxInFlight: s.maxRecordLocks, maxBytes: Math.max(0, req.maxBytes - bytes), limit, lockExpiry: this.scheduler.now() + s.lockDurationMs },
        (offset, maxBytes) => readBatches(part, offset, maxBytes, readCommitted),
      );
      if (got.records === 0) continue;
      records += got.records;
      bytes += got.bytes;
      const r = entry(topicId, partition);
      r.records.push(...got.chunks);
      r.acquiredRecords.push(...got.ranges.map((x: AcquiredRange) => ({ firstOffset: BigInt(x.first), lastOffset: BigInt(x.last), deliveryCount: x.deliveryCount })));
      this.scheduleLocks(groupId, topicId, partition, sp);
    }
    return records;
  }

  /** Until a session partition has new data, records are released anywhere, or `ms` pass. */
  private waitForRecords(session: ShareSession, ms: number): Promise<void> {
    const parts: Partition[] = [];
    for (const { topicId, partition } of session.partitions.values()) {
      const part = this.partitionOf(topicId, partition);
      if (part) parts.push(part);
    }
    return waitForPartitions(parts, ms, this.waiters);
  }

  // ------------------------------------------------------------ ShareAcknowledge

  async shareAcknowledge(req: { connectionId: number; groupId: string | null; memberId: string | null; shareSessionEpoch: number; isRenewAck: boolean; topics: readonly TopicIn<AckPartitionIn>[] }): Promise<ShareFetchOut> {
    const lockMs = req.groupId ? this.settings(req.groupId).lockDurationMs : this.o.defaults.lockDurationMs;
    const top = (errorCode: number, errorMessage: string | null = null): ShareFetchOut => ({ errorCode, errorMessage, acquisitionLockTimeoutMs: lockMs, responses: [] });
    const idError = this.checkIds(req.groupId, req.memberId);
    if (idError) return top(idError.errorCode, idError.errorMessage);
    const groupId = req.groupId!;
    const memberId = req.memberId!;
    if (req.shareSessionEpoch === INITIAL_EPOCH) return top(ErrorCode.INVALID_SHARE_SESSION_EPOCH);
    const s = this.sessions.check(groupId, memberId, req.shareSessionEpoch);
    if (typeof s === "number") return top(s);
    s.connectionId = req.connectionId;
    if (req.shareSessionEpoch !== FINAL_EPOCH) s.epoch++;
    const acks = await this.acknowledgeAll(groupId, memberId, req.topics, req.isRenewAck);
    if (req.shareSessionEpoch === FINAL_EPOCH) {
      this.sessions.close(s);
      this.releaseMember(groupId, memberId, new Set(s.partitions.keys()));
    }
    const results = new Map<string, PartitionOut>();
    for (const [k, a] of acks) {
      const i = k.lastIndexOf(":");
      results.set(k, { partitionIndex: Number(k.slice(i + 1)), errorCode: a.errorCode, errorMessage: a.errorMessage, acknowledgeErrorCode: a.errorCode, acknowledgeErrorMessage: a.errorMessage, records: [], acquiredRecords: [] });
    }
    return this.answer(results, lockMs);
  }

  // ------------------------------------------------------------ admin

  describeGroups(groupIds: readonly string[]) {
    const view = this.o.groups.topicView();
    return groupIds.map((groupId) => {
      if (groupId === "") return { groupId, errorCode: ErrorCode.INVALID_GROUP_ID, errorMessage: "GroupId can't be empty.", groupState: "", groupEpoch: -1, assignmentEpoch: -1, assignorName: "", members: [] };
      const g = this.o.groups.groups.get(groupId);
      if (!(g instanceof ShareGroup) || g.dead) {
        return { groupId, errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: g ? `Group ${groupId} is not a share group.` : `Group ${groupId} not found.`, groupState: "Dead", groupEpoch: -1, assignmentEpoch: -1, assignorName: "", members: [] };
      }
      return {
        groupId,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        groupState: g.stateName(),
        groupEpoch: g.groupEpoch,
        assignmentEpoch: g.assignmentEpoch,
        assignorName: SHARE_ASSIGNOR,
        members: [...g.members.values()].map((m) => ({
          memberId: m.memberId,
          rackId: m.rackId,
          memberEpoch: m.memberEpoch,
          clientId: m.clientId,
          clientHost: m.clientHost,
          subscribedTopicNames: m.subscribedTopicNames,
          assignment: { topicPartitions: [...m.assignment].map(([topicId, partitions]) => ({ topicId, topicName: view.byId(topicId)?.name ?? "", partitions })) },
        })),
      };
    });
  }

  /** Start offset and lag of each share-partition (-1 where the group has none). */
  describeOffsets(groupId: string, topics: readonly { topicName: string; partitions: readonly number[] }[] | null) {
    const g = this.o.groups.groups.get(groupId);
    if (!(g instanceof ShareGroup)) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: `Group ${groupId} not found.`, topics: [] };
    let wanted = topics;
    if (wanted === null) {
      const byName = new Map<string, number[]>();
      for (const e of this.partitions.values()) {
        if (e.group !== groupId) continue;
        const name = this.o.topics.getById(e.topicId)?.name;
        if (!name) continue;
        let l = byName.get(name);
        if (!l) byName.set(name, (l = []));
        l.push(e.partition);
      }
      wanted = [...byName].map(([topicName, partitions]) => ({ topicName, partitions: partitions.sort((a, b) => a - b) }));
    }
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      topics: wanted.map((t) => {
        const topic = this.o.topics.get(t.topicName);
        return {
          topicName: t.topicName,
          topicId: topic?.id ?? "00000000000000000000000000000000",
          partitions: t.partitions.map((p) => {
            const part = topic?.partitions[p];
            if (!topic || !part) return { partitionIndex: p, startOffset: -1n, leaderEpoch: -1, lag: -1n, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null };
            const e = this.partitions.get(spKey(groupId, topic.id, p));
            if (!e) return { partitionIndex: p, startOffset: -1n, leaderEpoch: -1, lag: -1n, errorCode: ErrorCode.NONE, errorMessage: null };
            return { partitionIndex: p, startOffset: BigInt(e.sp.startOffset), leaderEpoch: part.log.leaderEpoch, lag: BigInt(lagOf(e.sp, part)), errorCode: ErrorCode.NONE, errorMessage: null };
          }),
        };
      }),
    };
  }

  private emptyGroup(groupId: string): ShareGroup | AckOutcome {
    const g = this.o.groups.groups.get(groupId);
    if (!(g instanceof ShareGroup)) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: `Group ${groupId} not found.` };
    if (g.members.size > 0) return { errorCode: ErrorCode.NON_EMPTY_GROUP, errorMessage: `The group ${groupId} has active members; its offsets can be changed only when it is empty.` };
    return g;
  }

  async alterOffsets(groupId: string, topics: readonly { topicName: string; partitions: readonly { partitionIndex: number; startOffset: bigint }[] }[]) {
    const g = this.emptyGroup(groupId);
    if (!(g instanceof ShareGroup)) return { ...g, responses: [] };
    const records: ShareStateRecord[] = [];
    const responses = topics.map((t) => {
      const topic = this.o.topics.get(t.topicName);
      return {
        topicName: t.topicName,
        topicId: topic?.id ?? "00000000000000000000000000000000",
        partitions: t.partitions.map((p) => {
          const part = topic?.partitions[p.partitionIndex];
          if (!topic || !part) return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null };
          const offset = Number(p.startOffset);
          if (offset < -1) return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Invalid start offset ${p.startOffset}` };
          const sp = this.sharePartition(groupId, topic.id, p.partitionIndex, part);
          // -1: latest, as Kafka's admin tools send for "reset to latest".
          sp.reset(Math.max(part.log.logStartOffset, Math.min(offset === -1 ? part.highWatermark : offset, part.highWatermark)));
          this.scheduler.cancel(this.lockKey(spKey(groupId, topic.id, p.partitionIndex)));
          records.push(this.stateRecord(groupId, topic.id, p.partitionIndex, sp));
          return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE, errorMessage: null };
        }),
      };
    });
    try {
      await this.append(records);
    } catch (e) {
      return { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, errorMessage: (e as Error).message, responses: [] };
    }
    return { errorCode: ErrorCode.NONE, errorMessage: null, responses };
  }

  async deleteOffsets(groupId: string, topicNames: readonly string[]) {
    const g = this.emptyGroup(groupId);
    if (!(g instanceof ShareGroup)) return { ...g, responses: [] };
    const records: ShareStateRecord[] = [];
    const responses = topicNames.map((name) => {
      const topic = this.o.topics.get(name);
      if (!topic) return { topicName: name, topicId: "00000000000000000000000000000000", errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null };
      for (const [key, e] of [...this.partitions]) {
        if (e.group !== groupId || e.topicId !== topic.id) continue;
        this.partitions.delete(key);
        this.scheduler.cancel(this.lockKey(key));
        records.push({ kind: "partition-delete", group: groupId, topicId: topic.id, partition: e.partition });
      }
      return { topicName: name, topicId: topic.id, errorCode: ErrorCode.NONE, errorMessage: null };
    });
    try {
      await this.append(records);
    } catch (e) {
      return { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, errorMessage: (e as Error).message, responses: [] };
    }
    return { errorCode: ErrorCode.NONE, errorMessage: null, responses };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake();
    if (this.log) await this.log.close();
  }
}

/** Records of the partition the group has yet to finish: past the end offset up to the high watermark, and unfinished ones in flight. */
function lagOf(sp: SharePartition, part: Partition): number {
  let n = Math.max(0, part.highWatermark - sp.endOffset);
  for (let o = sp.startOffset; o < sp.endOffset; o++) {
    const s = sp.stateOf(o);
    if (s !== RecordState.ACKNOWLEDGED && s !== RecordState.ARCHIVED) n++;
  }
  return n;
}

/** Whole stored batches from the one holding `offset`, with what acquisition must know of each. */
function readBatches(part: Partition, offset: number, maxBytes: number, readCommitted: boolean): SourceBatch[] {
  const r = part.log.read(offset, maxBytes, true);
  if (r === "out_of_range") return [];
  const out: SourceBatch[] = [];
  for (const c of r.chunks) {
    const v = viewOf(c);
    let pos = 0;
    while (pos + LOG_OVERHEAD <= c.length) {
      const size = batchSize(v, pos);
      if (pos + size > c.length) break;
      const base = batchBaseOffset(v, pos);
      const last = base + batchLastOffsetDelta(v, pos);
      const attributes = v.getInt16(pos + ATTRIBUTES);
      let skip = (attributes & CONTROL_BIT) !== 0;
      if (!skip && readCommitted && (attributes & TRANSACTIONAL_BIT) !== 0) {
        const pid = readInt64(v, pos + PRODUCER_ID);
        skip = part.log.abortedTxns(base, last + 1).some((a) => a.producerId === pid && a.firstOffset <= base && base <= a.lastOffset);
      }
      out.push({ base, last, bytes: c.subarray(pos, pos + size), skip });
      pos += size;
    }
  }
  return out;
}
