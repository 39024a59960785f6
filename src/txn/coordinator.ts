// The transaction coordinator: transactional id → producer id/epoch, state,
// and the partitions and groups of the open transaction. Ending a transaction
// is Kafka's two phases, each step durable before the next: the
// PrepareCommit/PrepareAbort state, then the commit/abort markers in every
// partition of the transaction (and the outcome of its group offsets), then
// the Complete state. After a crash, start-up finishes every transaction
// found in a Prepare state (recover()), so none stays half-ended. State goes
// to the transaction state log (state-store.ts), fsynced in the broker's
// group-commit rounds; the timeout sweep aborts abandoned transactions and
// idle transactional ids expire as in Kafka.

import { ErrorCode } from "../protocol/errors.ts";
import { failpoint } from "../util/failpoint.ts";
import type { ProducerIdAllocator } from "./producer-ids.ts";
import type { TxnStateStore } from "./state-store.ts";

export type TxnState = "Empty" | "Ongoing" | "PrepareCommit" | "PrepareAbort" | "CompleteCommit" | "CompleteAbort";

export interface TxnMeta {
  transactionalId: string;
  producerId: number;
  /** Previous producer id after a rotation (epoch exhaustion); lets a retried InitProducerId be recognised. */
  prevProducerId: number;
  epoch: number;
  timeoutMs: number;
  state: TxnState;
  /** "topic\u0000partition" keys. */
  partitions: string[];
  groups: string[];
  startTimestamp: number;
  lastUpdate: number;
  /** 2 when the producer uses transactions v2 (EndTxn v5+: epoch bumped at every end). */
  version: number;
  /** In a Prepare state: bump the epoch once the markers are written (a v2 EndTxn), also when recovery finishes it. */
  bumpAtEnd: boolean;
}

/** A transaction a partition holds open (it holds back the partition's last stable offset). */
export interface OpenPartitionTxn {
  topic: string;
  partition: number;
  producerId: number;
  /** The producer's epoch as the partition last saw it. */
  epoch: number;
}

export interface MarkerWriter {
  /**
   * Appends a COMMIT or ABORT control batch for (producerId, epoch) to one
   * partition; false when the partition's log failed (a write or fsync error:
   * it takes nothing until restart) and the marker is not written.
   */
  writeMarker(topic: string, partition: number, producerId: number, epoch: number, commit: boolean): boolean;
  /** Makes the transaction's pending offset commits for `group` visible (commit) or drops them (abort). */
  completeOffsets(group: string, producerId: number, commit: boolean): void;
  /**
   * Resolves once the markers written so far to `partitions` (partition keys)
   * and the offsets completed so far are durable, to the keys of those whose
   * log failed instead (their marker may be lost).
   */
  flush(partitions: readonly string[]): Promise<string[]>;
  /** Does the partition hold a transaction of this producer open (no marker yet)? */
  isOpen(topic: string, partition: number, producerId: number): boolean;
  /** Every transaction some partition holds open. */
  openTransactions(): OpenPartitionTxn[];
}

export const MAX_EPOCH = 32766; // Short.MAX_VALUE - 1: the last epoch that can still be bumped

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
export function splitPartitionKey(k: string): [string, number] {
  const i = k.indexOf("\u0000");
  return [k.slice(0, i), Number(k.slice(i + 1))];
}

export type TxnResult<T> = { errorCode: number } & Partial<T>;

function isPrepare(s: TxnState): boolean {
  return s === "PrepareCommit" || s === "PrepareAbort";
}

export interface CoordinatorOptions {
  maxTimeoutMs: number;
  /** Kafka's transactional.id.expiration.ms: ids idle (and not in a transaction) longer than this are removed. */
  idExpirationMs: number;
  warn?: (msg: string) => void;
  now?: () => number;
}

export class TransactionCoordinator {
  private readonly txns = new Map<string, TxnMeta>();
  private readonly now: () => number;
  private readonly warn: (msg: string) => void;
  private lastExpiryScan = 0;

  constructor(
    private readonly store: TxnStateStore,
    private readonly ids: ProducerIdAllocator,
    private readonly markers: MarkerWriter,
    private readonly options: CoordinatorOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.warn = options.warn ?? (() => {});
    for (const t of store.loadedTxns()) this.txns.set(t.transactionalId, t);
  }

  get(transactionalId: string): TxnMeta | undefined {
    return this.txns.get(transactionalId);
  }
  all(): IterableIterator<TxnMeta> {
    return this.txns.values();
  }

  /** Resolves once every state change so far is durable. */
  durable(): Promise<void> {
    return this.store.flushed();
  }

  private save(t: TxnMeta): Promise<void> {
    t.lastUpdate = this.now();
    return this.store.saveTxn(t);
  }

  /**
   * Ends the open transaction, each step durable before the next: the Prepare
   * state, the markers and group offsets, then the Complete state. A crash at
   * any point leaves either nothing ended (the transaction stays Ongoing and
   * its timeout or producer ends it) or a Prepare state that recover() finishes.
   */
  private async end(t: TxnMeta, commit: boolean, bumpAtEnd: boolean): Promise<void> {
    t.state = commit ? "PrepareCommit" : "PrepareAbort";
    t.bumpAtEnd = bumpAtEnd;
    await this.save(t);
    failpoint("txn.after-prepare");
    await this.finish(t, false);
  }

  /**
   * Writes the markers of a transaction in a Prepare state and completes it.
   * A partition whose log failed (write or fsync error) cannot take its
   * marker until a restart: as Kafka's coordinator does when a partition's log
   * dir fails, the transaction then stays in its Prepare state (its outcome is
   * decided and durable) holding just those partitions, and is completed once
   * they can take the marker, here by the start-up recovery after a restart.
   * Meanwhile its producer's next InitProducerId, AddPartitionsToTxn or EndTxn
   * gets CONCURRENT_TRANSACTIONS (retriable), and every other partition has
   * its marker, so their last stable offsets move on.
   */
  private async finish(t: TxnMeta, recovering: boolean): Promise<void> {
    const commit = t.state === "PrepareCommit";
    let written = 0;
    const failed = new Set<string>();
    const marked: string[] = [];
    for (const k of t.partitions) {
      const [topic, p] = splitPartitionKey(k);
      // A marker a crash left behind already closed the partition's transaction: a second one is not written.
      if (recovering && !this.markers.isOpen(topic, p, t.producerId)) continue;
      if (!this.markers.writeMarker(topic, p, t.producerId, t.epoch, commit)) {
        failed.add(k);
        continue;
      }
      marked.push(k);
      if (++written === 1) failpoint("txn.after-first-marker");
    }
    for (const g of t.groups) this.markers.completeOffsets(g, t.producerId, commit);
    failpoint("txn.after-markers-written");
    for (const k of await this.markers.flush(marked)) failed.add(k);
    failpoint("txn.after-markers-durable");
    if (failed.size > 0) {
      t.partitions = t.partitions.filter((k) => failed.has(k));
      const names = t.partitions.map((k) => splitPartitionKey(k).join("-")).join(", ");
      this.warn(`transaction ${t.transactionalId}: ${commit ? "commit" : "abort"} markers not durable in ${names} (storage error); it stays ${t.state} until a restart finishes it`);
      return;
    }
    t.state = commit ? "CompleteCommit" : "CompleteAbort";
    t.partitions = [];
    t.groups = [];
    if (t.bumpAtEnd) this.bumpEpoch(t);
    t.bumpAtEnd = false;
    // Not awaited: were it lost, the Prepare state would be finished again to the same outcome and epoch.
    void this.save(t).catch((e) => this.warn(`transaction ${t.transactionalId}: completion not saved: ${(e as Error).message}`));
    failpoint("txn.after-complete");
  }

  private bumpEpoch(t: TxnMeta): void {
    if (t.epoch >= MAX_EPOCH) {
      t.prevProducerId = t.producerId;
      t.producerId = this.ids.allocate();
      t.epoch = 0;
    } else t.epoch++;
  }

  /** InitProducerId for a transactional id (KIP-360 expected pid/epoch from v3). */
  async initProducerId(
    transactionalId: string,
    timeoutMs: number,
    expectedProducerId: number,
    expectedEpoch: number,
  ): Promise<{ errorCode: number; producerId: number; epoch: number }> {
    const fail = (errorCode: number) => ({ errorCode, producerId: -1, epoch: -1 });
    if (timeoutMs <= 0 || timeoutMs > this.options.maxTimeoutMs) return fail(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    let t = this.txns.get(transactionalId);
    if (!t) {
      t = {
        transactionalId,
        producerId: this.ids.allocate(),
        prevProducerId: -1,
        epoch: 0,
        timeoutMs,
        state: "Empty",
        partitions: [],
        groups: [],
        startTimestamp: -1,
        lastUpdate: this.now(),
        version: 1,
        bumpAtEnd: false,
      };
      this.txns.set(transactionalId, t);
      await this.save(t);
      return { errorCode: ErrorCode.NONE, producerId: t.producerId, epoch: t.epoch };
    }
    if (isPrepare(t.state)) return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
    if (expectedProducerId >= 0) {
      // A producer recovering from an error asks to bump its own epoch; anyone else is fenced.
      const matches = (expectedProducerId === t.producerId && expectedEpoch === t.epoch) || (expectedProducerId === t.prevProducerId && t.epoch === 0);
      if (!matches) return fail(ErrorCode.PRODUCER_FENCED);
      if (expectedProducerId === t.prevProducerId) return { errorCode: ErrorCode.NONE, producerId: t.producerId, epoch: t.epoch };
    }
    // A new producer instance: abort whatever the previous one left open, so its records never become visible.
    if (t.state === "Ongoing") {
      this.bumpEpoch(t);
      await this.end(t, false, false);
    }
    this.bumpEpoch(t);
    t.timeoutMs = timeoutMs;
    t.state = "Empty";
    await this.save(t);
    return { errorCode: ErrorCode.NONE, producerId: t.producerId, epoch: t.epoch };
  }

  /** Producer id/epoch checks shared by the in-transaction requests. */
  check(transactionalId: string, producerId: number, epoch: number): { errorCode: number; txn?: TxnMeta } {
    const t = this.txns.get(transactionalId);
    if (!t) return { errorCode: ErrorCode.INVALID_PRODUCER_ID_MAPPING };
    if (t.producerId !== producerId) return { errorCode: ErrorCode.INVALID_PRODUCER_ID_MAPPING };
    if (epoch !== t.epoch) return { errorCode: epoch < t.epoch ? ErrorCode.PRODUCER_FENCED : ErrorCode.INVALID_PRODUCER_EPOCH };
    // The previous transaction is still ending: the client retries, as with Kafka.
    if (isPrepare(t.state)) return { errorCode: ErrorCode.CONCURRENT_TRANSACTIONS };
    return { errorCode: ErrorCode.NONE, txn: t };
  }

  private begin(t: TxnMeta): void {
    if (t.state !== "Ongoing") {
      t.state = "Ongoing";
      t.startTimestamp = this.now();
    }
  }

  /**
   * AddPartitionsToTxn, and the implicit add of transactions v2 (Produce v12+,
   * TxnOffsetCommit v5+). The change is written at once; answer only after
   * durable() (Produce's own fsync round covers it, as it is appended first).
   */
  addPartitions(transactionalId: string, producerId: number, epoch: number, partitions: [string, number][], verifyOnly = false): number {
    const c = this.check(transactionalId, producerId, epoch);
    if (!c.txn) return c.errorCode;
    const t = c.txn;
    const have = new Set(t.partitions);
    if (verifyOnly) {
      return t.state === "Ongoing" && partitions.every(([n, p]) => have.has(partitionKey(n, p))) ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE;
    }
    let changed = t.state !== "Ongoing";
    this.begin(t);
    for (const [n, p] of partitions) {
      const k = partitionKey(n, p);
      if (!have.has(k)) {
        have.add(k);
        t.partitions.push(k);
        changed = true;
      }
    }
    if (changed) void this.save(t).catch((e) => this.warn(`transaction ${transactionalId}: state not saved: ${(e as Error).message}`));
    return ErrorCode.NONE;
  }

  /** Is this partition part of the producer's open transaction? (Produce-side verification, KIP-890 part 1.) */
  inTransaction(transactionalId: string, producerId: number, topic: string, partition: number): boolean {
    const t = this.txns.get(transactionalId);
    return !!t && t.producerId === producerId && t.state === "Ongoing" && t.partitions.includes(partitionKey(topic, partition));
  }

  /** AddOffsetsToTxn (and TxnOffsetCommit v5+'s implicit add); like addPartitions, answer after durable(). */
  addOffsets(transactionalId: string, producerId: number, epoch: number, group: string): number {
    const c = this.check(transactionalId, producerId, epoch);
    if (!c.txn) return c.errorCode;
    const t = c.txn;
    if (t.state === "Ongoing" && t.groups.includes(group)) return ErrorCode.NONE;
    this.begin(t);
    if (!t.groups.includes(group)) t.groups.push(group);
    void this.save(t).catch((e) => this.warn(`transaction ${transactionalId}: state not saved: ${(e as Error).message}`));
    return ErrorCode.NONE;
  }

  /** EndTxn. With transactions v2 (v5+) the epoch is bumped at every end and returned. */
  async endTxn(transactionalId: string, producerId: number, epoch: number, commit: boolean, v2: boolean): Promise<{ errorCode: number; producerId: number; epoch: number }> {
    const t = this.txns.get(transactionalId);
    const fail = (errorCode: number) => ({ errorCode, producerId: -1, epoch: -1 });
    if (!t || t.producerId !== producerId) {
      // A v2 retry after the epoch bump carries the old epoch of the same or rotated producer id.
      if (t && v2 && t.prevProducerId === producerId && t.epoch === 0) return this.retriedEnd(t, commit);
      return fail(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    }
    if (v2 && epoch === t.epoch - 1 && (t.state === "CompleteCommit" || t.state === "CompleteAbort")) return this.retriedEnd(t, commit);
    if (epoch !== t.epoch) return fail(epoch < t.epoch ? ErrorCode.PRODUCER_FENCED : ErrorCode.INVALID_PRODUCER_EPOCH);
    switch (t.state) {
      case "Ongoing":
        if (v2) t.version = 2;
        await this.end(t, commit, v2);
        return { errorCode: ErrorCode.NONE, producerId: t.producerId, epoch: t.epoch };
      case "PrepareCommit":
      case "PrepareAbort":
        // The same end retried while it is being written: the client retries (Kafka's answer); the opposite one is refused.
        return fail((t.state === "PrepareCommit") === commit ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE);
      case "CompleteCommit":
      case "CompleteAbort":
      case "Empty":
        // The same end retried is fine; the opposite one is not.
        if (t.state !== "Empty" && (t.state === "CompleteCommit") === commit && !v2) return { errorCode: ErrorCode.NONE, producerId: t.producerId, epoch: t.epoch };
        if (v2 && !commit) {
          // v2 clients may abort with nothing open (e.g. after an error before any send).
          this.bumpEpoch(t);
          t.state = "CompleteAbort";
          await this.save(t);
          return { errorCode: ErrorCode.NONE, producerId: t.producerId, epoch: t.epoch };
        }
        return fail(ErrorCode.INVALID_TXN_STATE);
    }
  }

  private retriedEnd(t: TxnMeta, commit: boolean): { errorCode: number; producerId: number; epoch: number } {
    if ((t.state === "CompleteCommit") === commit) return { errorCode: ErrorCode.NONE, producerId: t.producerId, epoch: t.epoch };
    return { errorCode: ErrorCode.INVALID_TXN_STATE, producerId: -1, epoch: -1 };
  }

  /** Aborts transactions open longer than their timeout, fencing the producer with an epoch bump; `done` once their markers are durable. */
  abortExpired(): { aborted: string[]; done: Promise<void> } {
    const now = this.now();
    const aborted: string[] = [];
    const ends: Promise<void>[] = [];
    for (const t of this.txns.values()) {
      if (t.state === "Ongoing" && now - t.startTimestamp > t.timeoutMs) {
        this.bumpEpoch(t);
        ends.push(this.end(t, false, false).catch((e) => this.warn(`transaction ${t.transactionalId}: timeout abort failed: ${(e as Error).message}`)));
        aborted.push(t.transactionalId);
      }
    }
    return { aborted, done: Promise.all(ends).then(() => {}) };
  }

  /**
   * Removes transactional ids idle longer than transactional.id.expiration.ms,
   * as Kafka does: only those with no transaction open or ending (Empty,
   * CompleteCommit, CompleteAbort). Their next InitProducerId starts afresh.
   */
  expireIdle(): string[] {
    const now = this.now();
    // A scan visits every id: often enough that an id outlives its expiry by at most a tenth of it (at most an hour, Kafka's cleanup interval).
    if (now - this.lastExpiryScan < Math.min(this.options.idExpirationMs / 10, 3_600_000)) return [];
    this.lastExpiryScan = now;
    const cutoff = now - this.options.idExpirationMs;
    const expired: string[] = [];
    for (const t of this.txns.values()) {
      if ((t.state === "Empty" || t.state === "CompleteCommit" || t.state === "CompleteAbort") && t.lastUpdate <= cutoff) expired.push(t.transactionalId);
    }
    for (const id of expired) {
      this.txns.delete(id);
      this.store.removeTxn(id).catch((e) => this.warn(`transactional id ${id}: expiry not saved: ${(e as Error).message}`));
    }
    return expired;
  }

  /**
   * Start-up after a crash: every partition transaction the coordinator does
   * not know as open gets an abort marker (its records were never committed:
   * a commit's markers are durable before its Complete state), one it knows as
   * open but without this partition is added to it, and every transaction in
   * a Prepare state is finished. Resolves once all of it is durable, so no
   * partition's last stable offset stays held by a transaction nobody ends.
   */
  async recover(): Promise<void> {
    const byProducer = new Map<number, TxnMeta>();
    for (const t of this.txns.values()) byProducer.set(t.producerId, t);
    const changed = new Set<TxnMeta>();
    const wrote: string[] = [];
    for (const o of this.markers.openTransactions()) {
      const t = byProducer.get(o.producerId);
      if (t && (t.state === "Ongoing" || isPrepare(t.state))) {
        const k = partitionKey(o.topic, o.partition);
        if (!t.partitions.includes(k)) {
          t.partitions.push(k);
          changed.add(t);
          this.warn(`recovery: ${o.topic}-${o.partition} holds a transaction of producer ${o.producerId} that ${t.transactionalId} did not list: added to it`);
        }
        continue;
      }
      const epoch = Math.max(o.epoch, t ? t.epoch : 0);
      this.warn(`recovery: ${o.topic}-${o.partition} holds a transaction of producer ${o.producerId} that is not open at the coordinator (${t ? t.state : "unknown"}): aborted with epoch ${epoch}`);
      if (this.markers.writeMarker(o.topic, o.partition, o.producerId, epoch, false)) wrote.push(partitionKey(o.topic, o.partition));
    }
    const saves: Promise<void>[] = [];
    for (const t of changed) if (t.state === "Ongoing") saves.push(this.save(t));
    const pending = [...this.txns.values()].filter((t) => isPrepare(t.state));
    for (const t of pending) {
      this.warn(`recovery: finishing ${t.transactionalId} (${t.state}, producer ${t.producerId} epoch ${t.epoch}, ${t.partitions.length} partitions)`);
      await this.finish(t, true);
    }
    if (wrote.length > 0) await this.markers.flush(wrote);
    await Promise.all(saves);
    await this.store.flushed();
  }
}
