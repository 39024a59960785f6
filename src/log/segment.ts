// One segment: a .log file of whole batches plus its sparse indexes.
//
// Active segment: open fd, positional writes, positional reads sized by the
// request, indexes in memory (written out when it is sealed; recovery
// rebuilds them from the log, so a crash never leaves a stale index behind).
// Sealed segment: read-only; its index files are mmapped lazily, and its log
// is read like the active one, with positional reads sized by the request
// into recycled buffers, so nothing loads a segment onto the heap.
//
// The log is not mapped, though it could be: measured on the 2-core VM, a
// pipelined reader fetching 1 GB from mapped 64 MiB segments cost the broker
// 0.76-1.0 s of CPU (a page fault per 4 KiB) and mapped pages took RSS to
// 340-865 MB, against 0.43-0.56 s and about 140 MB reading into buffers.
// Index files are small and read at random, so they stay mapped; they are
// only ever replaced whole (by rename), never shortened under a mapping.

import { takeBuffer } from "../util/buffer-pool.ts";
import { DataFile } from "./data-file.ts";
import { exists, readFile, statPath, storageFor, unlinkIfExists } from "./storage.ts";
import { writeFilesAtomic } from "./atomic-file.ts";
import {
  HEADER_SIZE,
  INDEXED_PREFIX,
  LOG_OVERHEAD,
  batchBaseOffset,
  batchLastOffsetDelta,
  batchMaxTimestamp,
  batchSize,
  viewOf,
} from "./batch-header.ts";
import { OffsetIndex, TimeIndex } from "./sparse-index.ts";
import { CLEANED_SUFFIX, INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX, segmentName, segmentPath } from "./segment-files.ts";
import { TxnIndex, type AbortedTxn } from "./txn-index.ts";

export interface BatchHeader {
  /** File position of the batch in its segment. */
  position: number;
  baseOffset: number;
  lastOffset: number;
  size: number;
  maxTimestamp: number;
}

/** Largest relative offset or position an index entry can hold. */
export const MAX_RELATIVE = 0x7fffffff;

// Batch headers are read into this, one at a time (single-threaded).
const scratch = new Uint8Array(INDEXED_PREFIX);
const scratchView = viewOf(scratch);
const EMPTY = new Uint8Array(0);

// Sealed segments being read keep a read-only fd open; the least recently
// read are closed past this many, so thousands of segments need no more fds.
// One limit per process, like the fd table it protects (--max-open-segment-files).
let maxOpenSealed = 128;
/** Open read fds of sealed segments, least recently read first. */
const sealedReaders = new Map<Segment, DataFile>();
/** The last entry of sealedReaders: reads in a row from one segment skip reordering the map. */
let lastReader: Segment | null = null;

function closeLeastRecentReaders(): void {
  while (sealedReaders.size > maxOpenSealed) {
    const [oldest, file] = sealedReaders.entries().next().value!;
    sealedReaders.delete(oldest);
    if (lastReader === oldest) lastReader = null;
    file.close();
  }
}

/** How many sealed segments may hold a read fd at once (at least 1); closes any beyond it now. */
export function setMaxOpenSealedSegments(n: number): void {
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`max open sealed segments must be a positive integer, not ${n}`);
  maxOpenSealed = n;
  closeLeastRecentReaders();
}

/** Sealed segments holding a read fd now. */
export function openSealedSegments(): number {
  return sealedReaders.size;
}

function mapFile(path: string, size: number): Uint8Array {
  return storageFor(path).map(path, size);
}

/** Reads `length` bytes at `position` of a closed file, for checks at open. */
function readAt(path: string, position: number, length: number): DataView {
  const buf = new Uint8Array(length);
  const file = DataFile.openReadOnly(path);
  try {
    if (file.read(buf, position, length) !== length) throw new Error(`short read of ${path}`);
  } finally {
    file.close();
  }
  return viewOf(buf);
}

export class Segment {
  /** Bytes of whole batches in the file. */
  size: number;
  /** Largest batch max timestamp, and the last offset of the first batch that has it (-1: none). */
  maxTimestamp = -1;
  offsetOfMaxTimestamp = -1;
  /** Max timestamp of the first batch: segment.ms counts from it, as in Kafka. */
  firstBatchTimestamp = -1;
  /** When the segment was created or loaded; segment.ms falls back to it without timestamps. */
  readonly createdMs: number;
  /** Retention by time falls back to it when no batch carries a timestamp. */
  lastModifiedMs: number;

  private file: DataFile | null;
  private offsetIndex: OffsetIndex | null = null;
  private timeIndex: TimeIndex | null = null;
  private bytesSinceIndexEntry = 0;
  /** The aborted-transaction index; null when missing or damaged until recovery rebuilds it. */
  private txn: TxnIndex | null = null;
  /** Recovery is refilling the transaction index from the log: it stays open for that until finishTxnRebuild(). */
  private txnRebuilding = false;
  /** Closed or deleted: reads find nothing (an iterator may outlive its segment). */
  private closed = false;

  private constructor(
    readonly dir: string,
    readonly baseOffset: number,
    size: number,
    file: DataFile | null,
    now: number,
    /** Appended to every file name: CLEANED_SUFFIX for a segment the cleaner is writing, else empty. */
    private readonly tag = "",
  ) {
    this.size = size;
    this.file = file;
    this.createdMs = now;
    this.lastModifiedMs = now;
    if (file) {
      this.offsetIndex = new OffsetIndex();
      this.timeIndex = new TimeIndex();
    }
  }

  get name(): string {
    return segmentName(this.baseOffset);
  }
  get logPath(): string {
    return segmentPath(this.dir, this.baseOffset, LOG_SUFFIX + this.tag);
  }
  get indexPath(): string {
    return segmentPath(this.dir, this.baseOffset, INDEX_SUFFIX + this.tag);
  }
  get timeIndexPath(): string {
    return segmentPath(this.dir, this.baseOffset, TIME_INDEX_SUFFIX + this.tag);
  }
  get txnIndexPath(): string {
    return segmentPath(this.dir, this.baseOffset, TXN_INDEX_SUFFIX + this.tag);
  }
  get isActive(): boolean {
    return this.file !== null;
  }
  /** The open file of the active segment. */
  get activeFile(): DataFile | null {
    return this.file;
  }

  /** A new, empty active segment. */
  static create(dir: string, baseOffset: number, now: number): Segment {
    const seg = new Segment(dir, baseOffset, 0, DataFile.create(segmentPath(dir, baseOffset, LOG_SUFFIX)), now);
    seg.txn = TxnIndex.create(seg.txnIndexPath);
    return seg;
  }

  /**
   * A new segment written beside the live ones under `<base>.log.cleaned`
   * (and its indexes likewise once sealed): the cleaner's output until the
   * swap renames it into place.
   */
  static createCleaned(dir: string, baseOffset: number, now: number): Segment {
    const seg = new Segment(dir, baseOffset, 0, DataFile.create(segmentPath(dir, baseOffset, LOG_SUFFIX + CLEANED_SUFFIX)), now, CLEANED_SUFFIX);
    seg.txn = TxnIndex.create(seg.txnIndexPath);
    return seg;
  }

  /**
   * An existing segment opened for writing with empty in-memory indexes: the
   * caller rebuilds them by scanning (recovery) and may then seal it.
   */
  static openForScan(dir: string, baseOffset: number, now: number): { segment: Segment; fileSize: number } {
    const file = DataFile.open(segmentPath(dir, baseOffset, LOG_SUFFIX));
    const fileSize = statPath(file.path).size;
    return { segment: new Segment(dir, baseOffset, 0, file, now), fileSize };
  }

  /**
   * The active segment after a clean shutdown: its index files, written at
   * close, are loaded into memory instead of rescanning the log. Null when
   * they do not look sound (then it is scanned like after a crash).
   */
  static openCleanActive(dir: string, baseOffset: number, size: number, nextOffset: number): Segment | null {
    const indexPath = segmentPath(dir, baseOffset, INDEX_SUFFIX);
    const timePath = segmentPath(dir, baseOffset, TIME_INDEX_SUFFIX);
    if (!exists(indexPath) || !exists(timePath)) return null;
    const index = new OffsetIndex(readFile(indexPath));
    const times = new TimeIndex(readFile(timePath));
    const entriesFit =
      index.contents().length === statPath(indexPath).size &&
      times.contents().length === statPath(timePath).size &&
      (index.count === 0 || (index.relativeOffset(index.count - 1) < nextOffset - baseOffset && index.position(index.count - 1) < size)) &&
      (times.count === 0 || (times.relativeOffset(times.count - 1) < nextOffset - baseOffset && times.timestamp(times.count - 1) >= 0));
    if (!entriesFit) return null;
    const seg = new Segment(dir, baseOffset, size, DataFile.open(segmentPath(dir, baseOffset, LOG_SUFFIX)), Date.now());
    seg.offsetIndex = index;
    seg.timeIndex = times;
    seg.txn = TxnIndex.open(seg.txnIndexPath, baseOffset, nextOffset);
    seg.txn?.reopen();
    const last = times.last();
    if (last) {
      seg.maxTimestamp = last.timestamp;
      seg.offsetOfMaxTimestamp = baseOffset + last.relativeOffset;
    }
    const first = seg.headerAt(0);
    if (size > 0 && !first) {
      seg.close();
      return null;
    }
    seg.firstBatchTimestamp = first ? first.maxTimestamp : -1;
    seg.bytesSinceIndexEntry = index.count === 0 ? size : size - index.position(index.count - 1);
    return seg;
  }

  /**
   * A sealed segment whose index files look sound, or null when they are
   * missing or damaged (then the segment must be rescanned). `limitOffset` is
   * the next segment's base: no entry can reach it.
   */
  static openSealed(dir: string, baseOffset: number, limitOffset: number): Segment | null {
    const logPath = segmentPath(dir, baseOffset, LOG_SUFFIX);
    const indexPath = segmentPath(dir, baseOffset, INDEX_SUFFIX);
    const timePath = segmentPath(dir, baseOffset, TIME_INDEX_SUFFIX);
    if (!exists(indexPath) || !exists(timePath)) return null;
    const logStat = statPath(logPath);
    const indexSize = statPath(indexPath).size;
    const timeSize = statPath(timePath).size;
    if (indexSize % OffsetIndex.ENTRY !== 0 || timeSize % TimeIndex.ENTRY !== 0) return null;
    const maxRelative = Math.min(MAX_RELATIVE, limitOffset - baseOffset - 1);
    if (indexSize > 0) {
      // Entries increase, so a sane last entry bounds them all; never trust an index beyond the log.
      const v = readAt(indexPath, indexSize - OffsetIndex.ENTRY, OffsetIndex.ENTRY);
      const rel = v.getInt32(0);
      const pos = v.getInt32(4);
      if (rel < 0 || rel > maxRelative || pos < 0 || pos + HEADER_SIZE > logStat.size) return null;
    }
    const seg = new Segment(dir, baseOffset, logStat.size, null, Date.now());
    seg.lastModifiedMs = logStat.mtimeMs;
    seg.txn = TxnIndex.open(seg.txnIndexPath, baseOffset, limitOffset);
    if (timeSize > 0) {
      const v = readAt(timePath, timeSize - TimeIndex.ENTRY, TimeIndex.ENTRY);
      const ts = v.getInt32(0) * 2 ** 32 + v.getUint32(4);
      const rel = v.getInt32(8);
      if (rel < 0 || rel > maxRelative || ts < 0) return null;
      seg.maxTimestamp = ts;
      seg.offsetOfMaxTimestamp = baseOffset + rel;
    }
    return seg;
  }

  /** Accounts for one batch written at `position` (active segment): max timestamp and sparse index entries. */
  indexBatch(lastOffset: number, position: number, size: number, maxTimestamp: number, intervalBytes: number): void {
    if (position === 0) this.firstBatchTimestamp = maxTimestamp;
    if (maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = maxTimestamp;
      this.offsetOfMaxTimestamp = lastOffset;
    }
    if (this.bytesSinceIndexEntry > intervalBytes) {
      this.offsetIndex!.append(lastOffset - this.baseOffset, position);
      if (this.maxTimestamp >= 0) this.timeIndex!.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp - this.baseOffset);
      this.bytesSinceIndexEntry = 0;
    }
    this.bytesSinceIndexEntry += size;
  }

  /** Appends bytes of whole batches at the end of the active segment. */
  write(data: Uint8Array, now: number): void {
    const file = this.file!;
    try {
      file.write(data, this.size);
    } catch (e) {
      // Leave no partial batch behind for the next append to land after.
      try {
        file.truncate(this.size);
      } catch {
        // The write error is the one to report; recovery trims the tail anyway.
      }
      throw e;
    }
    this.lastModifiedMs = now;
  }

  /**
   * Turns the active segment into a sealed one: the data is made durable
   * first (when `fsync`), then the indexes are written atomically, so index
   * files on disk always describe durable data.
   */
  seal(fsync: boolean): void {
    const file = this.file!;
    if (fsync) file.syncNow();
    // The directory fsync of writeIndexes also makes a new transaction index's name durable.
    if (!this.txnRebuilding) this.txn?.seal(fsync);
    this.writeIndexes(fsync);
    file.close();
    this.file = null;
    this.offsetIndex = null;
    this.timeIndex = null;
  }

  /** Writes the in-memory indexes of the active segment, the max timestamp recorded last. */
  writeIndexes(fsync: boolean): void {
    if (this.maxTimestamp >= 0) this.timeIndex!.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp - this.baseOffset);
    writeFilesAtomic(
      this.dir,
      [
        { name: this.name + INDEX_SUFFIX + this.tag, data: this.offsetIndex!.contents() },
        { name: this.name + TIME_INDEX_SUFFIX + this.tag, data: this.timeIndex!.contents() },
      ],
      { fsync },
    );
  }

  /** Removes index files of the active segment: its indexes live in memory, files on disk would go stale. */
  removeIndexFiles(): void {
    unlinkIfExists(this.indexPath);
    unlinkIfExists(this.timeIndexPath);
  }

  /** The fd to read the log through: the active file, or a sealed segment's read-only one. */
  private reader(): DataFile | null {
    if (this.file) return this.file;
    if (this.closed) return null;
    let f = sealedReaders.get(this);
    if (f && lastReader === this) return f;
    if (f) sealedReaders.delete(this);
    else f = DataFile.openReadOnly(this.logPath);
    sealedReaders.set(this, f);
    lastReader = this;
    closeLeastRecentReaders();
    return f;
  }

  private closeReader(): void {
    const f = sealedReaders.get(this);
    if (!f) return;
    sealedReaders.delete(this);
    if (lastReader === this) lastReader = null;
    f.close();
  }

  private offsets(): OffsetIndex {
    if (!this.offsetIndex) {
      const size = exists(this.indexPath) ? statPath(this.indexPath).size : 0;
      this.offsetIndex = new OffsetIndex(mapFile(this.indexPath, size - (size % OffsetIndex.ENTRY)));
    }
    return this.offsetIndex;
  }

  private times(): TimeIndex {
    if (!this.timeIndex) {
      const size = exists(this.timeIndexPath) ? statPath(this.timeIndexPath).size : 0;
      this.timeIndex = new TimeIndex(mapFile(this.timeIndexPath, size - (size % TimeIndex.ENTRY)));
    }
    return this.timeIndex;
  }

  /** Header of the batch at `position`, or null at the end or where no sane batch is. */
  headerAt(position: number): BatchHeader | null {
    if (this.closed || position < 0 || position + HEADER_SIZE > this.size) return null;
    const file = this.reader();
    if (!file || file.read(scratch, position) < INDEXED_PREFIX) return null;
    const size = batchSize(scratchView, 0);
    if (size < HEADER_SIZE || position + size > this.size) return null;
    const baseOffset = batchBaseOffset(scratchView, 0);
    return { position, baseOffset, lastOffset: baseOffset + batchLastOffsetDelta(scratchView, 0), size, maxTimestamp: batchMaxTimestamp(scratchView, 0) };
  }

  /** The batch containing `offset` or, failing that, the first batch after it; null when the segment has none. */
  locate(offset: number): BatchHeader | null {
    let pos = offset > this.baseOffset ? this.offsets().lookup(Math.min(offset - this.baseOffset, MAX_RELATIVE)) : 0;
    if (pos >= this.size) pos = 0;
    for (;;) {
      const h = this.headerAt(pos);
      if (!h || h.lastOffset >= offset) return h;
      pos += h.size;
    }
  }

  /**
   * Fills `into` with the segment's bytes from `position` (at most to its
   * end); returns how many were read, -1 once the segment is closed. Bulk
   * reads for the cleaner, which walks whole segments.
   */
  readAt(into: Uint8Array, position: number): number {
    const file = this.reader();
    if (!file) return -1;
    return file.read(into, position, Math.max(0, Math.min(into.length, this.size - position)));
  }

  /** A fresh copy of the 61-byte header of a batch known from its header. */
  batchHead(h: BatchHeader): Uint8Array {
    const file = this.reader();
    const buf = new Uint8Array(HEADER_SIZE);
    return file ? buf.subarray(0, file.read(buf, h.position)) : EMPTY;
  }

  /** A fresh copy of one batch known from its header. */
  batchBytes(h: BatchHeader): Uint8Array {
    const file = this.reader();
    if (!file) return EMPTY;
    const buf = Buffer.allocUnsafe(h.size);
    const n = file.read(buf, h.position);
    return buf.subarray(0, n);
  }

  /**
   * Whole batches starting with `first`, at most `budget` bytes, or just the
   * first batch when it alone exceeds the budget and `forceFirst` (KIP-74).
   * At most max(first batch, min(budget, readCap)) bytes, in a recycled
   * buffer: the connection gives it back once the socket has taken the bytes.
   */
  readFrom(first: BatchHeader, budget: number, forceFirst: boolean, readCap: number): Uint8Array {
    if (first.size > budget) return forceFirst ? this.batchBytes(first) : EMPTY;
    const file = this.reader();
    if (!file) return EMPTY;
    const want = Math.max(first.size, Math.min(budget, this.size - first.position, readCap));
    const buf = takeBuffer(want);
    const got = file.read(buf, first.position, want);
    const view = viewOf(buf);
    let end = 0;
    while (end + LOG_OVERHEAD <= got) {
      const s = batchSize(view, end);
      if (s < HEADER_SIZE || end + s > got) break;
      end += s;
    }
    return buf.subarray(0, end);
  }

  /** Relative offset where a timestamp search should start (-1: the beginning). */
  timeSearchStart(timestamp: number): number {
    return this.times().startFor(timestamp);
  }

  /**
   * Rebuilds the in-memory state of the active segment from its batch
   * headers (after a truncation); returns the offset after the last batch.
   */
  reindex(intervalBytes: number): number {
    this.offsetIndex = new OffsetIndex();
    this.timeIndex = new TimeIndex();
    this.bytesSinceIndexEntry = 0;
    this.maxTimestamp = -1;
    this.offsetOfMaxTimestamp = -1;
    this.firstBatchTimestamp = -1;
    let next = this.baseOffset;
    let pos = 0;
    for (;;) {
      const h = this.headerAt(pos);
      if (!h) break;
      this.indexBatch(h.lastOffset, pos, h.size, h.maxTimestamp, intervalBytes);
      next = h.lastOffset + 1;
      pos += h.size;
    }
    return next;
  }

  /**
   * Cuts the segment at `position` and makes it the active one again. No
   * response holds a view of the log (reads are copies), so a sealed
   * segment is shortened in place; its index files go first, and the
   * in-memory indexes are rebuilt from the log.
   */
  truncateAndActivate(position: number, intervalBytes: number): number {
    if (!this.file) {
      this.closeReader();
      this.removeIndexFiles();
      this.file = DataFile.open(this.logPath);
    }
    this.file.truncate(position);
    this.size = position;
    const next = this.reindex(intervalBytes);
    if (this.txn) {
      this.txn.reopen();
      this.txn.truncateFrom(next);
    } else this.txn = TxnIndex.create(this.txnIndexPath);
    return next;
  }

  // ------------------------------------------------- aborted transactions

  /** The transaction index is missing or damaged (or was never checked): recovery must rebuild it. */
  get txnIndexMissing(): boolean {
    return this.txn === null;
  }

  /**
   * Empties the transaction index for recovery to refill from the log (see
   * finishTxnRebuild); true when its file is new (a name to make durable).
   */
  startTxnRebuild(): boolean {
    this.txn?.close();
    const created = !exists(this.txnIndexPath);
    this.txn = TxnIndex.create(this.txnIndexPath);
    this.txnRebuilding = true;
    return created;
  }

  get rebuildingTxnIndex(): boolean {
    return this.txnRebuilding;
  }

  /** The rebuilt transaction index is complete: a sealed segment's is made durable (when `fsync`) and closed. */
  finishTxnRebuild(fsync: boolean): void {
    this.txnRebuilding = false;
    if (this.file) {
      if (fsync) this.txn?.syncNow();
    } else this.txn?.seal(fsync);
  }

  /** Records an abort marker written to this segment (the active one, or one being rebuilt or cleaned). */
  appendAbortedTxn(a: AbortedTxn): void {
    this.txn!.append(a);
  }

  /** The transaction index's file when it holds unsynced entries. */
  get txnDirtyFile(): DataFile | null {
    return this.txn?.dirtyFile ?? null;
  }

  /** See TxnIndex.collect; a segment without a sound index contributes nothing. */
  collectAbortedTxns(from: number, upper: number, out: AbortedTxn[]): boolean {
    return !this.closed && this.txn !== null && this.txn.collect(from, upper, out);
  }

  /** Closes the fds and forgets the index mappings (unmapped once collected). */
  close(): void {
    this.closed = true;
    this.txn?.close();
    this.file?.close();
    this.file = null;
    this.closeReader();
    this.offsetIndex = null;
    this.timeIndex = null;
  }

  /** Closes and removes the segment's files. */
  delete(): void {
    this.close();
    unlinkIfExists(this.logPath);
    unlinkIfExists(this.indexPath);
    unlinkIfExists(this.timeIndexPath);
    unlinkIfExists(this.txnIndexPath);
  }
}
