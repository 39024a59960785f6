// The transaction coordinator: transactional id → producer id/epoch, state,
// and the partitions and groups of the open transaction. Ending a transaction
// writes commit/abort markers through a callback into every partition of the
// transaction (we are the only broker, so markers are written synchronously,
// before the answer). State is persisted by rewriting one small file
// atomically on every change; a restart resumes open transactions, and the
// timeout sweep aborts abandoned ones.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../log/atomic-file.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { ProducerIdAllocator } from "./producer-ids.ts";

export type TxnState = "Empty" | "Ongoing" | "CompleteCommit" | "CompleteAbort";

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
}

export interface MarkerWriter {
  /** Appends a COMMIT or ABORT control batch for (producerId, epoch) to one partition. */
  writeMarker(topic: string, partition: number, producerId: number, epoch: number, commit: boolean): void;
  /** Makes the transaction's pending offset commits for `group` visible (commit) or drops them (abort). */
  completeOffsets(group: string, producerId: number, commit: boolean): void;
  /** Resolves once markers and offsets written so far are durable. */
  flush(): Promise<void>;
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

export class TransactionCoordinator {
  private readonly txns = new Map<string, TxnMeta>();
  private readonly path: string;

  constructor(
    dataDir: string,
    private readonly ids: ProducerIdAllocator,
    private readonly markers: MarkerWriter,
    private readonly maxTimeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.path = join(dataDir, "transactions.json");
    if (existsSync(this.path)) {
      const stored = JSON.parse(readFileSync(this.path, "utf8")) as { txns: TxnMeta[] };
      for (const t of stored.txns) this.txns.set(t.transactionalId, t);
    }
  }

  get(transactionalId: string): TxnMeta | undefined {
    return this.txns.get(transactionalId);
  }
  all(): IterableIterator<TxnMeta> {
    return this.txns.values();
  }

  private persist(): void {
    writeFileAtomic(this.path, new TextEncoder().encode(JSON.stringify({ version: 1, txns: [...this.txns.values()] })));
  }

  /** Writes the markers of the open transaction and completes it. */
  private complete(t: TxnMeta, commit: boolean): void {
    for (const k of t.partitions) {
      const [topic, p] = splitPartitionKey(k);
      this.markers.writeMarker(topic, p, t.producerId, t.epoch, commit);
    }
    for (const g of t.groups) this.markers.completeOffsets(g, t.producerId, commit);
    t.state = commit ? "CompleteCommit" : "CompleteAbort";
    t.partitions = [];
    t.groups = [];
    t.lastUpdate = this.now();
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
    if (timeoutMs <= 0 || timeoutMs > this.maxTimeoutMs) return fail(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    const now = this.now();
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
        lastUpdate: now,
        version: 1,
      };
      this.txns.set(transactionalId, t);
      this.persist();
      return { errorCode: ErrorCode.NONE, producerId: t.producerId, epoch: t.epoch };
    }
    if (expectedProducerId >= 0) {
      // A producer recovering from an error asks to bump its own epoch; anyone else is fenced.
      const matches = (expectedProducerId === t.producerId && expectedEpoch === t.epoch) || (expectedProducerId === t.prevProducerId && t.epoch === 0);
      if (!matches) return fail(ErrorCode.PRODUCER_FENCED);
      if (expectedProducerId === t.prevProducerId) return { errorCode: ErrorCode.NONE, producerId: t.producerId, epoch: t.epoch };
    }
    // A new producer instance: abort whatever the previous one left open, so its records never become visible.
    if (t.state === "Ongoing") {
      this.bumpEpoch(t);
      this.complete(t, false);
    }
    this.bumpEpoch(t);
    t.timeoutMs = timeoutMs;
    t.state = "Empty";
    t.lastUpdate = now;
    this.persist();
    await this.markers.flush();
    return { errorCode: ErrorCode.NONE, producerId: t.producerId, epoch: t.epoch };
  }

  /** Producer id/epoch checks shared by the in-transaction requests. */
  check(transactionalId: string, producerId: number, epoch: number): { errorCode: number; txn?: TxnMeta } {
    const t = this.txns.get(transactionalId);
    if (!t) return { errorCode: ErrorCode.INVALID_PRODUCER_ID_MAPPING };
    if (t.producerId !== producerId) return { errorCode: ErrorCode.INVALID_PRODUCER_ID_MAPPING };
    if (epoch !== t.epoch) return { errorCode: epoch < t.epoch ? ErrorCode.PRODUCER_FENCED : ErrorCode.INVALID_PRODUCER_EPOCH };
    return { errorCode: ErrorCode.NONE, txn: t };
  }

  private begin(t: TxnMeta): void {
    if (t.state !== "Ongoing") {
      t.state = "Ongoing";
      t.startTimestamp = this.now();
    }
    t.lastUpdate = this.now();
  }

  /** AddPartitionsToTxn, and the implicit add of transactions v2 (Produce v12+, TxnOffsetCommit v5+). */
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
    if (changed) this.persist();
    return ErrorCode.NONE;
  }

  /** Is this partition part of the producer's open transaction? (Produce-side verification, KIP-890 part 1.) */
  inTransaction(transactionalId: string, producerId: number, topic: string, partition: number): boolean {
    const t = this.txns.get(transactionalId);
    return !!t && t.producerId === producerId && t.state === "Ongoing" && t.partitions.includes(partitionKey(topic, partition));
  }

  addOffsets(transactionalId: string, producerId: number, epoch: number, group: string): number {
    const c = this.check(transactionalId, producerId, epoch);
    if (!c.txn) return c.errorCode;
    const t = c.txn;
    this.begin(t);
    if (!t.groups.includes(group)) t.groups.push(group);
    this.persist();
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
        this.complete(t, commit);
        if (v2) this.bumpEpoch(t);
        this.persist();
        await this.markers.flush();
        return { errorCode: ErrorCode.NONE, producerId: t.producerId, epoch: t.epoch };
      case "CompleteCommit":
      case "CompleteAbort":
      case "Empty":
        // The same end retried is fine; the opposite one is not.
        if (t.state !== "Empty" && (t.state === "CompleteCommit") === commit && !v2) return { errorCode: ErrorCode.NONE, producerId: t.producerId, epoch: t.epoch };
        if (v2 && !commit) {
          // v2 clients may abort with nothing open (e.g. after an error before any send).
          this.bumpEpoch(t);
          t.state = "CompleteAbort";
          this.persist();
          return { errorCode: ErrorCode.NONE, producerId: t.producerId, epoch: t.epoch };
        }
        return fail(ErrorCode.INVALID_TXN_STATE);
    }
  }

  private retriedEnd(t: TxnMeta, commit: boolean): { errorCode: number; producerId: number; epoch: number } {
    if ((t.state === "CompleteCommit") === commit) return { errorCode: ErrorCode.NONE, producerId: t.producerId, epoch: t.epoch };
    return { errorCode: ErrorCode.INVALID_TXN_STATE, producerId: -1, epoch: -1 };
  }

  /** Aborts transactions open longer than their timeout, fencing the producer with an epoch bump. */
  abortExpired(): string[] {
    const now = this.now();
    const aborted: string[] = [];
    for (const t of this.txns.values()) {
      if (t.state === "Ongoing" && now - t.startTimestamp > t.timeoutMs) {
        this.bumpEpoch(t);
        this.complete(t, false);
        aborted.push(t.transactionalId);
      }
    }
    if (aborted.length) {
      this.persist();
      void this.markers.flush();
    }
    return aborted;
  }
}
