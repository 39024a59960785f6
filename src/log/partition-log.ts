// A partition's log: an ordered list of segments in `<data-dir>/<topic>-<partition>/`,
// the last one active. Appends assign offsets and write whole batches to the
// active segment; reads return whole batches as views of sealed segments or
// bounded copies from the active one; recovery on open trims a torn tail and
// rebuilds indexes; retention and DeleteRecords drop whole segments from the front.

import { exists, listDir, makeDir, readText, statPath, unlinkPath } from "./storage.ts";
import { dirname, join } from "node:path";
import { fsyncDir, TEMP_SUFFIX, writeFileAtomic } from "./atomic-file.ts";
import {
  PARTITION_LEADER_EPOCH,
  batchLastOffsetDelta,
  batchMaxTimestamp,
  batchSize,
  headerProblem,
  viewOf,
  writeInt64,
} from "./batch-header.ts";
import type { DataFile } from "./data-file.ts";
import { FlushScheduler, type FlushRound, type FlushTarget } from "./flush-scheduler.ts";
import { LeaderEpochCache } from "./leader-epochs.ts";
import { scanSegment } from "./recovery.ts";
import { deletePartitionDir } from "./partition-dir.ts";
import { applySwap, recoverSwap, type SwapPlan } from "./swap.ts";
import { MAX_RELATIVE, Segment, type BatchHeader } from "./segment.ts";
import type { AbortedTxn } from "./txn-index.ts";
import {
  CLEANER_CHECKPOINT_FILE,
  CLEAN_SHUTDOWN_FILE,
  INDEX_SUFFIX,
  PLACED_GAPS_FILE,
  LOG_START_OFFSET_FILE,
  LOG_SUFFIX,
  SWAP_SUFFIX,
  TIME_INDEX_SUFFIX,
  TXN_INDEX_SUFFIX,
  parseSegmentName,
  segmentName,
  segmentPath,
} from "./segment-files.ts";

export { FlushScheduler } from "./flush-scheduler.ts";

export interface LogConfig {
  segmentBytes: number;
  segmentMs: number;
  indexIntervalBytes: number;
  /** -1: keep forever. */
  retentionMs: number;
  /** -1: no size limit. */
  retentionBytes: number;
  /** group: acknowledge after a shared fsync; never: after write(2). */
  fsync: "group" | "never";
  /** cleanup.policy: retention deletes segments only with `delete`; the cleaner acts with `compact`. Default: delete only. */
  cleanupPolicy?: { delete: boolean; compact: boolean };
  crc32c: (b: Uint8Array) => number;
  /** Where recovery actions and storage failures are reported. */
  logger?: LogSink;
}

export interface LogSink {
  warn(msg: string): void;
  error(msg: string): void;
}

/** Appended bytes that are not a sequence of whole v2 batches. */
export class LogAppendError extends Error {
  override name = "LogAppendError";
}

/**
 * The log cannot take writes: a write or fsync of it failed (EIO, ENOSPC...).
 * What was written since the last good fsync may be gone whatever a later
 * fsync says, so the log stays read-only (up to its high watermark) until restart.
 */
export class LogStorageError extends Error {
  override name = "LogStorageError";
}

/** What a record-level search inside one batch found: an offset, or an offset with its record's timestamp. */
export type RecordMatch = number | { offset: number; timestamp: number } | null;

export interface StoredBatch {
  baseOffset: number;
  lastOffset: number;
  /** The batch's 61-byte header (a copy). */
  head: Uint8Array;
  /** Reads the whole batch (a copy): scans that need only headers skip the record bytes. */
  bytes(): Uint8Array;
}

/**
 * One read of a segment returns at most this much beyond the first batch
 * (KIP-74 still returns a larger first batch whole). A partition may answer
 * with less than partition_max_bytes, and clients fetch again; the cap keeps
 * a fetch of 10 MiB per partition across many partitions from holding all of
 * it at once in read buffers: measured, RSS went over 300 MB with a 16 MiB cap.
 */
const READ_CAP = 4 << 20;

export class PartitionLog implements FlushTarget {
  private segments: Segment[] = [];
  private startOffset = 0;
  private endOffset = 0;
  private round: FlushRound | null = null;
  /** The cleaner's checkpoint, read from its file on first use. */
  private cleanedUpTo: number | null = null;
  private closed = false;
  /** With fsync=group: the end of what is known durable, the high watermark. */
  private durableEnd = 0;
  /** The log end when the running flush round took the files; durable once it succeeds. */
  private flushingEnd = 0;
  /** Bumped when the log end moves back, so a flush of what was cut cannot raise the high watermark. */
  private generation = 0;
  private flushingGeneration = 0;
  private failure: LogStorageError | null = null;
  /** Called when the high watermark moves up (long-polling fetches wait for it). */
  onVisible: (() => void) | null = null;
  /** fsync=never: the recovery point as of the last start (nothing is fsynced until a clean close). */
  private unsyncedRecoveryPoint = 0;
  /** The clean-shutdown marker was left in place at start (see readCleanShutdownMarker). */
  private markerKept = false;
  /** A placed batch left a gap in this log (PLACED_GAPS_FILE is on disk). */
  private placedGaps = false;
  /** Which leader epoch started where; the latest is stamped on appended batches. */
  private epochs!: LeaderEpochCache;
  /** Recovery created transaction index files (their names are made durable once rebuilt). */
  private txnIndexCreated = false;
  /** What recovery did (each also logged at WARN); empty when it had nothing to do. */
  readonly recoveryNotes: string[] = [];

  private constructor(
    readonly dir: string,
    private config: LogConfig,
    private readonly flusher: FlushScheduler,
  ) {}

  /**
   * Opens (creating if needed) the log in `dir`, recovering it from whatever
   * a crash left. `recoveryPoint`: the offset below which the log was known durable (from
   * the data dir's recovery-point checkpoint). After a crash only what lies
   * at or past it is checked record by record; without one, sealed segments
   * are trusted and the active one is checked whole.
   */
  static open(dir: string, config: LogConfig, flusher: FlushScheduler, recoveryPoint?: number): PartitionLog {
    const log = new PartitionLog(dir, config, flusher);
    log.recover(recoveryPoint);
    return log;
  }

  get logStartOffset(): number {
    return this.startOffset;
  }

  /** The next offset to assign. */
  get logEndOffset(): number {
    return this.endOffset;
  }

  /**
   * What consumers may see. With fsync=group, only what an fsync has made
   * durable, so no consumer reads a record that a power loss can take back;
   * with fsync=never, everything written (Kafka's behaviour).
   */
  get highWatermark(): number {
    return this.syncing ? Math.min(this.durableEnd, this.endOffset) : this.endOffset;
  }

  /** Why the log takes no more writes, or null while it is healthy. */
  get storageError(): LogStorageError | null {
    return this.failure;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** Applies to decisions taken from now on (rolls, retention); existing segments stay as they are. */
  setConfig(config: LogConfig): void {
    this.config = config;
  }

  private get syncing(): boolean {
    return this.config.fsync === "group";
  }

  private get active(): Segment {
    return this.segments[this.segments.length - 1]!;
  }

  // ---------------------------------------------------------------- recovery

  private recover(recoveryPoint: number | undefined): void {
    const fresh = !exists(this.dir);
    const { cleanStart } = this.recoverSegments(fresh, recoveryPoint);
    this.recoverEpochs(fresh, cleanStart);
    // fsync=never: what recovery found is not durable (nothing was fsynced), so the recovery point stays where it was.
    this.unsyncedRecoveryPoint = cleanStart ? this.endOffset : Math.min(recoveryPoint ?? this.active.baseOffset, this.endOffset);
  }

  private recoverSegments(fresh: boolean, recoveryPoint: number | undefined): { cleanStart: boolean } {
    makeDir(this.dir);
    // Even with fsync=never the directory is made durable: its leader-epoch
    // checkpoint must survive a power loss, or the epoch would start over.
    if (fresh) fsyncDir(dirname(this.dir));
    // An interrupted clean is finished or undone before the segments are listed.
    const swapNote = recoverSwap(this.dir);
    if (swapNote) this.recoveryNotes.push(swapNote);
    const checkpoint = this.readStartCheckpoint();
    const clean = this.readCleanShutdownMarker();
    /** The active segment holds nothing that may be unsynced (clean shutdown, or nothing past its recovery point). */
    let activeDurable = false;
    const names = listDir(this.dir);
    const bases: number[] = [];
    for (const name of names) {
      if (name.endsWith(TEMP_SUFFIX) || name.endsWith(SWAP_SUFFIX)) {
        unlinkPath(join(this.dir, name));
        this.noteRecovery(`removed ${name}, left by an unfinished write`);
      }
      const base = parseSegmentName(name);
      if (base !== null) bases.push(base);
    }
    bases.sort((a, b) => a - b);
    this.removeOrphanIndexes(names, new Set(bases));

    if (bases.length === 0) {
      const base = checkpoint ?? 0;
      this.segments.push(Segment.create(this.dir, base, Date.now()));
      if (this.syncing) fsyncDir(this.dir);
      this.startOffset = this.endOffset = base;
      this.settleRecovered(false);
      return { cleanStart: false };
    }
    // The marker stays in place after a clean start (see readCleanShutdownMarker): only while the active
    // segment is still as the clean close left it was nothing written since, so nothing can be lost.
    const lastBase = bases.at(-1)!;
    let cleanStart = clean !== null && clean.base === lastBase && statPath(segmentPath(this.dir, lastBase, LOG_SUFFIX)).size === clean.size;
    // Without a recovery point, as before there was one: sealed segments are trusted, the active one is checked.
    const trustedBelow = recoveryPoint ?? lastBase;
    for (let i = 0; i < bases.length; i++) {
      const base = bases[i]!;
      const last = i === bases.length - 1;
      // A sealed segment past the recovery point may have lost unsynced bytes under intact-looking indexes: check it.
      const durable = !last && (cleanStart || bases[i + 1]! <= trustedBelow);
      const sealed = last ? null : Segment.openSealed(this.dir, base, bases[i + 1]!);
      if (sealed && durable) {
        if (sealed.txnIndexMissing) this.rebuildTxnIndexOf(sealed);
        this.segments.push(sealed);
        continue;
      }
      sealed?.close();
      if (last && clean && cleanStart) {
        const active = Segment.openCleanActive(this.dir, base, clean.size, clean.nextOffset);
        if (active) {
          if (active.txnIndexMissing) this.rebuildTxnIndexOf(active);
          active.removeIndexFiles();
          this.segments.push(active);
          this.endOffset = clean.nextOffset;
          activeDurable = true;
          continue;
        }
        cleanStart = false;
      }
      // The active segment after a crash, and any segment whose indexes cannot be trusted: scan it.
      const { segment, fileSize } = Segment.openForScan(this.dir, base, Date.now());
      // What the scan keeps may differ from what the index described: it is refilled from the log.
      if (segment.startTxnRebuild()) this.txnIndexCreated = true;
      const outcome = scanSegment(segment, segment.activeFile!, fileSize, this.config.crc32c, this.config.indexIntervalBytes, {
        // Placed batches (klite mirror) may leave gaps in the active segment too.
        contiguous: last && !exists(join(this.dir, PLACED_GAPS_FILE)),
        limitOffset: last ? Number.MAX_SAFE_INTEGER : bases[i + 1]!,
        trustedBelow,
      });
      const from = Math.max(base, Math.min(trustedBelow, outcome.nextOffset));
      // Wholly below the recovery point: nothing in it can be unsynced.
      if (last && !outcome.problem && outcome.nextOffset <= trustedBelow) activeDurable = true;
      if (outcome.problem) this.noteRecovery(`segment ${segment.name}: ${outcome.problem}; cut ${outcome.truncatedBytes} bytes, the log now ends at offset ${outcome.nextOffset}`);
      else if (!last && !sealed) this.noteRecovery(`segment ${segment.name}: indexes missing or damaged; rebuilt them from the log (offsets ${base} to ${outcome.nextOffset - 1})`);
      else this.config.logger?.warn(`recovery of ${this.dir}: segment ${segment.name}: checked offsets ${from} to ${outcome.nextOffset - 1} (past the recovery point ${trustedBelow}), ${fileSize} bytes, all whole`);
      if (outcome.problem && !last) {
        // A cut sealed segment ends the log (as in Kafka): later segments would follow a gap of lost records.
        for (const later of bases.slice(i + 1)) {
          for (const suffix of [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX]) if (exists(segmentPath(this.dir, later, suffix))) unlinkPath(segmentPath(this.dir, later, suffix));
          this.noteRecovery(`segment ${segmentName(later)} removed: it followed the cut at offset ${outcome.nextOffset}`);
        }
        if (this.syncing) fsyncDir(this.dir);
        this.endOffset = outcome.nextOffset;
        segment.removeIndexFiles();
        this.segments.push(segment);
        break;
      }
      if (last) {
        this.endOffset = outcome.nextOffset;
        segment.removeIndexFiles();
      } else segment.seal(this.syncing);
      this.segments.push(segment);
    }
    this.startOffset = Math.min(Math.max(checkpoint ?? 0, this.segments[0]!.baseOffset), this.endOffset);
    // A crash between a DeleteRecords checkpoint and its segment deletion leaves segments to drop.
    this.deleteSegmentsBelowStart();
    // A marker that does not describe the active segment as it is now can only mislead a later start.
    if (clean && !(this.active.baseOffset === clean.base && this.active.size === clean.size)) this.dropCleanShutdownMarker();
    else this.markerKept = clean !== null;
    // An fsync of a segment known durable costs a disk flush all the same: about a second for 200 partitions.
    this.settleRecovered(!activeDurable);
    return { cleanStart };
  }

  /**
   * Loads the leader epochs (rebuilt from the batches when the checkpoint is
   * missing) and fits them to the recovered log. A start without a clean
   * shutdown begins a new epoch at the log end: what consumers read before
   * may be gone, and a new epoch is what makes them check (KIP-320).
   */
  private recoverEpochs(fresh: boolean, cleanStart: boolean): void {
    let cache = LeaderEpochCache.load(this.dir);
    let changed = cache === null;
    if (!cache) {
      cache = LeaderEpochCache.empty(this.dir);
      if (!fresh) for (const b of this.batches(this.startOffset)) cache.assign(Math.max(0, viewOf(b.head).getInt32(PARTITION_LEADER_EPOCH)), b.baseOffset);
    }
    this.epochs = cache;
    const before = cache.latestEpoch;
    if (cache.truncateFromStart(this.startOffset)) changed = true;
    if (!cleanStart && !fresh) {
      cache.truncateFromEnd(this.endOffset);
      cache.assign(before + 1, this.endOffset);
      this.config.logger?.warn(`recovery of ${this.dir}: no clean shutdown, leader epoch ${before + 1} starts at offset ${this.endOffset}`);
      changed = true;
    } else if (cache.latestEpoch < 0) {
      changed = cache.assign(0, this.endOffset) || changed;
    }
    if (changed) cache.write();
  }

  /**
   * The offset below which everything is known durable, for the data dir's
   * recovery-point checkpoint: the next start after a crash checks only what
   * lies at or past it.
   */
  get recoveryPoint(): number {
    // A clean close made everything durable; a log whose write or fsync failed keeps what it knew before.
    if (this.closed && !this.failure) return this.endOffset;
    return this.syncing ? this.durableEnd : this.unsyncedRecoveryPoint;
  }

  /** The partition's current leader epoch, stamped on every appended batch. */
  get leaderEpoch(): number {
    return this.epochs.latestEpoch;
  }

  /** OffsetForLeaderEpoch: where `epoch` (or the newest epoch before it) ends; both -1 when `epoch` is newer than any. */
  endOffsetForEpoch(epoch: number): { epoch: number; endOffset: number } {
    return this.epochs.endOffsetFor(epoch, this.endOffset);
  }

  /** The epoch of the records at `offset` (-1 when unknown). */
  epochForOffset(offset: number): number {
    return this.epochs.epochForOffset(offset);
  }

  /**
   * After a kill -9, what recovery found may still sit unsynced in the page
   * cache: fsync it before anyone sees it, so the high watermark starts at a durable end.
   */
  private settleRecovered(mayBeUnsynced: boolean): void {
    if (this.syncing && mayBeUnsynced) this.active.activeFile?.syncNow();
    this.durableEnd = this.endOffset;
  }

  private noteRecovery(note: string): void {
    this.recoveryNotes.push(note);
    this.config.logger?.warn(`recovery of ${this.dir}: ${note}`);
  }

  private rebuildTxnIndexOf(seg: Segment): void {
    if (seg.startTxnRebuild()) this.txnIndexCreated = true;
    this.noteRecovery(`segment ${seg.name}: transaction index missing or damaged; rebuilding it from the log`);
  }

  /**
   * Segments whose transaction index recovery emptied: the partition replays
   * the log's batches from the start (only it knows where each aborted
   * transaction began), handing each aborted transaction to
   * rebuiltAbortedTxn(), then calls finishTxnIndexRebuild().
   */
  get txnIndexRebuildPending(): boolean {
    return this.segments.some((s) => s.rebuildingTxnIndex);
  }

  /** An aborted transaction found by the replay; kept only in an index being rebuilt. */
  rebuiltAbortedTxn(a: AbortedTxn): void {
    const seg = this.segments[this.segmentIndexFor(a.lastOffset)];
    if (seg?.rebuildingTxnIndex) seg.appendAbortedTxn(a);
  }

  finishTxnIndexRebuild(): void {
    for (const s of this.segments) if (s.rebuildingTxnIndex) s.finishTxnRebuild(this.syncing);
    // A directory fsync per partition at every start after a crash would cost seconds with hundreds of them: only for new names.
    if (this.txnIndexCreated && this.syncing) fsyncDir(this.dir);
    this.txnIndexCreated = false;
  }

  private removeOrphanIndexes(names: string[], bases: Set<number>): void {
    for (const name of names) {
      const suffix = [INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX].find((x) => name.endsWith(x));
      if (!suffix) continue;
      const base = parseSegmentName(name.slice(0, -suffix.length) + ".log");
      if (base !== null && !bases.has(base)) {
        unlinkPath(join(this.dir, name));
        this.noteRecovery(`removed ${name}: its segment is gone`);
      }
    }
  }

  /**
   * Reads the clean-shutdown marker: the active segment's base, size and
   * next offset at the last clean close. It is left in place (removing it
   * durably cost a directory fsync per partition at every start): appends
   * only grow the active segment, so while its size is still the marker's,
   * its bytes are those of the clean close, and once it differs (appends, a
   * crash) the segment is scanned. Only a truncation can break that, so
   * truncateTo() drops the marker. With fsync=never the first append drops it
   * durably: a power loss can take unsynced appends that consumers read back to
   * exactly the marker's size, and that start must still begin a new epoch.
   */
  private readCleanShutdownMarker(): { base: number; size: number; nextOffset: number } | null {
    const path = join(this.dir, CLEAN_SHUTDOWN_FILE);
    if (!exists(path)) return null;
    const [base, size, nextOffset] = readText(path).trim().split(/\s+/).map(Number);
    const ok = [base, size, nextOffset].every((n) => Number.isSafeInteger(n) && n! >= 0);
    return ok ? { base: base!, size: size!, nextOffset: nextOffset! } : null;
  }

  private dropCleanShutdownMarker(durably = this.syncing): void {
    this.markerKept = false;
    const path = join(this.dir, CLEAN_SHUTDOWN_FILE);
    if (!exists(path)) return;
    unlinkPath(path);
    if (durably) fsyncDir(this.dir);
  }

  private readStartCheckpoint(): number | null {
    return this.readOffsetFile(LOG_START_OFFSET_FILE);
  }

  private readOffsetFile(name: string): number | null {
    const path = join(this.dir, name);
    if (!exists(path)) return null;
    const n = Number(readText(path).trim());
    return Number.isSafeInteger(n) && n >= 0 ? n : null;
  }

  private writeStartCheckpoint(): void {
    writeFileAtomic(join(this.dir, LOG_START_OFFSET_FILE), new TextEncoder().encode(`${this.startOffset}\n`), { fsync: this.syncing });
  }

  // ---------------------------------------------------------------- append

  /**
   * Appends one or more v2 batches (concatenated, as in a Produce request),
   * assigning offsets from the log end. Patches baseOffset and
   * partitionLeaderEpoch in `batches` in place (both outside the CRC), then
   * writes them; the caller may reuse the buffer afterwards. `placeAt` (at or
   * past the log end) starts them there instead, leaving a gap of offsets
   * (klite mirror copying a source log's compaction and marker gaps).
   */
  append(batches: Uint8Array, leaderEpoch = this.leaderEpoch, placeAt?: number): { baseOffset: number; lastOffset: number; position: number } {
    if (this.closed) throw new LogAppendError(`log ${this.dir} is closed`);
    if (this.failure) throw this.failure;
    if (batches.length === 0) throw new LogAppendError("no batches to append");
    if (this.markerKept && !this.syncing) {
      // fsync=never: consumers may read these records and a power loss may take them back to exactly
      // the clean close's size; the marker must be gone by then, durably, so that start begins a new epoch.
      try {
        this.dropCleanShutdownMarker(true);
      } catch (e) {
        throw this.fail(e, "removing the clean-shutdown marker");
      }
    }
    if (placeAt !== undefined && !(Number.isSafeInteger(placeAt) && placeAt >= this.endOffset)) throw new LogAppendError(`cannot place batches at ${placeAt}, below the log end ${this.endOffset}`);
    const view = viewOf(batches);
    const baseOffset = placeAt ?? this.endOffset;
    let next = baseOffset;
    let maxTimestamp = -1;
    for (let pos = 0; pos < batches.length; pos += batchSize(view, pos)) {
      const problem = headerProblem(view, pos, batches.length - pos);
      if (problem) throw new LogAppendError(`batch at byte ${pos}: ${problem}`);
      next += batchLastOffsetDelta(view, pos) + 1;
      maxTimestamp = Math.max(maxTimestamp, batchMaxTimestamp(view, pos));
    }
    const lastOffset = next - 1;
    if (!Number.isSafeInteger(lastOffset)) throw new LogAppendError("offsets exhausted");
    const now = Date.now();
    if (placeAt !== undefined && placeAt > this.endOffset && !this.placedGaps) {
      // Recovery checks that the active segment has no gaps unless told otherwise, durably, before the first gap is written.
      try {
        if (!exists(join(this.dir, PLACED_GAPS_FILE))) writeFileAtomic(join(this.dir, PLACED_GAPS_FILE), new TextEncoder().encode("placed batches leave gaps in this log\n"), { fsync: this.syncing });
        this.placedGaps = true;
      } catch (e) {
        throw this.fail(e, "marking the log as holding placed gaps");
      }
    }
    try {
      // A placed batch far past the log end (a mirrored partition whose source log starts beyond 2^31)
      // would not fit the active segment's relative offsets even when that segment is empty: it gets one of its own.
      if (placeAt !== undefined && lastOffset - this.active.baseOffset > MAX_RELATIVE) {
        this.endOffset = placeAt;
        this.roll(now);
      }
      this.maybeRoll(batches.length, lastOffset, maxTimestamp, now);
    } catch (e) {
      throw this.fail(e, "rolling a segment");
    }

    next = baseOffset;
    for (let pos = 0; pos < batches.length; pos += batchSize(view, pos)) {
      writeInt64(view, pos, next);
      view.setInt32(pos + PARTITION_LEADER_EPOCH, leaderEpoch);
      next += batchLastOffsetDelta(view, pos) + 1;
    }
    const seg = this.active;
    const position = seg.size;
    try {
      seg.write(batches, now);
    } catch (e) {
      throw this.fail(e, "writing");
    }
    next = baseOffset;
    for (let pos = 0; pos < batches.length; ) {
      const size = batchSize(view, pos);
      const last = next + batchLastOffsetDelta(view, pos);
      seg.indexBatch(last, position + pos, size, batchMaxTimestamp(view, pos), this.config.indexIntervalBytes);
      next = last + 1;
      pos += size;
    }
    seg.size += batches.length;
    this.endOffset = lastOffset + 1;
    if (this.syncing) this.round = this.flusher.enqueue(this);
    else this.onVisible?.();
    return { baseOffset, lastOffset, position };
  }

  /**
   * Records an aborted transaction whose abort marker was just appended, in
   * the active segment's transaction index; made durable with the marker
   * (same fsync round) and counted in the log's failure like any write.
   */
  appendAbortedTxn(a: AbortedTxn): void {
    if (this.closed || this.failure) return;
    try {
      this.active.appendAbortedTxn(a);
    } catch (e) {
      // The marker's flush now fails: whoever waits for it learns the storage error there.
      this.fail(e, "writing the transaction index");
    }
  }

  /**
   * Aborted transactions that overlap [from, upper) (lastOffset >= from,
   * firstOffset < upper), for read_committed fetches: read from the
   * transaction indexes of the segment holding `from` onwards, stopping at
   * the first entry after which the last stable offset had reached `upper`.
   * Entries wholly below the log start are left out.
   */
  abortedTxns(from: number, upper: number): AbortedTxn[] {
    const out: AbortedTxn[] = [];
    if (this.closed || upper <= from) return out;
    for (let i = Math.max(0, this.segmentIndexFor(from)); i < this.segments.length; i++) {
      if (this.segments[i]!.collectAbortedTxns(from, upper, out)) break;
    }
    return out.length > 0 && out[0]!.lastOffset < this.startOffset ? out.filter((a) => a.lastOffset >= this.startOffset) : out;
  }

  /** Marks the log failed (once, logged) and returns the error appends get from now on. */
  private fail(cause: unknown, doing: string): LogStorageError {
    if (!this.failure) {
      const code = (cause as NodeJS.ErrnoException).code ?? "";
      this.failure = new LogStorageError(`log ${this.dir}: ${doing} failed (${code || cause}); it takes no more writes until restart`);
      this.config.logger?.error(`${this.failure.message}; ${cause}. Offsets below ${this.highWatermark} stay readable`);
    }
    return this.failure;
  }

  private maybeRoll(bytes: number, lastOffset: number, maxTimestamp: number, now: number): void {
    const seg = this.active;
    if (seg.size === 0) return;
    const full = seg.size + bytes > Math.min(this.config.segmentBytes, MAX_RELATIVE);
    const offsetsFull = lastOffset - seg.baseOffset > MAX_RELATIVE;
    // As Kafka: age by record time when both ends have timestamps, else by wall clock since creation.
    const age = seg.firstBatchTimestamp >= 0 && maxTimestamp >= 0 ? maxTimestamp - seg.firstBatchTimestamp : now - seg.createdMs;
    if (full || offsetsFull || age > this.config.segmentMs) this.roll(now);
  }

  /** Seals the active segment and starts a new one at the log end. */
  roll(now = Date.now()): void {
    const old = this.active;
    const next = Segment.create(this.dir, this.endOffset, now);
    try {
      // Sealing fsyncs the directory, which also makes the new file's name durable.
      old.seal(this.syncing);
    } catch (e) {
      next.delete();
      throw e;
    }
    this.segments.push(next);
  }

  /** Files with writes not yet fsynced (called by the flush scheduler). */
  takeDirtyFiles(): DataFile[] {
    this.flushingEnd = this.endOffset;
    this.flushingGeneration = this.generation;
    if (this.closed) return [];
    const file = this.active.activeFile;
    const files = file && file.dirty ? [file] : [];
    const txn = this.active.txnDirtyFile;
    if (txn) files.push(txn);
    return files;
  }

  afterFlush(error: unknown): void {
    if (this.closed) return;
    if (error !== null) {
      this.fail(error, "fsync");
      return;
    }
    if (this.failure || this.flushingGeneration !== this.generation || this.flushingEnd <= this.durableEnd) return;
    this.durableEnd = this.flushingEnd;
    this.onVisible?.();
  }

  /**
   * Resolves when everything appended so far is durable (at once with
   * fsync=never); rejects when its fsync failed.
   */
  flushed(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.round) return Promise.resolve();
    // A round that succeeded after an earlier one failed proves nothing: the earlier writes before these may be gone.
    return this.round.outcome(this).then(
      () => {
        if (this.failure) throw this.failure;
      },
      // The round's own error (EIO...) was turned into the log's failure by afterFlush: callers get one kind of error.
      (e) => {
        throw this.failure ?? e;
      },
    );
  }

  // ---------------------------------------------------------------- reads

  /** Index of the segment holding `offset`: the last whose base is at or below it (-1: none). */
  private segmentIndexFor(offset: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.segments[mid]!.baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** The batch containing `offset` (or the first after it) and its segment's index. */
  private locate(offset: number): { index: number; header: BatchHeader } | null {
    const holder = this.segmentIndexFor(offset);
    for (let i = Math.max(0, holder); i < this.segments.length; i++) {
      const seg = this.segments[i]!;
      const header = i === holder ? seg.locate(offset) : seg.headerAt(0);
      if (header) return { index: i, header };
    }
    return null;
  }

  /**
   * Whole batches from the one containing `offset`, up to `maxBytes`, but at
   * least one whole batch when `minOneBatch` (KIP-74). The chunks are copies
   * in recycled buffers (see Segment.readFrom). `offset` == log end: nothing.
   */
  read(offset: number, maxBytes: number, minOneBatch: boolean): { chunks: Uint8Array[]; size: number } | "out_of_range" {
    if (offset < this.startOffset || offset > this.endOffset) return "out_of_range";
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (offset === this.endOffset || this.closed) return { chunks, size };
    const start = this.locate(offset);
    if (!start) return { chunks, size };
    let first: BatchHeader | null = start.header;
    for (let i = start.index; i < this.segments.length && first; ) {
      const seg = this.segments[i]!;
      const bytes = seg.readFrom(first, maxBytes - size, minOneBatch && size === 0, READ_CAP);
      if (bytes.length === 0) break;
      chunks.push(bytes);
      size += bytes.length;
      // Continue into the next segment only when this one was read to its end.
      if (first.position + bytes.length < seg.size) break;
      i++;
      first = i < this.segments.length ? this.segments[i]!.headerAt(0) : null;
    }
    return { chunks, size };
  }

  /**
   * Batches from the one containing `fromOffset` (at least the log start) to
   * the log end, for scans. Appends during iteration are seen; other changes
   * to the log are not allowed.
   */
  *batches(fromOffset: number): Generator<StoredBatch> {
    for (const { segment, header } of this.headers(Math.max(fromOffset, this.startOffset))) {
      yield { baseOffset: header.baseOffset, lastOffset: header.lastOffset, head: segment.batchHead(header), bytes: () => segment.batchBytes(header) };
    }
  }

  private *headers(fromOffset: number): Generator<{ segment: Segment; header: BatchHeader }> {
    const start = this.locate(fromOffset);
    if (!start) return;
    let h: BatchHeader | null = start.header;
    for (let i = start.index; i < this.segments.length; ) {
      const segment = this.segments[i]!;
      if (!h) {
        i++;
        h = i < this.segments.length ? this.segments[i]!.headerAt(0) : null;
        continue;
      }
      yield { segment, header: h };
      h = segment.headerAt(h.position + h.size);
    }
  }

  /**
   * The first offset at or after the log start whose record timestamp is >=
   * `timestamp`. Segments and the time index narrow the search to batches
   * whose max timestamp reaches it; `inBatch` finds the record inside (given
   * the batch bytes and the lowest acceptable offset), or null to move on.
   */
  offsetForTimestamp(
    timestamp: number,
    inBatch: (batch: Uint8Array, minOffset: number) => RecordMatch,
  ): { offset: number; timestamp: number } | null {
    const first = Math.max(0, this.segmentIndexFor(this.startOffset));
    for (let i = first; i < this.segments.length; i++) {
      const seg = this.segments[i]!;
      if (seg.maxTimestamp < timestamp) continue;
      const rel = seg.timeSearchStart(timestamp);
      const from = Math.max(rel < 0 ? seg.baseOffset : seg.baseOffset + rel, this.startOffset);
      for (let h = seg.locate(from); h; h = seg.headerAt(h.position + h.size)) {
        if (h.maxTimestamp < timestamp) continue;
        const found = this.matchIn(seg, h, inBatch);
        if (found) return found;
      }
    }
    return null;
  }

  private matchIn(
    seg: Segment,
    h: BatchHeader,
    inBatch: (batch: Uint8Array, minOffset: number) => RecordMatch,
  ): { offset: number; timestamp: number } | null {
    const r = inBatch(seg.batchBytes(h), this.startOffset);
    if (r === null) return null;
    const m = typeof r === "number" ? { offset: r, timestamp: h.maxTimestamp } : r;
    return m.offset < this.startOffset ? { offset: this.startOffset, timestamp: m.timestamp } : m;
  }

  /**
   * The largest timestamp in the log (from the log start) and where it is, for
   * ListOffsets MAX_TIMESTAMP: the earliest batch holding it, refined to the
   * record by `inBatch` when given (else the batch's last offset). Null when
   * the log has no timestamps.
   */
  maxTimestamp(inBatch?: (batch: Uint8Array) => RecordMatch): { offset: number; timestamp: number } | null {
    let best: { seg: Segment; timestamp: number; offset: number } | null = null;
    const first = Math.max(0, this.segmentIndexFor(this.startOffset));
    for (let i = first; i < this.segments.length; i++) {
      const seg = this.segments[i]!;
      let ts = seg.maxTimestamp;
      let offset = seg.offsetOfMaxTimestamp;
      if (ts >= 0 && offset < this.startOffset) {
        // The segment's maximum lies below the log start: recompute over what is left.
        ts = -1;
        for (let h = seg.locate(this.startOffset); h; h = seg.headerAt(h.position + h.size)) {
          if (h.maxTimestamp > ts) {
            ts = h.maxTimestamp;
            offset = h.lastOffset;
          }
        }
      }
      if (ts >= 0 && (!best || ts > best.timestamp)) best = { seg, timestamp: ts, offset };
    }
    if (!best) return null;
    const h = best.seg.locate(best.offset);
    if (!h) return null;
    const fallback = { offset: h.lastOffset, timestamp: h.maxTimestamp };
    return (inBatch && this.matchIn(best.seg, h, (b) => inBatch(b))) || fallback;
  }

  sizeBytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.size;
    return n;
  }

  // ---------------------------------------------------------------- deletion

  /** DeleteRecords: moves the log start up to `offset` (at most the log end), dropping segments wholly below it. */
  deleteRecordsBefore(offset: number): void {
    const target = Math.min(offset, this.endOffset);
    if (target <= this.startOffset) return;
    this.startOffset = target;
    this.writeStartCheckpoint();
    this.deleteSegmentsBelowStart();
    if (this.epochs.truncateFromStart(this.startOffset)) this.epochs.write();
  }

  private deleteSegmentsBelowStart(): void {
    let n = 0;
    while (n + 1 < this.segments.length && this.segments[n + 1]!.baseOffset <= this.startOffset) n++;
    this.deleteFront(n);
  }

  private deleteFront(n: number): void {
    if (n === 0) return;
    for (const s of this.segments.splice(0, n)) s.delete();
    this.startOffset = Math.max(this.startOffset, this.segments[0]!.baseOffset);
    // During recovery the epochs are not loaded yet; they are fitted to the start afterwards.
    if (this.epochs?.truncateFromStart(this.startOffset)) this.epochs.write();
    // Deleted index files keep their disk space while mapped; a GC pass releases unreferenced mappings.
    Bun.gc(false);
  }

  /**
   * retention.ms / retention.bytes: deletes whole segments from the front.
   * When the active segment itself is due, a new empty one is rolled first
   * (as Kafka does), so the active segment is never the one deleted.
   * Returns what it deleted.
   */
  applyRetention(now: number): { segments: number; bytes: number } {
    const none = { segments: 0, bytes: 0 };
    if (this.closed) return none;
    // A compact-only topic keeps every segment: the cleaner alone decides what goes.
    if (this.config.cleanupPolicy && !this.config.cleanupPolicy.delete) return none;
    const { retentionMs, retentionBytes } = this.config;
    let n = 0;
    if (retentionMs >= 0) {
      while (n < this.segments.length) {
        const seg = this.segments[n]!;
        const newest = seg.maxTimestamp >= 0 ? seg.maxTimestamp : seg.lastModifiedMs;
        if ((seg.isActive && seg.size === 0) || now - newest <= retentionMs) break;
        n++;
      }
    }
    if (retentionBytes >= 0) {
      let excess = this.sizeBytes() - retentionBytes;
      for (let i = 0; i < this.segments.length; i++) {
        const seg = this.segments[i]!;
        if ((seg.isActive && seg.size === 0) || excess - seg.size < 0) break;
        excess -= seg.size;
        n = Math.max(n, i + 1);
      }
    }
    if (n === 0) return none;
    let bytes = 0;
    for (let i = 0; i < n; i++) bytes += this.segments[i]!.size;
    if (n === this.segments.length) this.roll();
    this.deleteFront(n);
    return { segments: n, bytes };
  }

  /** Drops everything at or after `offset` (the whole batch containing it); the log end moves back. */
  truncateTo(offset: number): void {
    if (this.closed || offset >= this.endOffset) return;
    this.generation++;
    this.dropCleanShutdownMarker();
    // The recovery point on disk may lie past the new end until the next checkpoint write: records
    // appended again below it are walked by their headers only after a crash (no CRC check).
    this.cutTo(offset);
    this.durableEnd = Math.min(this.durableEnd, this.endOffset);
    // Records past the new end may have been read: a new epoch lets consumers find out.
    const before = this.epochs.latestEpoch;
    this.epochs.truncateFromEnd(this.endOffset);
    this.epochs.assign(before + 1, this.endOffset);
    this.epochs.write();
  }

  private cutTo(offset: number): void {
    if (offset <= this.startOffset) {
      for (const s of this.segments.splice(0)) s.delete();
      this.segments.push(Segment.create(this.dir, offset, Date.now()));
      if (this.syncing) fsyncDir(this.dir);
      this.startOffset = this.endOffset = offset;
      this.writeStartCheckpoint();
      this.dirtyFromEnd();
      return;
    }
    const i = Math.max(0, this.segmentIndexFor(offset));
    for (const s of this.segments.splice(i + 1)) s.delete();
    const seg = this.segments[i]!;
    const h = seg.locate(offset);
    const cut = h ? h.position : seg.size;
    this.endOffset = h ? h.baseOffset : offset;
    if (seg.isActive) {
      seg.truncateAndActivate(cut, this.config.indexIntervalBytes);
    } else {
      // Keep the shortened segment sealed and start a fresh active one at the new end, so
      // the active segment always holds gap-free offsets from its base (recovery checks that).
      if (cut === 0) this.segments.splice(i, 1)[0]!.delete();
      else {
        seg.truncateAndActivate(cut, this.config.indexIntervalBytes);
        seg.seal(this.syncing);
      }
      this.segments.push(Segment.create(this.dir, this.endOffset, Date.now()));
      if (this.syncing) fsyncDir(this.dir);
    }
    if (this.endOffset < this.startOffset) {
      this.startOffset = this.endOffset;
      this.writeStartCheckpoint();
    }
    this.dirtyFromEnd();
  }

  /** Offsets appended again after a truncation are dirty, whatever the cleaner had reached. */
  private dirtyFromEnd(): void {
    if ((this.readOffsetFile(CLEANER_CHECKPOINT_FILE) ?? 0) > this.endOffset) this.setFirstDirtyOffset(this.endOffset);
  }

  // ---------------------------------------------------------------- cleaner

  /** The segments the cleaner may rewrite: every one but the active. */
  sealedSegments(): readonly Segment[] {
    return this.closed ? [] : this.segments.slice(0, -1);
  }

  get activeBaseOffset(): number {
    return this.active.baseOffset;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The settings in force (the cleaner writes segments with them). */
  get settings(): LogConfig {
    return this.config;
  }

  /** First offset not cleaned yet (Kafka's cleaner checkpoint), within the log. */
  get firstDirtyOffset(): number {
    this.cleanedUpTo ??= this.readOffsetFile(CLEANER_CHECKPOINT_FILE) ?? 0;
    return Math.min(Math.max(this.cleanedUpTo, this.startOffset), this.endOffset);
  }

  setFirstDirtyOffset(offset: number): void {
    this.cleanedUpTo = offset;
    writeFileAtomic(join(this.dir, CLEANER_CHECKPOINT_FILE), new TextEncoder().encode(`${offset}\n`), { fsync: this.syncing });
  }

  /**
   * What swapping a cleaned segment in for the consecutive sealed segments
   * `old` replaces: [their base, the next segment's base). Null when they are
   * no longer consecutive sealed segments of the log (retention, DeleteRecords,
   * truncation or close took one away).
   */
  swapPlan(old: readonly Segment[]): SwapPlan | null {
    const at = this.closed ? -1 : this.segments.indexOf(old[0]!);
    const fits = at >= 0 && at + old.length < this.segments.length && old.every((s, i) => this.segments[at + i] === s);
    return fits ? { base: old[0]!.baseOffset, end: this.segments[at + old.length]!.baseOffset } : null;
  }

  /**
   * Swaps in the segment the cleaner wrote (sealed, under `.cleaned` names,
   * its swap committed: see swap.ts) for the segments `old`. False, with
   * nothing changed, when the log moved under the cleaner since `plan`.
   */
  replaceSegments(old: readonly Segment[], plan: SwapPlan): boolean {
    const now = this.swapPlan(old);
    if (!now || now.base !== plan.base || now.end !== plan.end) return false;
    const at = this.segments.indexOf(old[0]!);
    for (const s of old) s.close();
    applySwap(this.dir, plan);
    const fresh = Segment.openSealed(this.dir, plan.base, plan.end) ?? this.rescanSealed(plan.base, plan.end);
    this.segments.splice(at, old.length, fresh);
    // Replaced index files keep their disk space while mapped; a GC pass releases unreferenced mappings.
    Bun.gc(false);
    return true;
  }

  private rescanSealed(base: number, limitOffset: number): Segment {
    const { segment, fileSize } = Segment.openForScan(this.dir, base, Date.now());
    scanSegment(segment, segment.activeFile!, fileSize, this.config.crc32c, this.config.indexIntervalBytes, { contiguous: false, limitOffset });
    segment.seal(this.syncing);
    return segment;
  }

  /**
   * Makes everything durable, records a clean shutdown (the active segment's
   * indexes and a marker, so the next open skips its scan) and closes files;
   * the log is unusable afterwards.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.failure) {
      // No clean-shutdown marker: what the failed write or fsync left must be checked by a scan at the next start.
      for (const s of this.segments) s.close();
      return;
    }
    const seg = this.active;
    try {
      if (seg.activeFile?.dirty) seg.activeFile.syncNow();
      seg.txnDirtyFile?.syncNow();
      seg.writeIndexes(true);
      // After a failed write or fsync the next start must treat the log as crashed.
      if (this.failure) return;
      const marker = `${seg.baseOffset} ${seg.size} ${this.endOffset}\n`;
      writeFileAtomic(join(this.dir, CLEAN_SHUTDOWN_FILE), new TextEncoder().encode(marker));
    } finally {
      for (const s of this.segments) s.close();
    }
  }

  /** Closes the log and removes its directory (DeleteTopics), renamed to a `-delete` name first. */
  deleteAll(): void {
    this.closed = true;
    for (const s of this.segments) s.close();
    this.segments = [];
    deletePartitionDir(this.dir, this.syncing);
  }
}
