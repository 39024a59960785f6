// One mirroring session: topics found on the source are created on the
// target, each partition's position is worked out from what the target holds,
// then batches flow source → target: one read_committed Fetch per source
// broker at a time for all of its partitions, each answer's batches queued
// to the TargetWriter at once, and the next Fetch sent while they are being
// produced. Topics and partitions are looked at again every refreshMs.
//
// Positions, per partition:
// - identity (a klite target whose partition was empty when mirroring began):
//   every batch goes to its source offset, gaps included, so target offsets
//   equal source offsets and the target's log end is the next source offset.
// - map (a Kafka target, or a target partition that already had records): the
//   target assigns offsets; an offset sync (source next, target next) is
//   saved to the progress topic after each acknowledged round. On start the
//   records the target holds past the last sync are matched against the
//   source batches they came from, so a crash between the two writes neither
//   skips nor duplicates.
// Any error ends the session; the caller starts a new one.

import { Fetch, InitProducerId } from "../client/apis.ts";
import { EARLIEST, LATEST, KafkaClient, type TopicInfo } from "../client/client.ts";
import { check, KafkaError } from "../client/errors.ts";
import { fetchedBatches } from "../client/fetched.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { batchForTarget, copied, targetSpan } from "./batch-copy.ts";
import { syncGroupOffsets } from "./groups.ts";
import type { MirrorOptions } from "./options.ts";
import { ProgressStore, progressKey, type CopyMode, type ProgressEntry } from "./progress.ts";
import { copiedConfigs, ensureTargetTopic, sourceTopics } from "./topics.ts";
import { TargetWriter, type OutgoingBatch, type WriterPartition } from "./target-writer.ts";

/** Offset syncs kept per partition for translating group offsets. */
const SYNCS_KEPT = 1000;

export interface PartitionState extends WriterPartition {
  mode: CopyMode;
  sourceLeader: number;
  /** Next source offset to fetch. */
  next: bigint;
  /** Source offset up to which the target has acknowledged everything. */
  acked: bigint;
  /** The source's last stable offset at the last fetch (-1 before the first). */
  sourceEnd: bigint;
  /** map: the target offset the next acknowledged batch starts at. */
  targetNext: bigint;
  seq: number;
  /** map: recent (source offset, target offset) pairs, oldest first. */
  syncs: [bigint, bigint][];
}

/** Per partition lag, for --status, /metrics and --once. */
export interface PartitionLag {
  topic: string;
  partition: number;
  mode: CopyMode;
  sourceEnd: bigint;
  mirrored: bigint;
  lag: bigint;
}

export interface MirrorEvents {
  log(line: string): void;
}

export class MirrorSession {
  readonly source: KafkaClient;
  readonly target: KafkaClient;
  readonly parts = new Map<string, PartitionState>();
  private readonly progress: ProgressStore;
  private readonly writer: TargetWriter;
  private cluster = "";
  private producer = { producerId: -1, producerEpoch: -1 };
  private readonly dirty = new Map<string, ProgressEntry>();
  private stopping = false;
  private lastRefresh = 0;

  constructor(
    private readonly o: MirrorOptions,
    private readonly events: MirrorEvents,
  ) {
    this.source = new KafkaClient(o.source, o.sourceConfig.clientId);
    this.target = new KafkaClient(o.target, o.targetConfig.clientId);
    this.progress = new ProgressStore(this.target, o.progressTopic);
    this.writer = new TargetWriter(this.target, o.targetConfig.maxInFlight, (p, b, base) => this.acked(p as PartitionState, b, base));
  }

  get bytesWritten(): number {
    return this.writer.bytesWritten;
  }

  get recordsWritten(): number {
    return this.writer.recordsWritten;
  }

  stop(): void {
    this.stopping = true;
  }

  /** After a failure: lets produce requests already sent get their answers before the next session reads the target. */
  settle(ms = 30_000): Promise<void> {
    return this.writer.settle(ms);
  }

  close(): void {
    this.source.close();
    this.target.close();
  }

  lags(): PartitionLag[] {
    return [...this.parts.values()].map((p) => {
      const mirrored = p.queue.length === 0 && p.sending === 0 ? p.next : p.acked;
      return { topic: p.topic, partition: p.partition, mode: p.mode, sourceEnd: p.sourceEnd, mirrored, lag: p.sourceEnd < 0n ? -1n : p.sourceEnd > mirrored ? p.sourceEnd - mirrored : 0n };
    });
  }

  /** Every partition fetched at least once and copied up to the source's last stable offset. */
  caughtUp(): boolean {
    return this.lags().every((l) => l.lag === 0n);
  }

  /** Runs until stopped (or, with --once, until caught up); throws on any error. */
  async run(): Promise<void> {
    this.cluster = (await this.source.metadata([])).clusterId ?? "source";
    await this.progress.load();
    const pid = await (await this.target.anyBroker()).send(InitProducerId, null, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
    check(pid.errorCode, "InitProducerId");
    this.producer = { producerId: Number(pid.producerId), producerEpoch: pid.producerEpoch };
    await this.refresh();
    const fetching = new Map<number, Promise<void>>();
    let fetchError: Error | null = null;
    for (;;) {
      if (fetchError) throw fetchError;
      if (this.writer.error) throw this.writer.error;
      if (Date.now() - this.lastRefresh >= this.o.refreshMs) await this.refresh();
      if ((this.o.once && this.caughtUp()) || this.stopping) {
        await Promise.all(fetching.values());
        await this.drain();
        if (this.o.syncGroupOffsets) await this.syncGroups();
        return;
      }
      // Back-pressure: fetch more only while the target keeps up.
      if (this.writer.backlog > this.o.targetConfig.maxInFlight * Math.max(1, this.parts.size)) {
        await this.writer.changed();
        continue;
      }
      const leaders = new Set([...this.parts.values()].map((p) => p.sourceLeader));
      for (const l of leaders) {
        if (fetching.has(l)) continue;
        const round = this.fetchRound(l)
          .catch((e: Error) => void (fetchError ??= e))
          .finally(() => fetching.delete(l));
        fetching.set(l, round);
      }
      if (fetching.size === 0) {
        await Bun.sleep(Math.min(this.o.refreshMs, 200));
        continue;
      }
      await Promise.race([...fetching.values(), this.writer.changed()]);
    }
  }

  /** Waits until every queued batch is acknowledged, then saves the offset syncs. */
  async drain(): Promise<void> {
    while (this.writer.backlog > 0) {
      if (this.writer.error) throw this.writer.error;
      await this.writer.changed();
    }
    if (this.writer.error) throw this.writer.error;
    await this.saveProgress();
  }

  private async saveProgress(): Promise<void> {
    const updates = new Map(this.dirty);
    this.dirty.clear();
    await this.progress.save(updates);
  }

  /** Finds new topics and partitions, creates them on the target, and copies group offsets. */
  private async refresh(): Promise<void> {
    this.lastRefresh = Date.now();
    const topics = await sourceTopics(this.source, this.o);
    const grown = topics.filter((t) => t.partitions.some((p) => !this.parts.has(`${t.name}-${p.partition}`)));
    if (grown.length) {
      const configs = await copiedConfigs(this.source, grown.map((t) => t.name));
      for (const t of grown) await this.addTopic(t, configs.get(t.name) ?? []);
    }
    if (this.dirty.size) await this.saveProgress();
    if (this.o.syncGroupOffsets) await this.syncGroups();
  }

  private async addTopic(t: TopicInfo, configs: [string, string][]): Promise<void> {
    const { info, preserving } = await ensureTargetTopic(this.target, t.name, t.partitions.length, configs);
    const fresh = t.partitions.filter((p) => !this.parts.has(`${t.name}-${p.partition}`));
    const ps = fresh.map((p) => p.partition);
    const [targetEnds, sourceStarts] = await Promise.all([this.target.listOffsets(info, ps, LATEST), this.source.listOffsets(t, ps, EARLIEST)]);
    const modes: string[] = [];
    for (const sp of fresh) {
      const key = progressKey(this.cluster, t.name, sp.partition);
      const targetEnd = targetEnds.get(sp.partition)!;
      const saved = this.progress.entries.get(key);
      let entry: ProgressEntry;
      if (saved) entry = saved;
      else if (preserving && targetEnd === 0n) entry = { mode: "identity", source: 0n, target: 0n };
      else entry = { mode: "map", source: sourceStarts.get(sp.partition)!, target: targetEnd };
      if (!saved) this.dirty.set(key, entry);
      const tp = info.partitions.find((x) => x.partition === sp.partition)!;
      const state: PartitionState = {
        topic: t.name,
        partition: sp.partition,
        targetLeader: tp.leader,
        sourceLeader: sp.leader,
        queue: [],
        sending: 0,
        mode: entry.mode,
        next: entry.mode === "identity" ? targetEnd : entry.source,
        acked: 0n,
        sourceEnd: -1n,
        targetNext: entry.mode === "identity" ? targetEnd : entry.target,
        seq: 0,
        syncs: [],
      };
      if (entry.mode === "map" && targetEnd !== entry.target) await this.reconcile(state, targetEnd);
      state.acked = state.next;
      if (state.mode === "map") state.syncs.push([state.next, state.targetNext]);
      this.parts.set(`${t.name}-${sp.partition}`, state);
      modes.push(state.mode);
    }
    const identity = modes.filter((m) => m === "identity").length;
    this.events.log(`mirroring ${t.name}: ${t.partitions.length} partition(s)${fresh.length < t.partitions.length ? ` (${fresh.length} new)` : ""}, ${identity === modes.length ? "offsets preserved" : identity === 0 ? "offsets translated" : `${identity} preserving offsets, ${modes.length - identity} translated`}`);
  }

  /**
   * map mode after a crash: the target holds records past the last offset sync.
   * They are the copies of the source batches after the sync's source offset,
   * in order, one target offset per record: walk the source until they are
   * accounted for.
   */
  private async reconcile(s: PartitionState, targetEnd: bigint): Promise<void> {
    if (targetEnd < s.targetNext) throw new Error(`${s.topic}-${s.partition}: the target log ends at ${targetEnd}, before the last offset sync (${s.targetNext}): it was truncated or recreated; delete the mirror's progress for it to copy again`);
    while (s.targetNext < targetEnd) {
      const res = await this.fetchRaw(s.sourceLeader, [s]);
      const pd = res[0];
      if (!pd || pd.records === null || pd.records.length === 0) throw new Error(`${s.topic}-${s.partition}: the target holds ${targetEnd - s.targetNext} records the source does not have after offset ${s.next}`);
      for (const b of fetchedBatches(pd.records, pd.abortedTransactions)) {
        const last = BigInt(b.header.baseOffset + b.header.lastOffsetDelta);
        if (last < s.next) continue;
        if (copied(b)) s.targetNext += BigInt(b.header.recordCount);
        s.next = last + 1n;
        if (s.targetNext === targetEnd) break;
        if (s.targetNext > targetEnd) throw new Error(`${s.topic}-${s.partition}: the target's records past the last offset sync do not line up with the source batches`);
      }
    }
    this.dirty.set(progressKey(this.cluster, s.topic, s.partition), { mode: "map", source: s.next, target: s.targetNext });
  }

  private async fetchRaw(leader: number, parts: PartitionState[]) {
    const conn = await this.source.broker(leader);
    const byTopic = new Map<string, PartitionState[]>();
    for (const p of parts) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p]);
    const sc = this.o.sourceConfig;
    const res = await conn.send(Fetch, null, {
      replicaId: -1,
      maxWaitMs: sc.fetchMaxWaitMs,
      minBytes: 1,
      maxBytes: sc.fetchMaxBytes,
      isolationLevel: 1,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [...byTopic].map(([topic, ps]) => ({
        topic,
        partitions: ps.map((p) => ({ partition: p.partition, fetchOffset: p.next, partitionMaxBytes: sc.partitionMaxBytes, currentLeaderEpoch: -1, logStartOffset: -1n })),
      })),
      forgottenTopicsData: [],
      rackId: "",
    });
    check(res.errorCode, "Fetch");
    const out = [];
    for (const t of res.responses) for (const pd of t.partitions) out.push({ ...pd, topic: t.topic });
    return out;
  }

  private async fetchRound(leader: number): Promise<void> {
    const parts = [...this.parts.values()].filter((p) => p.sourceLeader === leader);
    const answers = await this.fetchRaw(leader, parts);
    for (const pd of answers) {
      const s = this.parts.get(`${pd.topic}-${pd.partitionIndex}`);
      if (!s) continue;
      if (pd.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
        // Retention removed what was not copied yet: go on from the source's log start.
        const start = (await this.source.listOffsets(await this.source.topic(s.topic), [s.partition], EARLIEST)).get(s.partition)!;
        if (start <= s.next) throw new KafkaError(pd.errorCode, `Fetch ${s.topic}-${s.partition} at ${s.next}`);
        this.events.log(`${s.topic}-${s.partition}: offsets ${s.next} to ${start - 1n} are gone from the source (retention); going on from ${start}`);
        s.next = start;
        if (s.queue.length === 0 && s.sending === 0) s.acked = start;
        continue;
      }
      check(pd.errorCode, `Fetch ${s.topic}-${s.partition} at ${s.next}`);
      s.sourceEnd = pd.lastStableOffset >= 0n ? pd.lastStableOffset : pd.highWatermark;
      const placed = s.mode === "identity";
      for (const b of fetchedBatches(pd.records, pd.abortedTransactions)) {
        const h = b.header;
        const last = BigInt(h.baseOffset + h.lastOffsetDelta);
        if (last < s.next) continue;
        if (placed && copied(b) && BigInt(h.baseOffset) < s.next) {
          // The target's log end fell inside a source batch: something else wrote to the target partition.
          throw new Error(`${s.topic}-${s.partition}: the target log end (${s.next}) lies inside source batch ${h.baseOffset}-${last}: records the mirror did not write are on the target, so offsets cannot be preserved there`);
        }
        s.next = last + 1n;
        if (!copied(b)) continue;
        const bytes = batchForTarget(b, placed, { ...this.producer, baseSequence: s.seq });
        s.seq = (s.seq + targetSpan(h, placed)) % 2 ** 31;
        this.writer.push(s, { bytes, sourceNext: s.next, records: h.recordCount } satisfies OutgoingBatch);
      }
    }
    this.writer.pump();
  }

  private acked(s: PartitionState, b: OutgoingBatch, targetBase: bigint): void {
    s.acked = b.sourceNext;
    if (s.mode !== "map") return;
    s.targetNext = targetBase + BigInt(b.records);
    s.syncs.push([b.sourceNext, s.targetNext]);
    if (s.syncs.length > SYNCS_KEPT) s.syncs.shift();
    this.dirty.set(progressKey(this.cluster, s.topic, s.partition), { mode: "map", source: b.sourceNext, target: s.targetNext });
  }

  /** A source offset as a target offset, or null when it is not mirrored yet (or too old to translate). */
  translate(topic: string, partition: number, offset: bigint): bigint | null {
    const s = this.parts.get(`${topic}-${partition}`);
    if (!s) return null;
    const mirrored = s.queue.length === 0 && s.sending === 0 ? s.next : s.acked;
    if (offset > mirrored) return null;
    if (s.mode === "identity") return offset;
    // The latest sync at or before the offset: a consumer resuming there re-reads at most one batch, as with MM2.
    let best: [bigint, bigint] | null = null;
    for (const sync of s.syncs) if (sync[0] <= offset) best = sync;
    if (!best) return null;
    return best[1];
  }

  private async syncGroups(): Promise<void> {
    await syncGroupOffsets(this.source, this.target, this.o.groups, (t, p, off) => this.translate(t, p, off), this.events);
  }
}
