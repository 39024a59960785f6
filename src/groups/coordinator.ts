// The group coordinator: one namespace of groups (classic now, KIP-848
// consumer groups beside them), the committed offsets of all of them, and the
// group log that makes offsets and group metadata survive a crash. Handlers
// call it with plain values; it answers with error codes and plain results.
//
// Durability: every offset change is written to the group log and fsynced
// (group commit) before the commit is acknowledged. Membership is not
// persisted (Kafka's members rejoin after a coordinator move too): a restart
// brings every group back Empty, with its generation and offsets.

import { join } from "node:path";
import type { FlushScheduler } from "../log/flush-scheduler.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { ALL_GROUP_OPERATIONS, ClassicGroup, joinError, syncError, type JoinResult, type SyncResult } from "./classic-group.ts";
import { ClassicMembership, type JoinRequest, type LeaveMember, type LeaveResult, type MembershipConfig, type MembershipHost, type SyncRequest } from "./classic-membership.ts";
import { ConsumerGroup } from "./consumer-group.ts";
import { ConsumerMembership, type ConsumerHeartbeatRequest, type ConsumerHeartbeatResult, type ConsumerMembershipConfig, type ConsumerMembershipHost } from "./consumer-membership.ts";
import type { CommittedOffset, Group, GroupType } from "./group.ts";
import { GroupLog } from "./group-log.ts";
import { OffsetsStore } from "./offsets-store.ts";
import type { GroupRecord, LogRecord } from "./records.ts";
import { TimerScheduler, type Scheduler } from "./scheduler.ts";
import { NO_TOPICS, type TopicView } from "./topic-view.ts";

export { ALL_GROUP_OPERATIONS };

export interface GroupConfig extends MembershipConfig, ConsumerMembershipConfig {
  /** offset.metadata.max.bytes (Kafka compares the string's length). */
  offsetMetadataMaxBytes: number;
  /** offsets.retention.minutes, in ms. */
  offsetsRetentionMs: number;
  /** Largest total protocol metadata one member may send in JoinGroup. */
  maxMemberMetadataBytes: number;
  /** Rewrite the group log once it holds this many records more than twice the live ones. */
  compactionSlack: number;
}

export const DEFAULT_GROUP_CONFIG: GroupConfig = {
  minSessionTimeoutMs: 6000,
  maxSessionTimeoutMs: 1_800_000,
  initialRebalanceDelayMs: 0,
  newMemberJoinTimeoutMs: 5 * 60 * 1000,
  offsetMetadataMaxBytes: 4096,
  offsetsRetentionMs: 7 * 24 * 60 * 60 * 1000,
  maxMemberMetadataBytes: 1024 * 1024,
  compactionSlack: 10_000,
  consumerSessionTimeoutMs: 45_000,
  consumerHeartbeatIntervalMs: 5_000,
};

/** offsets.retention.check.interval.ms */
export const RETENTION_CHECK_INTERVAL_MS = 10 * 60 * 1000;

export const GROUP_LOG_FILE = "consumer-offsets.log";

export interface CoordinatorLogger {
  error(msg: string): void;
  warn(msg: string): void;
  info(msg: string): void;
  debug(msg: string): void;
}

const SILENT: CoordinatorLogger = { error() {}, warn() {}, info() {}, debug() {} };

export interface CoordinatorOptions {
  /** Where the group log lives; null keeps everything in memory (tests). */
  dataDir: string | null;
  fsync: "group" | "never";
  flusher?: FlushScheduler | null;
  scheduler?: Scheduler;
  config?: Partial<GroupConfig>;
  logger?: CoordinatorLogger;
  /** Lets the retention task drop offsets of topics that no longer exist. */
  topicExists?: (topic: string) => boolean;
  /** Topic names, ids and partition counts for KIP-848 consumer groups' assignments. */
  topics?: TopicView;
}

/** Rebuilds a group of a non-classic type from its group record (registered by that type's module). */
export type GroupLoader = (record: GroupRecord, now: number) => Group;

export interface OffsetCommitInfo {
  groupId: string;
  memberId: string;
  groupInstanceId: string | null;
  generationIdOrMemberEpoch: number;
  /** OffsetCommit v2-4 RetentionTimeMs; -1 for the broker's retention. */
  retentionTimeMs: number;
  apiVersion: number;
}

export interface TxnOffsetCommitInfo {
  groupId: string;
  producerId: number;
  memberId: string;
  groupInstanceId: string | null;
  generationId: number;
  apiVersion: number;
}

export interface OffsetCommitItem {
  topic: string;
  partition: number;
  offset: bigint;
  leaderEpoch: number;
  metadata: string | null;
}

export interface FetchedPartition {
  partition: number;
  offset: bigint;
  leaderEpoch: number;
  metadata: string;
  errorCode: number;
}

export interface FetchedOffsets {
  errorCode: number;
  topics: { topic: string; partitions: FetchedPartition[] }[];
}

export interface OffsetDeleteResult {
  errorCode: number;
  topics: { topic: string; partitions: { partition: number; errorCode: number }[] }[];
}

export interface ListedGroupInfo {
  groupId: string;
  protocolType: string;
  groupState: string;
  groupType: GroupType;
}

export interface DescribedMemberInfo {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  memberMetadata: Uint8Array;
  memberAssignment: Uint8Array;
}

export interface DescribedGroupInfo {
  groupId: string;
  /** GROUP_ID_NOT_FOUND for unknown (or non-classic) groups; DescribeGroups before v6 answers those without an error. */
  errorCode: number;
  errorMessage: string | null;
  groupState: string;
  protocolType: string;
  protocolData: string;
  members: DescribedMemberInfo[];
}

export interface DescribedConsumerTopicPartitions {
  topicId: string;
  topicName: string;
  partitions: number[];
}

export interface DescribedConsumerMember {
  memberId: string;
  instanceId: string | null;
  rackId: string | null;
  memberEpoch: number;
  clientId: string;
  clientHost: string;
  subscribedTopicNames: string[];
  subscribedTopicRegex: string | null;
  assignment: DescribedConsumerTopicPartitions[];
  targetAssignment: DescribedConsumerTopicPartitions[];
}

export interface DescribedConsumerGroup {
  groupId: string;
  /** GROUP_ID_NOT_FOUND for unknown groups and groups of another type. */
  errorCode: number;
  errorMessage: string | null;
  groupState: string;
  groupEpoch: number;
  assignmentEpoch: number;
  assignorName: string;
  members: DescribedConsumerMember[];
}

const NO_OFFSET: CommittedOffset = { offset: -1n, leaderEpoch: -1, metadata: "", commitTimestamp: -1, expireTimestamp: -1 };

export class GroupCoordinator implements MembershipHost, ConsumerMembershipHost {
  readonly groups = new Map<string, Group>();
  readonly offsets = new OffsetsStore();
  readonly classic: ClassicMembership;
  readonly consumer: ConsumerMembership;
  readonly scheduler: Scheduler;
  readonly config: GroupConfig;
  /** False until the group log has been replayed: requests get COORDINATOR_LOAD_IN_PROGRESS. */
  loaded = false;
  private log: GroupLog | null = null;
  private readonly logger: CoordinatorLogger;
  private readonly loaders = new Map<string, GroupLoader>();
  private closed = false;
  /** Appended-record count at which the next compaction check is due (keeps the check amortized O(1)). */
  private compactCheckAt = 0;
  /** Shutting down: parked joins were released and new ones are turned away. */
  private membershipStopped = false;

  constructor(private readonly options: CoordinatorOptions) {
    this.logger = options.logger ?? SILENT;
    this.scheduler = options.scheduler ?? new TimerScheduler((e) => this.logger.error(`group timer failed: ${(e as Error).stack ?? e}`));
    this.config = { ...DEFAULT_GROUP_CONFIG, ...options.config };
    this.classic = new ClassicMembership(this);
    this.consumer = new ConsumerMembership(this);
    // Members do not survive a restart: a consumer group comes back Empty at its last group epoch.
    this.registerLoader("consumer", (r, now) => new ConsumerGroup(r.group, now, { groupEpoch: r.generation, assignorName: r.protocolName ?? undefined, emptySince: r.emptySince >= 0 ? r.emptySince : now }));
  }

  /** Lets another group type (KIP-848 consumer groups) come back from its group records; call before load(). */
  registerLoader(groupType: string, loader: GroupLoader): void {
    this.loaders.set(groupType, loader);
  }

  // ------------------------------------------------------------ loading

  /** Replays the group log (truncating a torn tail) and opens it for appends. */
  load(): void {
    if (this.loaded) return;
    const now = this.scheduler.now();
    if (this.options.dataDir !== null) {
      const { log, records } = GroupLog.open(join(this.options.dataDir, GROUP_LOG_FILE), {
        fsync: this.options.fsync,
        flusher: this.options.flusher ?? null,
        warn: (m) => this.logger.warn(m),
      });
      this.log = log;
      for (const r of records) this.replay(r, now);
      this.logger.info(`group coordinator loaded ${this.groups.size} groups from ${records.length} records`);
    }
    this.loaded = true;
    this.maybeCompact();
  }

  private replay(r: LogRecord, now: number): void {
    switch (r.kind) {
      case "offset": {
        const o: CommittedOffset = { offset: r.offset, leaderEpoch: r.leaderEpoch, metadata: r.metadata, commitTimestamp: r.commitTimestamp, expireTimestamp: r.expireTimestamp };
        this.ensureGroup(r.group, now);
        if (r.producerId >= 0) this.offsets.stagePending(r.producerId, r.group, r.topic, r.partition, o);
        else this.offsets.put(r.group, r.topic, r.partition, o);
        return;
      }
      case "offset-delete":
        this.offsets.removeEverywhere(r.group, r.topic, r.partition);
        return;
      case "group": {
        const existing = this.groups.get(r.group);
        if (existing) existing.shutdown(ErrorCode.NOT_COORDINATOR);
        this.groups.set(r.group, this.groupFromRecord(r, now));
        return;
      }
      case "group-delete":
        this.groups.delete(r.group);
        this.offsets.deleteGroup(r.group);
        return;
      case "txn-end":
        this.offsets.completePending(r.producerId, r.group, r.commit);
        return;
    }
  }

  private groupFromRecord(r: GroupRecord, now: number): Group {
    const loader = this.loaders.get(r.groupType);
    if (loader) return loader(r, now);
    if (r.groupType !== "classic") this.logger.warn(`group ${r.group}: type ${r.groupType} is not known here; loading it as an empty classic group`);
    // Members do not survive a restart: the group comes back Empty, its offsets retained from now on.
    return new ClassicGroup(r.group, now, {
      generationId: r.generation,
      protocolType: r.protocolType,
      protocolName: null,
      stateTimestamp: r.emptySince >= 0 ? r.emptySince : now,
    });
  }

  /** Offsets always belong to a group: a "simple" classic group holds those committed outside group management. */
  private ensureGroup(groupId: string, now: number): Group {
    let g = this.groups.get(groupId);
    if (!g) this.groups.set(groupId, (g = new ClassicGroup(groupId, now)));
    return g;
  }

  // ------------------------------------------------------------ persistence

  /** Writes records; a failed write comes back as a rejected promise, never as a throw into the caller's state machine. */
  private append(records: LogRecord[]): Promise<void> {
    if (records.length === 0 || !this.log) return Promise.resolve();
    let done: Promise<void>;
    try {
      done = this.log.append(records);
    } catch (e) {
      return Promise.reject(e);
    }
    try {
      this.maybeCompact();
    } catch (e) {
      // The records are in the old file, which stays in use: only the rewrite is lost.
      this.logger.error(`group log rewrite failed: ${(e as Error).message}`);
    }
    return done;
  }

  private appendInBackground(records: LogRecord[]): void {
    this.append(records).catch((e) => this.logger.error(`group log write failed: ${(e as Error).message}`));
  }

  /** Everything the log must hold to rebuild the current state. */
  private *liveRecords(): Generator<LogRecord> {
    for (const g of this.groups.values()) {
      const r = g.toRecord();
      if (r) yield r;
    }
    for (const group of this.offsets.groupIds()) {
      for (const [topic, parts] of this.offsets.groupOffsets(group)!) {
        for (const [partition, o] of parts) yield { kind: "offset", group, topic, partition, ...o, producerId: -1 };
      }
    }
    for (const p of this.offsets.pendingEntries()) yield { kind: "offset", group: p.group, topic: p.topic, partition: p.partition, ...p.offset, producerId: p.producerId };
  }

  private liveCount(): number {
    let n = this.groups.size;
    for (const group of this.offsets.groupIds()) for (const parts of this.offsets.groupOffsets(group)!.values()) n += parts.size;
    for (const _ of this.offsets.pendingEntries()) n++;
    return n;
  }

  /** Rewrites the log to the live state once dead records outweigh it. */
  maybeCompact(force = false): void {
    if (!this.log) return;
    const slack = this.config.compactionSlack;
    if (!force && this.log.appended <= Math.max(slack, this.compactCheckAt)) return;
    const live = this.liveCount();
    if (!force && this.log.appended <= 2 * live + slack) {
      this.compactCheckAt = 2 * live + slack;
      return;
    }
    this.log.rewrite(this.liveRecords());
    this.compactCheckAt = 0;
    this.logger.debug(`group log rewritten: ${live} live records`);
  }

  // ------------------------------------------------------------ MembershipHost

  classicGroup(groupId: string): ClassicGroup | undefined {
    const g = this.groups.get(groupId);
    return g instanceof ClassicGroup ? g : undefined;
  }

  anyGroup(groupId: string): Group | undefined {
    return this.groups.get(groupId);
  }

  groupForJoin(groupId: string, create: boolean): ClassicGroup | number {
    const g = this.groups.get(groupId);
    if (g instanceof ClassicGroup) return g;
    if (g) {
      // An empty group of another type turns classic (offsets are kept); a live one cannot be joined this way yet.
      if (!g.isEmpty()) return ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
      g.shutdown(ErrorCode.NOT_COORDINATOR);
      this.groups.delete(groupId);
    } else if (!create) return ErrorCode.UNKNOWN_MEMBER_ID;
    const fresh = new ClassicGroup(groupId, this.scheduler.now());
    this.groups.set(groupId, fresh);
    return fresh;
  }

  generationChanged(group: ClassicGroup): void {
    const r = group.toRecord();
    if (r) this.appendInBackground([r]);
  }

  debug(msg: string): void {
    this.logger.debug(msg);
  }

  // ------------------------------------------------------------ ConsumerMembershipHost

  topicView(): TopicView {
    return this.options.topics ?? NO_TOPICS;
  }

  consumerGroup(groupId: string, create: boolean): ConsumerGroup | number {
    const g = this.groups.get(groupId);
    if (g instanceof ConsumerGroup) return g;
    if (!create) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (g) {
      // An empty classic group (or one that only holds offsets) turns into a consumer group, offsets kept; a live one cannot.
      if (!(g instanceof ClassicGroup) || !g.isEmpty()) return ErrorCode.GROUP_ID_NOT_FOUND;
      this.classic.cancelTimers(g);
      g.shutdown(ErrorCode.NOT_COORDINATOR);
      this.groups.delete(groupId);
    }
    const fresh = new ConsumerGroup(groupId, this.scheduler.now());
    this.groups.set(groupId, fresh);
    return fresh;
  }

  /** Writes the group record of a KIP-848 consumer group or a share group (epoch or emptiness changed). */
  persist(group: Group): void {
    const r = group.toRecord();
    if (r && this.groups.get(group.groupId) === group) this.appendInBackground([r]);
  }

  // ------------------------------------------------------------ membership (consumer, KIP-848)

  consumerHeartbeat(req: ConsumerHeartbeatRequest): ConsumerHeartbeatResult {
    const fail = (errorCode: number): ConsumerHeartbeatResult => ({ errorCode, errorMessage: null, memberId: null, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null });
    if (!this.loaded) return fail(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    if (this.membershipStopped) return fail(ErrorCode.NOT_COORDINATOR);
    const r = this.consumer.heartbeat(req);
    if (r.errorCode === ErrorCode.GROUP_ID_NOT_FOUND && this.groups.has(req.groupId)) r.errorMessage = `Group ${req.groupId} is not a consumer group.`;
    return r;
  }

  describeConsumerGroups(groupIds: readonly string[]): DescribedConsumerGroup[] {
    const view = this.topicView();
    const named = (p: ReadonlyMap<string, ReadonlySet<number>>) =>
      [...p]
        .filter(([, s]) => s.size > 0)
        .map(([topicId, s]) => ({ topicId, topicName: view.byId(topicId)?.name ?? "", partitions: [...s].sort((a, b) => a - b) }));
    return groupIds.map((groupId): DescribedConsumerGroup => {
      const g = this.groups.get(groupId);
      if (!(g instanceof ConsumerGroup) || g.dead) {
        return {
          groupId,
          errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
          errorMessage: g ? `Group ${groupId} is not a consumer group.` : `Group ${groupId} not found.`,
          groupState: "Dead",
          groupEpoch: -1,
          assignmentEpoch: -1,
          assignorName: "",
          members: [],
        };
      }
      // Subscriptions may have changed with the topics since the last heartbeat.
      this.consumer.refreshSubscriptions(g);
      return {
        groupId,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        groupState: g.state(),
        groupEpoch: g.groupEpoch,
        assignmentEpoch: g.assignmentEpoch,
        assignorName: g.assignorName,
        members: [...g.members.values()].map((m) => ({
          memberId: m.memberId,
          instanceId: m.instanceId,
          rackId: m.rackId,
          memberEpoch: m.memberEpoch,
          clientId: m.clientId,
          clientHost: m.clientHost,
          subscribedTopicNames: [...m.subscribedTopicNames],
          subscribedTopicRegex: m.subscribedTopicRegex,
          assignment: named(m.assigned),
          targetAssignment: named(g.targetAssignment.get(m.memberId) ?? new Map()),
        })),
      };
    });
  }

  // ------------------------------------------------------------ membership (classic)

  join(req: JoinRequest): Promise<JoinResult> {
    if (this.membershipStopped) return Promise.resolve(joinError(ErrorCode.NOT_COORDINATOR, req.memberId));
    return this.classic.join(req);
  }

  sync(req: SyncRequest): Promise<SyncResult> {
    if (this.membershipStopped) return Promise.resolve(syncError(ErrorCode.NOT_COORDINATOR));
    return this.classic.sync(req);
  }

  heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    return this.classic.heartbeat(groupId, memberId, groupInstanceId, generationId);
  }

  leave(groupId: string, members: readonly LeaveMember[]): LeaveResult {
    return this.classic.leave(groupId, members);
  }

  // ------------------------------------------------------------ offsets

  /** Validates and stores the commits; resolves per item once durable. */
  async commitOffsets(req: OffsetCommitInfo, items: readonly OffsetCommitItem[]): Promise<number[]> {
    const all = (code: number) => items.map(() => code);
    if (!this.loaded) return all(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    let group = this.groups.get(req.groupId);
    if (!group) {
      // Generation -1 without a group: admin tools, MirrorMaker 2 and consumers without group management.
      if (req.generationIdOrMemberEpoch >= 0) return all(req.apiVersion >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION);
      group = this.ensureGroup(req.groupId, this.scheduler.now());
    }
    const error = group.validateOffsetCommit({ ...req, isTransactional: false });
    if (error !== ErrorCode.NONE) return all(error);
    if (group instanceof ClassicGroup) this.classic.onOffsetCommit(group, req.memberId);
    const now = this.scheduler.now();
    const expireTimestamp = req.retentionTimeMs === -1 ? -1 : now + req.retentionTimeMs;
    const records: LogRecord[] = [];
    const undo: (() => void)[] = [];
    const codes = items.map((it) => {
      const metadata = it.metadata ?? "";
      if (metadata.length > this.config.offsetMetadataMaxBytes) return ErrorCode.OFFSET_METADATA_TOO_LARGE;
      const o: CommittedOffset = { offset: it.offset, leaderEpoch: it.leaderEpoch, metadata, commitTimestamp: now, expireTimestamp };
      const before = this.offsets.get(req.groupId, it.topic, it.partition);
      this.offsets.put(req.groupId, it.topic, it.partition, o);
      undo.push(() => {
        if (this.offsets.get(req.groupId, it.topic, it.partition) !== o) return; // a later commit won
        if (before) this.offsets.put(req.groupId, it.topic, it.partition, before);
        else this.offsets.remove(req.groupId, it.topic, it.partition);
      });
      records.push({ kind: "offset", group: req.groupId, topic: it.topic, partition: it.partition, ...o, producerId: -1 });
      return ErrorCode.NONE;
    });
    return this.persisted(records, codes, () => {
      for (const u of undo) u();
    });
  }

  /** Stages a transaction's offsets (TxnOffsetCommit): invisible until completeTransaction commits them. */
  async commitTransactionalOffsets(req: TxnOffsetCommitInfo, items: readonly OffsetCommitItem[]): Promise<number[]> {
    const all = (code: number) => items.map(() => code);
    if (!this.loaded) return all(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    let group = this.groups.get(req.groupId);
    if (!group) {
      if (req.generationId >= 0) return all(ErrorCode.ILLEGAL_GENERATION);
      group = this.ensureGroup(req.groupId, this.scheduler.now());
    }
    const error = group.validateOffsetCommit({ ...req, generationIdOrMemberEpoch: req.generationId, isTransactional: true });
    if (error !== ErrorCode.NONE) return all(error === ErrorCode.STALE_MEMBER_EPOCH ? ErrorCode.ILLEGAL_GENERATION : error);
    const now = this.scheduler.now();
    const records: LogRecord[] = [];
    const codes = items.map((it) => {
      const metadata = it.metadata ?? "";
      if (metadata.length > this.config.offsetMetadataMaxBytes) return ErrorCode.OFFSET_METADATA_TOO_LARGE;
      const o: CommittedOffset = { offset: it.offset, leaderEpoch: it.leaderEpoch, metadata, commitTimestamp: now, expireTimestamp: -1 };
      this.offsets.stagePending(req.producerId, req.groupId, it.topic, it.partition, o);
      records.push({ kind: "offset", group: req.groupId, topic: it.topic, partition: it.partition, ...o, producerId: req.producerId });
      return ErrorCode.NONE;
    });
    return this.persisted(records, codes);
  }

  /** The end of a transaction that committed offsets for `groupId` (called by the transaction marker writer). */
  completeTransaction(groupId: string, producerId: number, commit: boolean): Promise<void> {
    if (!this.offsets.hasPendingForGroup(groupId)) return Promise.resolve();
    this.offsets.completePending(producerId, groupId, commit);
    return this.append([{ kind: "txn-end", group: groupId, producerId, commit }]);
  }

  /** Resolves once everything written so far is durable. */
  flushed(): Promise<void> {
    return this.log ? this.log.flushed() : Promise.resolve();
  }

  /** Writes `records`; when that fails, `undo` takes back what they changed in memory, so a refused commit is never read. */
  private async persisted(records: LogRecord[], codes: number[], undo?: () => void): Promise<number[]> {
    try {
      await this.append(records);
      return codes;
    } catch (e) {
      undo?.();
      this.logger.error(`group log write failed: ${(e as Error).message}`);
      // Kafka answers a failed write of the offsets log so: the client looks the coordinator up again and retries.
      return codes.map((c) => (c === ErrorCode.NONE ? ErrorCode.NOT_COORDINATOR : c));
    }
  }

  /**
   * Committed offsets of a group; `topics` null means all of them. A group
   * without commits, or no group at all, answers offset -1 and no error.
   */
  fetchOffsets(groupId: string, memberId: string | null, memberEpoch: number, topics: readonly { topic: string; partitions: readonly number[] }[] | null, requireStable: boolean): FetchedOffsets {
    if (!this.loaded) return { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, topics: [] };
    const group = this.groups.get(groupId);
    let none = !group;
    if (group) {
      const e = group.validateOffsetFetch(memberId, memberEpoch);
      if (e === ErrorCode.GROUP_ID_NOT_FOUND) none = true;
      else if (e !== ErrorCode.NONE) return { errorCode: e, topics: [] };
    }
    const stored = none ? undefined : this.offsets.groupOffsets(groupId);
    const answer = (topic: string, partition: number, o: CommittedOffset | undefined): FetchedPartition => {
      // Hook for transactions: a partition with offsets of an open transaction is unstable for require_stable readers.
      if (requireStable && !none && this.offsets.hasPending(groupId, topic, partition)) {
        return { partition, offset: -1n, leaderEpoch: -1, metadata: "", errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT };
      }
      const c = o ?? NO_OFFSET;
      return { partition, offset: c.offset, leaderEpoch: c.leaderEpoch, metadata: c.metadata, errorCode: ErrorCode.NONE };
    };
    if (topics === null) {
      const out: FetchedOffsets["topics"] = [];
      if (stored) for (const [topic, parts] of stored) out.push({ topic, partitions: [...parts].map(([p, o]) => answer(topic, p, o)) });
      return { errorCode: ErrorCode.NONE, topics: out };
    }
    return {
      errorCode: ErrorCode.NONE,
      topics: topics.map((t) => ({ topic: t.topic, partitions: t.partitions.map((p) => answer(t.topic, p, stored?.get(t.topic)?.get(p))) })),
    };
  }

  /** OffsetDelete: refuses topics the live group consumes (GROUP_SUBSCRIBED_TO_TOPIC), deletes the rest durably. */
  async deleteOffsets(groupId: string, topics: readonly { topic: string; partitions: readonly number[] }[]): Promise<OffsetDeleteResult> {
    if (!this.loaded) return { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, topics: [] };
    const group = this.groups.get(groupId);
    if (!group) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, topics: [] };
    const error = group.validateOffsetDelete();
    if (error !== ErrorCode.NONE) return { errorCode: error, topics: [] };
    const records: LogRecord[] = [];
    const out: OffsetDeleteResult["topics"] = topics.map((t) => {
      if (group.isSubscribedToTopic(t.topic)) return { topic: t.topic, partitions: t.partitions.map((partition) => ({ partition, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC })) };
      return {
        topic: t.topic,
        partitions: t.partitions.map((partition) => {
          if (this.offsets.removeEverywhere(groupId, t.topic, partition)) records.push({ kind: "offset-delete", group: groupId, topic: t.topic, partition });
          return { partition, errorCode: ErrorCode.NONE };
        }),
      };
    });
    try {
      await this.append(records);
    } catch (e) {
      this.logger.error(`group log write failed: ${(e as Error).message}`);
      return { errorCode: ErrorCode.NOT_COORDINATOR, topics: [] };
    }
    return { errorCode: ErrorCode.NONE, topics: out };
  }

  /** A deleted topic takes its committed offsets with it, in every group. */
  onTopicDeleted(topic: string): void {
    const records: LogRecord[] = [];
    for (const group of [...this.offsets.groupIds()]) {
      const parts = this.offsets.groupOffsets(group)?.get(topic);
      if (parts) for (const p of parts.keys()) records.push({ kind: "offset-delete", group, topic, partition: p });
    }
    for (const p of this.offsets.pendingEntries()) if (p.topic === topic) records.push({ kind: "offset-delete", group: p.group, topic, partition: p.partition });
    this.offsets.deleteTopic(topic);
    this.appendInBackground(records);
  }

  // ------------------------------------------------------------ admin

  listGroups(statesFilter: readonly string[], typesFilter: readonly string[]): ListedGroupInfo[] {
    const states = new Set(statesFilter.map((s) => s.trim().toLowerCase()));
    const types = new Set(typesFilter.map((s) => s.trim().toLowerCase()));
    const out: ListedGroupInfo[] = [];
    for (const g of this.groups.values()) {
      const state = g.stateName();
      if (state === "Dead") continue;
      if (states.size > 0 && !states.has(state.toLowerCase())) continue;
      if (types.size > 0 && !types.has(g.type)) continue;
      out.push({ groupId: g.groupId, protocolType: g.listedProtocolType(), groupState: state, groupType: g.type });
    }
    return out;
  }

  describeGroups(groupIds: readonly string[]): DescribedGroupInfo[] {
    return groupIds.map((groupId) => {
      const g = this.groups.get(groupId);
      if (!(g instanceof ClassicGroup)) {
        return {
          groupId,
          errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
          errorMessage: g ? `Group ${groupId} is not a classic group.` : `Group ${groupId} not found.`,
          groupState: "Dead",
          protocolType: "",
          protocolData: "",
          members: [],
        };
      }
      const stable = g.state === "Stable";
      return {
        groupId,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        groupState: g.state,
        protocolType: g.protocolType ?? "",
        // Kafka fills protocol, metadata and assignment in only once the group is Stable.
        protocolData: stable ? (g.protocolName ?? "") : "",
        members: [...g.members.values()].map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          memberMetadata: stable ? m.metadata(g.protocolName) : new Uint8Array(0),
          memberAssignment: stable ? m.assignment : new Uint8Array(0),
        })),
      };
    });
  }

  /** DeleteGroups: only empty groups go, with all their offsets. */
  async deleteGroups(groupIds: readonly string[]): Promise<{ groupId: string; errorCode: number }[]> {
    const records: LogRecord[] = [];
    const results = groupIds.map((groupId) => {
      if (!this.loaded) return { groupId, errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS };
      const g = this.groups.get(groupId);
      if (!g) return { groupId, errorCode: ErrorCode.GROUP_ID_NOT_FOUND };
      const error = g.validateDeleteGroup();
      if (error !== ErrorCode.NONE) return { groupId, errorCode: error };
      this.dropGroup(g);
      records.push({ kind: "group-delete", group: groupId });
      return { groupId, errorCode: ErrorCode.NONE };
    });
    try {
      await this.append(records);
    } catch (e) {
      this.logger.error(`group log write failed: ${(e as Error).message}`);
      return results.map((r) => (r.errorCode === ErrorCode.NONE ? { ...r, errorCode: ErrorCode.NOT_COORDINATOR } : r));
    }
    return results;
  }

  private dropGroup(g: Group): void {
    if (g instanceof ClassicGroup) {
      this.classic.cancelTimers(g);
      if (g.state !== "Dead") g.transitionTo("Dead", this.scheduler.now());
    }
    if (g instanceof ConsumerGroup) {
      this.consumer.cancelAllTimers(g);
      g.dead = true;
    }
    g.shutdown(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    this.groups.delete(g.groupId);
    this.offsets.deleteGroup(g.groupId);
  }

  // ------------------------------------------------------------ retention

  /**
   * The periodic offsets retention task: expires offsets (offsets.retention.minutes
   * after the group became empty, or after their commit for groups without a
   * protocol), then deletes empty groups that have no offsets left.
   */
  cleanup(now = this.scheduler.now()): void {
    if (!this.loaded || this.closed) return;
    const records: LogRecord[] = [];
    const topicExists = this.options.topicExists;
    if (topicExists) {
      const gone = new Set<string>();
      for (const group of this.offsets.groupIds()) for (const topic of this.offsets.groupOffsets(group)!.keys()) if (!topicExists(topic)) gone.add(topic);
      for (const topic of gone) this.onTopicDeleted(topic);
    }
    for (const g of [...this.groups.values()]) {
      const allExpired = this.expireOffsets(g, now, records);
      if (allExpired && !this.offsets.hasPendingForGroup(g.groupId) && g.isEmpty()) {
        this.dropGroup(g);
        records.push({ kind: "group-delete", group: g.groupId });
      }
    }
    if (records.length > 0) this.logger.debug(`offsets retention: ${records.length} records`);
    this.appendInBackground(records);
  }

  /** True when the group has no offsets left after expiring what is due. */
  private expireOffsets(g: Group, now: number, records: LogRecord[]): boolean {
    const stored = this.offsets.groupOffsets(g.groupId);
    if (!stored) return true;
    const base = g.offsetExpirationBase();
    if (!base) return false;
    const retention = this.config.offsetsRetentionMs;
    let allExpired = true;
    for (const [topic, parts] of [...stored]) {
      if (g.isSubscribedToTopic(topic)) {
        allExpired = false;
        continue;
      }
      for (const [partition, o] of [...parts]) {
        const expired = o.expireTimestamp >= 0 ? now >= o.expireTimestamp : now - base(o) >= retention;
        if (expired && !this.offsets.hasPending(g.groupId, topic, partition)) {
          this.offsets.remove(g.groupId, topic, partition);
          records.push({ kind: "offset-delete", group: g.groupId, topic, partition });
        } else allExpired = false;
      }
    }
    return allExpired;
  }

  // ------------------------------------------------------------ lifecycle

  /**
   * First step of a shutdown: parked JoinGroup/SyncGroup requests are answered
   * NOT_COORDINATOR (so connections drain) and new ones are turned away; offset
   * commits are still taken until close().
   */
  stopMembership(): void {
    if (this.membershipStopped) return;
    this.membershipStopped = true;
    this.scheduler.cancelAll();
    for (const g of this.groups.values()) g.shutdown(ErrorCode.NOT_COORDINATOR);
  }

  /** Answers parked requests with NOT_COORDINATOR, stops timers, makes the log durable and closes it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopMembership();
    if (this.log) await this.log.close();
  }
}
