// Where the transaction coordinator and the producer id allocator keep their
// state: <data-dir>/transactions.log, a record log (src/log/record-log.ts) of
// each transactional id's state after every change and of the producer id
// block bound. An append costs a write(2); it is durable after the broker's
// next group-commit fsync round, off the event loop. The file is rewritten to
// the live state when dead records outweigh it. Data dirs from before this log
// (transactions.json, producer-ids.json) are converted on first start.

import { exists, readText, removeTree } from "../log/storage.ts";
import { join } from "node:path";
import { RecordLog, type RecordLogOptions } from "../log/record-log.ts";
import { TXN_RECORDS, type TxnLogRecord } from "./state-records.ts";
import type { TxnMeta } from "./coordinator.ts";

export const TXN_LOG_FILE = "transactions.log";
const LEGACY_TXNS = "transactions.json";
const LEGACY_IDS = "producer-ids.json";
/** Bytes of dead records tolerated beyond the live state's size before a rewrite. */
const COMPACTION_SLACK_BYTES = 1024 * 1024;

export class TxnStateStore {
  private readonly log: RecordLog<TxnLogRecord>;
  /** The live state: what a rewrite writes (the coordinator's own objects, always current). */
  private readonly txns = new Map<string, TxnMeta>();
  /** Size of each id's latest record: what a rewrite would write. Records grow with a transaction's partitions, so bytes, not counts, decide. */
  private readonly liveSizes = new Map<string, number>();
  private liveBytes = 0;
  private block = 0;

  constructor(dataDir: string, options: RecordLogOptions) {
    const path = join(dataDir, TXN_LOG_FILE);
    const fresh = !exists(path);
    const { log, records } = RecordLog.open(path, TXN_RECORDS, options);
    this.log = log;
    for (const r of records) this.apply(r);
    const legacyTxns = join(dataDir, LEGACY_TXNS);
    const legacyIds = join(dataDir, LEGACY_IDS);
    if (fresh && (exists(legacyTxns) || exists(legacyIds))) {
      if (exists(legacyTxns)) {
        const stored = JSON.parse(readText(legacyTxns)) as { txns: TxnMeta[] };
        for (const t of stored.txns) this.txns.set(t.transactionalId, { ...t, version: t.version ?? 1, bumpAtEnd: false });
      }
      if (exists(legacyIds)) this.block = (JSON.parse(readText(legacyIds)) as { nextBlockStart: number }).nextBlockStart;
      this.log.rewrite(this.live());
      options.warn?.(`converted ${LEGACY_TXNS} and ${LEGACY_IDS} to ${TXN_LOG_FILE}`);
    }
    for (const t of this.txns.values()) this.setLiveSize(t.transactionalId, TXN_RECORDS.size({ kind: "txn", txn: t }));
    // Left over when a conversion was interrupted after the log was written.
    removeTree(legacyTxns);
    removeTree(legacyIds);
  }

  private apply(r: TxnLogRecord): void {
    if (r.kind === "txn") this.txns.set(r.txn.transactionalId, r.txn);
    else if (r.kind === "txn-delete") this.txns.delete(r.transactionalId);
    else this.block = Math.max(this.block, r.nextBlockStart);
  }

  /** Transactional ids as stored. */
  loadedTxns(): TxnMeta[] {
    return [...this.txns.values()];
  }
  /** Where the next producer id block starts: nothing below it may be handed out again. */
  get nextBlockStart(): number {
    return this.block;
  }

  /** Records `t`'s state as it is now; resolves once durable. */
  saveTxn(t: TxnMeta): Promise<void> {
    this.txns.set(t.transactionalId, t);
    const r: TxnLogRecord = { kind: "txn", txn: t };
    this.setLiveSize(t.transactionalId, TXN_RECORDS.size(r));
    return this.append(r);
  }

  removeTxn(transactionalId: string): Promise<void> {
    this.txns.delete(transactionalId);
    this.setLiveSize(transactionalId, 0);
    return this.append({ kind: "txn-delete", transactionalId });
  }

  private setLiveSize(id: string, size: number): void {
    this.liveBytes += size - (this.liveSizes.get(id) ?? 0);
    if (size > 0) this.liveSizes.set(id, size);
    else this.liveSizes.delete(id);
  }

  saveBlock(nextBlockStart: number): Promise<void> {
    this.block = nextBlockStart;
    return this.append({ kind: "pid-block", nextBlockStart });
  }

  /** Resolves once everything saved so far is durable. */
  flushed(): Promise<void> {
    return this.log.flushed();
  }

  private *live(): Generator<TxnLogRecord> {
    yield { kind: "pid-block", nextBlockStart: this.block };
    for (const t of this.txns.values()) yield { kind: "txn", txn: t };
  }

  private append(r: TxnLogRecord): Promise<void> {
    const done = this.log.append([r]);
    // A rewrite holds everything appended so far, already fsynced: waiting on `done` stays right.
    if (this.log.bytes > 2 * this.liveBytes + COMPACTION_SLACK_BYTES) this.log.rewrite(this.live());
    return done;
  }

  close(): Promise<void> {
    return this.log.close();
  }
}
