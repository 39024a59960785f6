// A segment's aborted-transaction index, Kafka's `.txnindex`: one fixed-size
// entry per abort marker in the segment, in marker order (version int16,
// producerId int64, firstOffset int64, lastOffset int64, lastStableOffset
// int64). read_committed fetches look up the aborted transactions that overlap
// what they return here, so nothing about aborted transactions is held in
// memory whatever their number. The active segment's index is appended to as
// markers are written and made durable in the same fsync rounds as its log;
// recovery rebuilds it (and any missing or damaged one) from the log.

import { DataFile } from "./data-file.ts";
import { readInt64, viewOf, writeInt64 } from "./batch-header.ts";
import { exists, statPath, unlinkIfExists } from "./storage.ts";

export interface AbortedTxn {
  producerId: number;
  firstOffset: number;
  /** Offset of the abort marker. */
  lastOffset: number;
  /** The partition's last stable offset right after the marker: lets a lookup stop early. */
  lastStableOffset: number;
}

export const TXN_ENTRY = 34;
const VERSION = 0;
/** Entries read at a time when scanning forward. */
const CHUNK_ENTRIES = 1024;

function encode(a: AbortedTxn, into: Uint8Array, at: number): void {
  const v = viewOf(into);
  v.setInt16(at, VERSION);
  writeInt64(v, at + 2, a.producerId);
  writeInt64(v, at + 10, a.firstOffset);
  writeInt64(v, at + 18, a.lastOffset);
  writeInt64(v, at + 26, a.lastStableOffset);
}

function decode(v: DataView, at: number): AbortedTxn {
  return { producerId: readInt64(v, at + 2), firstOffset: readInt64(v, at + 10), lastOffset: readInt64(v, at + 18), lastStableOffset: readInt64(v, at + 26) };
}

export class TxnIndex {
  private constructor(
    readonly path: string,
    /** Open for appends (the active segment, or one being rebuilt); sealed indexes are opened per lookup. */
    private file: DataFile | null,
    private entries: number,
  ) {}

  /** A new, empty index open for appends (replacing any file of that name). */
  static create(path: string): TxnIndex {
    return new TxnIndex(path, DataFile.create(path), 0);
  }

  /**
   * The index of a segment holding offsets [base, limit), or null when it is
   * missing or damaged (then it must be rebuilt from the log).
   */
  static open(path: string, base: number, limit: number): TxnIndex | null {
    if (!exists(path)) return null;
    const size = statPath(path).size;
    if (size % TXN_ENTRY !== 0) return null;
    const index = new TxnIndex(path, null, size / TXN_ENTRY);
    if (index.entries === 0) return index;
    // Entries are in marker order, so sane ends bound them all.
    const first = index.entryAt(0);
    const last = index.entryAt(index.entries - 1);
    const sane = (a: AbortedTxn | null) => a !== null && a.lastOffset >= base && a.lastOffset < limit && a.firstOffset <= a.lastOffset && a.firstOffset >= 0;
    return sane(first) && sane(last) && first!.lastOffset <= last!.lastOffset ? index : null;
  }

  /** Re-opens a sealed index for appends (a truncation made its segment active again). */
  reopen(): void {
    this.file ??= DataFile.open(this.path);
  }

  get count(): number {
    return this.entries;
  }

  /** The file when it holds unsynced appends (for the flush round). */
  get dirtyFile(): DataFile | null {
    return this.file?.dirty ? this.file : null;
  }

  append(a: AbortedTxn): void {
    const buf = new Uint8Array(TXN_ENTRY);
    encode(a, buf, 0);
    this.file!.write(buf, this.entries * TXN_ENTRY);
    this.entries++;
  }

  /** Drops entries whose marker is at or past `offset` (a truncation of the log). */
  truncateFrom(offset: number): void {
    let keep = this.entries;
    while (keep > 0 && this.entryAt(keep - 1)!.lastOffset >= offset) keep--;
    if (keep === this.entries) return;
    this.reopen();
    this.file!.truncate(keep * TXN_ENTRY);
    this.entries = keep;
  }

  syncNow(): void {
    if (this.file?.dirty) this.file.syncNow();
  }

  /** Stops taking appends: made durable first when `fsync`. */
  seal(fsync: boolean): void {
    if (fsync) this.syncNow();
    this.file?.close();
    this.file = null;
  }

  close(): void {
    this.file?.close();
    this.file = null;
  }

  delete(): void {
    this.close();
    unlinkIfExists(this.path);
  }

  /**
   * Adds to `out` the entries with lastOffset >= `from` and firstOffset <
   * `upper` (Kafka's rule). True when the lookup is complete: an entry's last
   * stable offset reached `upper`, so every transaction that began below it
   * had ended by then and later segments need not be looked at.
   */
  collect(from: number, upper: number, out: AbortedTxn[]): boolean {
    if (this.entries === 0) return false;
    const file = this.file ?? DataFile.openReadOnly(this.path);
    try {
      const one = new Uint8Array(TXN_ENTRY);
      const at = (i: number): AbortedTxn | null => (file.read(one, i * TXN_ENTRY) === TXN_ENTRY ? decode(viewOf(one), 0) : null);
      // Entries are in marker order: bisect to the first whose marker is at or after `from`.
      let lo = 0;
      let hi = this.entries;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const e = at(mid);
        if (e && e.lastOffset < from) lo = mid + 1;
        else hi = mid;
      }
      const chunk = new Uint8Array(CHUNK_ENTRIES * TXN_ENTRY);
      const view = viewOf(chunk);
      for (let i = lo; i < this.entries; ) {
        const got = Math.floor(file.read(chunk, i * TXN_ENTRY, Math.min(CHUNK_ENTRIES, this.entries - i) * TXN_ENTRY) / TXN_ENTRY);
        if (got === 0) return false;
        for (let j = 0; j < got; j++) {
          const a = decode(view, j * TXN_ENTRY);
          if (a.lastOffset >= from && a.firstOffset < upper) out.push(a);
          if (a.lastStableOffset >= upper) return true;
        }
        i += got;
      }
      return false;
    } finally {
      if (file !== this.file) file.close();
    }
  }

  private entryAt(i: number): AbortedTxn | null {
    const file = this.file ?? DataFile.openReadOnly(this.path);
    try {
      const buf = new Uint8Array(TXN_ENTRY);
      return file.read(buf, i * TXN_ENTRY) === TXN_ENTRY ? decode(viewOf(buf), 0) : null;
    } finally {
      if (file !== this.file) file.close();
    }
  }
}
