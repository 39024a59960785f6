// Broker state and lifecycle: what handlers see (options, identity, topics,
// served API versions) and startBroker(), which opens the data dir, recovers
// the logs and starts listening.

import { resolve } from "node:path";
import { apis } from "../generated/index.ts";
import manifest from "../spec/apis.json";
import { DEFAULT_OPTIONS, MEMORY_DATA_DIR, superUserList, type BrokerOptions } from "./config.ts";
import { FlushScheduler } from "./log/partition-log.ts";
import { mountMemoryVolume, unmountMemoryVolume } from "./log/memory-volume.ts";
import { makeDir } from "./log/storage.ts";
import { setMaxOpenSealedSegments } from "./log/segment.ts";
import { loadClusterIdentity } from "./meta/cluster.ts";
import { TopicRegistry, type Topic } from "./meta/topics.ts";
import { listen, type Listening } from "./server/listener.ts";
import { isLoopback, parseListeners, usesSasl, usesTls, type ListenerSpec } from "./server/listeners.ts";
import { tlsOptions } from "./server/tls.ts";
import { Security } from "./auth/security.ts";
import { Authorizer } from "./acl/authorizer.ts";
import { AclStore } from "./acl/store.ts";
import { Logger } from "./util/logger.ts";
import { ProducerIdAllocator } from "./txn/producer-ids.ts";
import { TransactionCoordinator } from "./txn/coordinator.ts";
import { TxnStateStore } from "./txn/state-store.ts";
import { LogMarkerWriter } from "./txn/markers.ts";
import { GroupCoordinator, RETENTION_CHECK_INTERVAL_MS } from "./groups/coordinator.ts";
import { ShareCoordinator } from "./share/coordinator.ts";
import type { TopicInfo, TopicView } from "./groups/topic-view.ts";
import { LogCleaner } from "./log/cleaner-scheduler.ts";
import { compactedPartitions } from "./meta/clean-targets.ts";

/** How often the recovery-point checkpoint is brought up to date (Kafka: log.flush.offset.checkpoint.interval.ms, 60 s). */
const RECOVERY_POINT_INTERVAL_MS = 5000;
/** Longest stretch of cleaning between two turns of the event loop: produce and fetch wait at most about this long for it. */
const CLEANER_SLICE_MS = 2;
import { BrokerMetrics } from "./metrics/broker-metrics.ts";
import { RequestMemory } from "./server/request-memory.ts";
import { ConnectionLimits } from "./server/limits.ts";
import { QuotaStore } from "./quota/store.ts";
import { ClientQuotaManager } from "./quota/manager.ts";
import { serveHttp, type HttpEndpoint } from "./metrics/http.ts";

/** Kafka's producer.id.expiration.ms default: idle idempotent producers are forgotten after a day. */
const PRODUCER_ID_EXPIRATION_MS = 86_400_000;

export interface ServedApi {
  key: number;
  min: number;
  max: number;
  /** What ApiVersions advertises as the minimum (below `min` only where Kafka does the same). */
  advertisedMin: number;
}

export interface Feature {
  name: string;
  minVersion: number;
  maxVersion: number;
  /** The level in force, advertised as finalized. */
  level: number;
}

/** The manifest in spec/apis.json, checked against what the generated codecs allow. */
export function loadServedApis(): Map<number, ServedApi> {
  const served = new Map<number, ServedApi>();
  for (const a of manifest.apis) {
    const info = apis.get(a.key);
    if (!info || !info.validVersions || info.stableMaxVersion === null) throw new Error(`spec/apis.json: api ${a.key} is not in the generated index`);
    if (a.min < info.validVersions.min || a.max > info.stableMaxVersion || a.min > a.max) {
      throw new Error(`spec/apis.json: ${a.name} ${a.min}-${a.max} is outside Kafka's stable ${info.validVersions.min}-${info.stableMaxVersion}`);
    }
    const advertisedMin = "advertisedMin" in a && typeof a.advertisedMin === "number" ? a.advertisedMin : a.min;
    served.set(a.key, { key: a.key, min: a.min, max: a.max, advertisedMin });
  }
  return served;
}

/** What consumer groups see of the topic registry: names, ids, partition counts. */
function topicView(registry: TopicRegistry): TopicView {
  const info = (t: Topic | undefined): TopicInfo | undefined => (t ? { name: t.name, id: t.id, partitions: t.partitions.length, internal: t.internal } : undefined);
  return {
    byName: (name) => info(registry.get(name)),
    byId: (id) => info(registry.getById(id)),
    *all() {
      for (const t of registry.all()) yield info(t)!;
    },
  };
}

function newAuthorizer(options: BrokerOptions): Authorizer {
  const store = new AclStore(options.dataDir);
  store.load();
  return new Authorizer(store, { superUsers: superUserList(options.superUsers), allowEveryoneIfNoAclFound: options.allowEveryoneIfNoAclFound });
}

export class Broker {
  readonly log: Logger;
  readonly served = loadServedApis();
  readonly features: Feature[] = manifest.features as Feature[];
  readonly flusher = new FlushScheduler();
  readonly topics: TopicRegistry;
  readonly clusterId: string;
  readonly nodeId: number;
  readonly txnStore: TxnStateStore;
  readonly producerIds: ProducerIdAllocator;
  readonly markers: LogMarkerWriter;
  readonly transactions: TransactionCoordinator;
  readonly groups: GroupCoordinator;
  readonly share: ShareCoordinator;
  readonly cleaner: LogCleaner;
  readonly metrics = new BrokerMetrics(this);
  readonly requestMemory: RequestMemory;
  readonly connectionLimits: ConnectionLimits;
  readonly quotaStore: QuotaStore;
  readonly quotas: ClientQuotaManager;
  readonly security: Security;
  /** null without --authorizer: every request is allowed and the ACL APIs answer SECURITY_DISABLED. */
  readonly authorizer: Authorizer | null;
  /** Set at shutdown: long polls answer at once instead of waiting out max_wait_ms. */
  closing = false;
  advertisedHost = "localhost";
  advertisedPort = 9092;
  /** Each listener's advertised address, by listener name; the first listener's is advertisedHost/Port. */
  readonly advertisedByListener = new Map<string, { host: string; port: number }>();
  private readonly timers: ReturnType<typeof setInterval>[] = [];

  constructor(readonly options: BrokerOptions) {
    this.log = new Logger(options.logLevel, options.logFormat);
    makeDir(options.dataDir);
    setMaxOpenSealedSegments(options.maxOpenSegmentFiles ?? DEFAULT_OPTIONS.maxOpenSegmentFiles);
    const identity = loadClusterIdentity(options.dataDir, options.nodeId);
    this.clusterId = identity.clusterId;
    this.nodeId = identity.nodeId;
    this.requestMemory = new RequestMemory(options.queuedMaxRequestBytes);
    this.connectionLimits = new ConnectionLimits(options);
    this.quotaStore = new QuotaStore(options.dataDir);
    this.quotaStore.load();
    this.quotas = new ClientQuotaManager(this.quotaStore);
    this.security = new Security(options, this.log);
    this.authorizer = options.authorizer ? newAuthorizer(options) : null;
    this.topics = new TopicRegistry(options, this.flusher);
    this.topics.load();
    const warn = (msg: string) => this.log.warn(msg);
    this.txnStore = new TxnStateStore(options.dataDir, { fsync: options.fsync, flusher: this.flusher, warn });
    this.producerIds = new ProducerIdAllocator(this.txnStore);
    this.markers = new LogMarkerWriter(this.topics);
    this.transactions = new TransactionCoordinator(this.txnStore, this.producerIds, this.markers, {
      maxTimeoutMs: options.transactionMaxTimeoutMs,
      idExpirationMs: options.transactionalIdExpirationMs,
      warn,
    });
    this.groups = new GroupCoordinator({
      dataDir: options.dataDir,
      fsync: options.fsync,
      flusher: this.flusher,
      logger: this.log,
      config: {
        initialRebalanceDelayMs: options.groupInitialRebalanceDelayMs,
        consumerHeartbeatIntervalMs: options.groupConsumerHeartbeatIntervalMs,
        consumerSessionTimeoutMs: options.groupConsumerSessionTimeoutMs,
      },
      topicExists: (t) => this.topics.get(t) !== undefined,
      topics: topicView(this.topics),
    });
    this.share = new ShareCoordinator({
      dataDir: options.dataDir,
      fsync: options.fsync,
      flusher: this.flusher,
      logger: this.log,
      groups: this.groups,
      topics: this.topics,
      defaults: {
        lockDurationMs: options.groupShareRecordLockDurationMs,
        deliveryCountLimit: options.groupShareDeliveryCountLimit,
        maxRecordLocks: options.groupSharePartitionMaxRecordLocks,
        autoOffsetReset: "latest",
        isolationLevel: "read_uncommitted",
        sessionTimeoutMs: options.groupConsumerSessionTimeoutMs,
        heartbeatIntervalMs: options.groupConsumerHeartbeatIntervalMs,
      },
      maxSessions: 2000,
    });
    this.share.load();
    this.groups.load();
    this.markers.onOffsets = (group, pid, commit) =>
      this.groups
        .completeTransaction(group, pid, commit)
        .then(() => this.groups.flushed())
        .catch((e) => this.log.error(`group offsets of transaction ${pid}: ${e}`));
    this.every(RETENTION_CHECK_INTERVAL_MS, () => this.groups.cleanup());
    this.every(1000, () => {
      this.transactions.abortExpired();
      this.transactions.expireIdle();
    });
    this.every(options.logRetentionCheckIntervalMs, () => this.applyRetention());
    this.every(RECOVERY_POINT_INTERVAL_MS, () => this.topics.writeRecoveryPoints());
    this.cleaner = new LogCleaner({
      backoffMs: options.logCleanerBackoffMs,
      mapBudgetBytes: options.logCleanerDedupeBufferSize,
      sliceMs: CLEANER_SLICE_MS,
      targets: () => compactedPartitions(this.topics, options),
      logger: this.log,
    });
    if (options.logCleanerEnable) this.cleaner.start();
  }

  /** Where a client should connect to: the advertised address of the listener its connection came in on. */
  advertisedFor(connectionId: number): { host: string; port: number } {
    const name = this.security.of(connectionId)?.listener.name;
    return (name !== undefined ? this.advertisedByListener.get(name) : undefined) ?? { host: this.advertisedHost, port: this.advertisedPort };
  }

  /** A periodic task that never keeps the process alive by itself. */
  every(ms: number, fn: () => void): void {
    const t = setInterval(() => {
      try {
        fn();
      } catch (e) {
        this.log.error(`periodic task failed: ${(e as Error).stack ?? e}`);
      }
    }, ms);
    t.unref?.();
    this.timers.push(t);
  }

  applyRetention(now = Date.now()): void {
    for (const t of this.topics.all()) {
      for (const p of t.partitions) {
        const deleted = p.log.applyRetention(now);
        this.metrics.retentionSegmentsDeleted += deleted.segments;
        this.metrics.retentionBytesDeleted += deleted.bytes;
        p.txn.producers.expire(now, PRODUCER_ID_EXPIRATION_MS);
      }
    }
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.connectionLimits.stop();
    await this.cleaner.stop();
    await this.share.close();
    await this.groups.close();
    await this.txnStore.close();
    await this.flusher.flushAllNow();
    this.topics.close();
    await this.flusher.close();
  }
}

export interface RunningBroker {
  broker: Broker;
  host: string;
  port: number;
  /** Every listener, in --listen order, with the port it got. */
  listeners: { name: string; protocol: string; host: string; port: number }[];
  /** Where --http-listen serves, when set. */
  httpPort: number | null;
  /** Graceful: stop accepting, let in-flight requests finish (bounded), fsync, close. */
  close(): Promise<void>;
}

export async function startBroker(partial: Partial<BrokerOptions> = {}): Promise<RunningBroker> {
  const options: BrokerOptions = { ...DEFAULT_OPTIONS, ...partial };
  const volume = options.memory || options.dataDir === MEMORY_DATA_DIR ? mountMemoryVolume() : null;
  options.dataDir = volume ? volume.root : resolve(options.dataDir);
  let broker: Broker;
  try {
    broker = new Broker(options);
  } catch (e) {
    if (volume) unmountMemoryVolume(volume.root);
    throw e;
  }
  const all: Listening[] = [];
  try {
    const specs = parseListeners(options);
    const tls = specs.some((s) => usesTls(s.protocol)) ? tlsOptions(options) : undefined;
    await broker.security.addBootstrapUsers();
    // Transactions a crash left half-ended are finished before any client can see the partitions.
    await broker.transactions.recover();
    for (const spec of specs) all.push(listen(broker, spec, usesTls(spec.protocol) ? tls : undefined));
  } catch (e) {
    for (const l of all) l.closeAll();
    await broker.close();
    if (volume) unmountMemoryVolume(volume.root);
    throw e;
  }
  for (const l of all) {
    const adv = advertisedAddress(l.spec, l.port);
    broker.advertisedByListener.set(l.spec.name, adv);
    if (!usesSasl(l.spec.protocol) && !(l.spec.protocol === "SSL" && options.tlsClientAuth === "required") && !isLoopback(l.host)) {
      broker.log.warn(
        `listener ${l.spec.name}://${l.host.includes(":") ? `[${l.host}]` : l.host}:${l.port} accepts connections without authentication on a non-loopback address: anyone who can reach it can read, write and delete every topic`,
      );
    }
  }
  const listening = all[0]!;
  const { host } = listening;
  ({ host: broker.advertisedHost, port: broker.advertisedPort } = broker.advertisedByListener.get(listening.spec.name)!);
  let http: HttpEndpoint | null = null;
  if (options.httpListen) {
    try {
      http = serveHttp(broker, options.httpListen);
    } catch (e) {
      for (const l of all) {
        l.stopAccepting();
        l.closeAll();
      }
      await broker.close();
      if (volume) unmountMemoryVolume(volume.root);
      throw e;
    }
  }
  let closing: Promise<void> | null = null;
  return {
    broker,
    host: host === "" ? "::" : host,
    port: listening.port,
    listeners: all.map((l) => ({ name: l.spec.name, protocol: l.spec.protocol, host: l.host, port: l.port })),
    httpPort: http?.port ?? null,
    close() {
      closing ??= (async () => {
        http?.stop();
        for (const l of all) l.stopAccepting();
        broker.closing = true;
        for (const t of broker.topics.all()) for (const p of t.partitions) p.wake();
        broker.groups.stopMembership();
        const deadline = Date.now() + 5000;
        while (Date.now() < deadline && all.some((l) => [...l.connections].some((c) => !c.idle))) await Bun.sleep(5);
        await broker.close();
        for (const l of all) l.closeAll();
        if (volume) unmountMemoryVolume(volume.root);
      })();
      return closing;
    },
  };
}

/** --advertised-addr of the listener, or where it listens (localhost for every interface). */
function advertisedAddress(spec: ListenerSpec, port: number): { host: string; port: number } {
  if (spec.advertised) return { host: spec.advertised.host || "localhost", port: spec.advertised.port || port };
  const host = spec.host === "" || spec.host === "::" || spec.host === "0.0.0.0" ? "localhost" : spec.host;
  return { host, port };
}
