// Kafka's sparse segment indexes, in their on-disk byte format (big-endian):
//   .index      int32 relative offset, int32 file position  (8 bytes/entry)
//   .timeindex  int64 timestamp,       int32 relative offset (12 bytes/entry)
// The same class serves the active segment (a growable in-memory buffer,
// written out when the segment is sealed) and sealed segments (an mmap view
// of the file), so lookups are one code path.

abstract class SparseIndex {
  protected bytes: Uint8Array;
  protected view: DataView;
  protected n: number;

  constructor(
    readonly entrySize: number,
    bytes: Uint8Array | null,
  ) {
    // A sealed index is exactly its entries; a fresh one starts small and doubles.
    this.bytes = bytes ?? new Uint8Array(entrySize * 64);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    this.n = bytes ? Math.floor(bytes.length / entrySize) : 0;
  }

  get count(): number {
    return this.n;
  }

  /** The entries in file format. */
  contents(): Uint8Array {
    return this.bytes.subarray(0, this.n * this.entrySize);
  }

  protected reserve(): void {
    if ((this.n + 1) * this.entrySize <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.entrySize * 64, this.bytes.length * 2));
    grown.set(this.bytes.subarray(0, this.n * this.entrySize));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }

  /** Last entry i whose key(i) <= key, or -1; keys increase strictly. */
  protected floorBy(key: number, keyAt: (i: number) => number): number {
    let lo = 0;
    let hi = this.n - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (keyAt(mid) <= key) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** Keeps the first `count` entries. */
  truncateEntries(count: number): void {
    this.n = Math.min(this.n, count);
  }
}

export class OffsetIndex extends SparseIndex {
  static readonly ENTRY = 8;

  constructor(bytes: Uint8Array | null = null) {
    super(OffsetIndex.ENTRY, bytes);
  }

  relativeOffset(i: number): number {
    return this.view.getInt32(i * 8);
  }
  position(i: number): number {
    return this.view.getInt32(i * 8 + 4);
  }

  append(relativeOffset: number, position: number): void {
    this.reserve();
    this.view.setInt32(this.n * 8, relativeOffset);
    this.view.setInt32(this.n * 8 + 4, position);
    this.n++;
  }

  /** File position to start scanning for `relativeOffset`: the batch of the last entry at or below it. */
  lookup(relativeOffset: number): number {
    const i = this.floorBy(relativeOffset, (k) => this.relativeOffset(k));
    return i < 0 ? 0 : this.position(i);
  }

  /** Drops the entries of batches at or beyond `position`. */
  truncateToPosition(position: number): void {
    let keep = this.n;
    while (keep > 0 && this.position(keep - 1) >= position) keep--;
    this.truncateEntries(keep);
  }
}

export class TimeIndex extends SparseIndex {
  static readonly ENTRY = 12;

  constructor(bytes: Uint8Array | null = null) {
    super(TimeIndex.ENTRY, bytes);
  }

  timestamp(i: number): number {
    return this.view.getInt32(i * 12) * 2 ** 32 + this.view.getUint32(i * 12 + 4);
  }
  relativeOffset(i: number): number {
    return this.view.getInt32(i * 12 + 8);
  }

  /** Appends only timestamps above the last entry, keeping the index monotonic. */
  maybeAppend(timestamp: number, relativeOffset: number): void {
    if (this.n > 0 && timestamp <= this.timestamp(this.n - 1)) return;
    this.reserve();
    const hi = Math.floor(timestamp / 2 ** 32);
    this.view.setInt32(this.n * 12, hi);
    this.view.setUint32(this.n * 12 + 4, timestamp - hi * 2 ** 32);
    this.view.setInt32(this.n * 12 + 8, relativeOffset);
    this.n++;
  }

  /**
   * Relative offset from which to scan for the first batch with max timestamp >= `timestamp`:
   * every batch indexed before the last entry below `timestamp` is entirely below it. -1: from the start.
   */
  startFor(timestamp: number): number {
    const i = this.floorBy(timestamp - 1, (k) => this.timestamp(k));
    return i < 0 ? -1 : this.relativeOffset(i);
  }

  last(): { timestamp: number; relativeOffset: number } | null {
    return this.n === 0 ? null : { timestamp: this.timestamp(this.n - 1), relativeOffset: this.relativeOffset(this.n - 1) };
  }

  /** Drops entries pointing at `relativeOffset` or beyond. */
  truncateToOffset(relativeOffset: number): void {
    let keep = this.n;
    while (keep > 0 && this.relativeOffset(keep - 1) >= relativeOffset) keep--;
    this.truncateEntries(keep);
  }
}
