// Transactions as the cleaner sees them while walking a log in offset order
// (Kafka's rules): records of an aborted transaction are dropped; an abort
// marker stays while any batch of its transaction is still in the log, a
// commit marker while any batch of its transaction is, and only then becomes
// removable (after delete.retention.ms, like a tombstone). Each pass gets a
// fresh tracker over the aborted transactions that reach into its range.

import type { AbortedTxn } from "./txn-index.ts";

interface Ongoing {
  range: AbortedTxn;
  markerOffset: number;
  /** A batch of the transaction was met in this pass. */
  observed: boolean;
  /** One of them stays in the log (as the producer's last batch, emptied). */
  kept: boolean;
}

export class CleanerTxnTracker {
  private next = 0;
  private readonly aborted: readonly AbortedTxn[];
  private readonly ongoingAborted = new Map<number, Ongoing>();
  /** Committed (or still open) transactions met in this pass: producer id → whether a batch of it stays. */
  private readonly ongoingCommitted = new Map<number, boolean>();
  /** A marker stayed only because this pass removed the last of its transaction's batches: the next pass can drop it. */
  moreToDo = false;
  /**
   * Set by onControl when it keeps an abort marker because batches of its
   * transaction remain: the entry the cleaned segment's transaction index
   * keeps (Kafka's rule), else null.
   */
  retainedAbort: AbortedTxn | null = null;

  /** `aborted` must be sorted by first offset; those ending before `from` are ignored. */
  constructor(aborted: readonly AbortedTxn[], from: number) {
    this.aborted = aborted.filter((a) => a.lastOffset >= from);
  }

  private consumeUpTo(offset: number): void {
    while (this.next < this.aborted.length && this.aborted[this.next]!.firstOffset <= offset) {
      const a = this.aborted[this.next++]!;
      this.ongoingAborted.set(a.producerId, { range: a, markerOffset: a.lastOffset, observed: false, kept: false });
    }
  }

  /** A data batch; true when it belongs to an aborted transaction (its records go). */
  onBatch(producerId: number, transactional: boolean, lastOffset: number): boolean {
    this.consumeUpTo(lastOffset);
    if (!transactional) return false;
    const a = this.ongoingAborted.get(producerId);
    // An aborted range whose marker lies before this batch is over: a stale entry.
    if (a && a.markerOffset > lastOffset) {
      a.observed = true;
      return true;
    }
    if (a) this.ongoingAborted.delete(producerId);
    if (!this.ongoingCommitted.has(producerId)) this.ongoingCommitted.set(producerId, false);
    return false;
  }

  /** The batch just passed to onBatch stays in the log (with records, or empty). */
  keptBatch(producerId: number, aborted: boolean): void {
    if (aborted) {
      const a = this.ongoingAborted.get(producerId);
      if (a) a.kept = true;
    } else if (this.ongoingCommitted.has(producerId)) this.ongoingCommitted.set(producerId, true);
  }

  /**
   * A control batch; `type` 0 abort, 1 commit, null when it holds no record
   * (an emptied marker). True when the marker can be removed.
   */
  onControl(producerId: number, lastOffset: number, type: number | null): boolean {
    this.consumeUpTo(lastOffset);
    this.retainedAbort = null;
    if (type === null) return true;
    if (type === 0) {
      const a = this.ongoingAborted.get(producerId);
      this.ongoingAborted.delete(producerId);
      if (!a || !a.observed) return true;
      if (!a.kept) this.moreToDo = true;
      this.retainedAbort = a.range;
      return false;
    }
    if (type === 1) {
      const kept = this.ongoingCommitted.get(producerId);
      this.ongoingCommitted.delete(producerId);
      if (kept === undefined) return true;
      if (!kept) this.moreToDo = true;
      return false;
    }
    return false;
  }
}
