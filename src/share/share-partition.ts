// The state of one share-partition (a share group's view of one topic
// partition, KIP-932): the start offset below which every record is done, the
// end offset up to which records have been looked at, and in between each
// record's state (available, acquired by a member under a time lock,
// acknowledged, archived) and delivery count. Pure state: reading the log,
// timers and persistence are the caller's.

export const RecordState = { AVAILABLE: 0, ACQUIRED: 1, ACKNOWLEDGED: 2, ARCHIVED: 4 } as const;
export type RecordStateId = (typeof RecordState)[keyof typeof RecordState];

/** Acknowledge types on the wire. */
export const AckType = { GAP: 0, ACCEPT: 1, RELEASE: 2, REJECT: 3, RENEW: 4 } as const;

/** One run of offsets sharing a state and delivery count: what is persisted and restored. */
export interface StateRun {
  first: number;
  last: number;
  state: number;
  deliveryCount: number;
}

/** A stored batch as the acquisition walk sees it. */
export interface SourceBatch {
  base: number;
  last: number;
  bytes: Uint8Array;
  /** Never delivered: a control batch, or an aborted transaction's batch under read_committed. */
  skip: boolean;
}

export interface AcquireLimits {
  /** Records this acquisition should take; the batch it ends in is still taken whole unless strictMaxRecords. */
  maxRecords: number;
  /** ShareFetch v2's record-limit acquire mode: never more than maxRecords (a batch is cut). */
  strictMaxRecords?: boolean;
  /** group.share.partition.max.record.locks: no new batch is acquired once end - start reaches it. */
  maxInFlight: number;
  /** Bytes of batches to return (the first batch goes out whatever its size, KIP-74). */
  maxBytes: number;
  /** Visible end: the high watermark, or the last stable offset under read_committed. */
  limit: number;
  lockExpiry: number;
}

export interface AcquiredRange {
  first: number;
  last: number;
  deliveryCount: number;
}

export interface Acquired {
  ranges: AcquiredRange[];
  chunks: Uint8Array[];
  bytes: number;
  records: number;
}

export interface AckBatch {
  first: number;
  last: number;
  types: readonly number[];
}

const INITIAL_CAPACITY = 64;

export class SharePartition {
  startOffset: number;
  endOffset: number;
  /** Bumped when an admin moves the start offset: state written under an older epoch is stale. */
  stateEpoch = 0;
  /** Offset of slot 0 in the arrays below (≤ startOffset). */
  private base: number;
  private state = new Uint8Array(INITIAL_CAPACITY);
  private count = new Uint16Array(INITIAL_CAPACITY);
  private expiry = new Float64Array(INITIAL_CAPACITY);
  private owner: (string | null)[] = new Array(INITIAL_CAPACITY).fill(null);
  /** Records currently acquired: lets lock and member checks skip idle partitions. */
  acquiredCount = 0;

  constructor(startOffset: number) {
    this.startOffset = startOffset;
    this.endOffset = startOffset;
    this.base = startOffset;
  }

  get inFlight(): number {
    return this.endOffset - this.startOffset;
  }

  private slot(o: number): number {
    return o - this.base;
  }

  stateOf(o: number): number {
    if (o < this.startOffset) return RecordState.ACKNOWLEDGED;
    if (o >= this.endOffset) return RecordState.AVAILABLE;
    return this.state[this.slot(o)]!;
  }

  deliveryCountOf(o: number): number {
    return o >= this.startOffset && o < this.endOffset ? this.count[this.slot(o)]! : 0;
  }

  ownerOf(o: number): string | null {
    return o >= this.startOffset && o < this.endOffset ? this.owner[this.slot(o)]! : null;
  }

  /** Makes room for offsets up to `end` (exclusive), sliding out what lies below the start offset. */
  private ensure(end: number): void {
    const need = end - this.base;
    if (need <= this.state.length) return;
    const live = this.endOffset - this.startOffset;
    const from = this.startOffset - this.base;
    let cap = this.state.length;
    while (cap < end - this.startOffset) cap *= 2;
    if (cap === this.state.length && from > 0) {
      this.state.copyWithin(0, from, from + live);
      this.count.copyWithin(0, from, from + live);
      this.expiry.copyWithin(0, from, from + live);
      this.owner.copyWithin(0, from, from + live);
    } else {
      const state = new Uint8Array(cap);
      const count = new Uint16Array(cap);
      const expiry = new Float64Array(cap);
      const owner: (string | null)[] = new Array(cap).fill(null);
      state.set(this.state.subarray(from, from + live));
      count.set(this.count.subarray(from, from + live));
      expiry.set(this.expiry.subarray(from, from + live));
      for (let i = 0; i < live; i++) owner[i] = this.owner[from + i]!;
      this.state = state;
      this.count = count;
      this.expiry = expiry;
      this.owner = owner;
    }
    this.base = this.startOffset;
  }

  /** Takes a new record into the window (at the end offset). */
  private track(state: number, deliveryCount: number): number {
    this.ensure(this.endOffset + 1);
    const i = this.slot(this.endOffset++);
    this.state[i] = state;
    this.count[i] = deliveryCount;
    this.expiry[i] = 0;
    this.owner[i] = null;
    return i;
  }

  /** The first offset at or past `from` that can be acquired: an available one in the window, else the end offset. */
  nextCandidate(from: number): number {
    for (let o = Math.max(from, this.startOffset); o < this.endOffset; o++) if (this.state[this.slot(o)] === RecordState.AVAILABLE) return o;
    return Math.max(from, this.endOffset);
  }

  /** True when a fetch could acquire something now: available records, or new ones in the log and room for them. */
  canAcquire(limit: number, maxInFlight: number): boolean {
    if (this.nextCandidate(this.startOffset) < this.endOffset) return true;
    return this.endOffset < limit && this.inFlight < maxInFlight;
  }

  /**
   * Acquires records for `member` from the batches `read` returns (whole
   * batches, from the one holding the offset asked for): available records in
   * the window first, then records past the end offset, within the limits.
   */
  acquire(member: string, limits: AcquireLimits, read: (offset: number, maxBytes: number) => SourceBatch[]): Acquired {
    const out: Acquired = { ranges: [], chunks: [], bytes: 0, records: 0 };
    let pos = this.nextCandidate(this.startOffset);
    let cur: AcquiredRange | null = null;
    let done = false;
    while (!done && out.records < limits.maxRecords && pos < limits.limit) {
      const room = limits.maxBytes - out.bytes;
      if (room <= 0 && out.chunks.length > 0) break;
      const batches = read(pos, Math.max(0, room));
      if (batches.length === 0) break;
      let progressed = false;
      for (const b of batches) {
        if (b.last < pos) continue;
        if (b.base >= limits.limit) {
          done = true;
          break;
        }
        if (out.chunks.length > 0 && out.bytes + b.bytes.length > limits.maxBytes) {
          done = true;
          break;
        }
        // The in-flight limit is checked before each batch, which is then taken whole (as Kafka: a batch
        // is never cut for it, so a large batch is not sent again and again for a slice each time).
        const room = this.inFlight < limits.maxInFlight;
        // Offsets the log no longer holds (compacted away) are done.
        while (room && this.endOffset < b.base && this.endOffset < limits.limit) this.track(RecordState.ARCHIVED, 0);
        let used = false;
        for (let o = Math.max(b.base, pos); o <= b.last && o < limits.limit; o++) {
          let i: number;
          if (o < this.endOffset) {
            i = this.slot(o);
            if (this.state[i] !== RecordState.AVAILABLE) continue;
            if (b.skip) {
              this.state[i] = RecordState.ARCHIVED;
              continue;
            }
          } else {
            if (!room || o !== this.endOffset) {
              done = true;
              break;
            }
            if (b.skip) {
              this.track(RecordState.ARCHIVED, 0);
              continue;
            }
            i = this.track(RecordState.AVAILABLE, 0);
          }
          this.state[i] = RecordState.ACQUIRED;
          this.count[i] = this.count[i]! + 1;
          this.expiry[i] = limits.lockExpiry;
          this.owner[i] = member;
          this.acquiredCount++;
          out.records++;
          used = true;
          const dc = this.count[i]!;
          if (cur && cur.last === o - 1 && cur.deliveryCount === dc) cur.last = o;
          else out.ranges.push((cur = { first: o, last: o, deliveryCount: dc }));
          // MaxRecords is soft (batch-optimized acquisition, as Kafka): the batch is taken to its end,
          // so the same large batch is not sent again and again for a few records each time.
          if (out.records >= limits.maxRecords) {
            done = true;
            if (limits.strictMaxRecords) break;
          }
        }
        if (used) {
          out.chunks.push(b.bytes);
          out.bytes += b.bytes.length;
        }
        pos = Math.max(pos, b.last + 1);
        progressed = true;
        if (done) break;
      }
      if (!progressed) break;
      pos = this.nextCandidate(pos);
    }
    this.advanceStart();
    return out;
  }

  /**
   * Applies acknowledgements of `member` atomically: every offset named must be
   * acquired by it (INVALID_RECORD_STATE otherwise, nothing changed). Returns
   * the error code, NONE when applied.
   */
  acknowledge(member: string, batches: readonly AckBatch[], deliveryLimit: number, renewExpiry: number): "ok" | "invalid_state" {
    for (const b of batches) {
      for (let o = b.first; o <= b.last; o++) {
        if (o < this.startOffset || o >= this.endOffset) return "invalid_state";
        const i = this.slot(o);
        if (this.state[i] !== RecordState.ACQUIRED || this.owner[i] !== member) return "invalid_state";
      }
    }
    for (const b of batches) {
      for (let o = b.first; o <= b.last; o++) {
        const type = b.types.length === 1 ? b.types[0]! : b.types[o - b.first]!;
        const i = this.slot(o);
        switch (type) {
          case AckType.ACCEPT:
            this.settle(i, RecordState.ACKNOWLEDGED);
            break;
          case AckType.GAP:
          case AckType.REJECT:
            this.settle(i, RecordState.ARCHIVED);
            break;
          case AckType.RELEASE:
            this.settle(i, this.count[i]! >= deliveryLimit ? RecordState.ARCHIVED : RecordState.AVAILABLE);
            break;
          case AckType.RENEW:
            this.expiry[i] = renewExpiry;
            break;
        }
      }
    }
    this.advanceStart();
    return "ok";
  }

  private settle(i: number, state: number): void {
    if (this.state[i] === RecordState.ACQUIRED) this.acquiredCount--;
    this.state[i] = state;
    this.owner[i] = null;
    this.expiry[i] = 0;
  }

  /** Releases acquired records whose lock ran out (or all of `member`'s): available again, archived at the delivery limit. */
  release(deliveryLimit: number, which: { now?: number; member?: string }): number {
    let n = 0;
    if (this.acquiredCount === 0) return 0;
    for (let o = this.startOffset; o < this.endOffset; o++) {
      const i = this.slot(o);
      if (this.state[i] !== RecordState.ACQUIRED) continue;
      if (which.now !== undefined && this.expiry[i]! > which.now) continue;
      if (which.member !== undefined && this.owner[i] !== which.member) continue;
      this.settle(i, this.count[i]! >= deliveryLimit ? RecordState.ARCHIVED : RecordState.AVAILABLE);
      n++;
    }
    this.advanceStart();
    return n;
  }

  /** When the earliest lock runs out; null when nothing is acquired. */
  nextExpiry(): number | null {
    if (this.acquiredCount === 0) return null;
    let min = Infinity;
    for (let o = this.startOffset; o < this.endOffset; o++) {
      const i = this.slot(o);
      if (this.state[i] === RecordState.ACQUIRED && this.expiry[i]! < min) min = this.expiry[i]!;
    }
    return min === Infinity ? null : min;
  }

  private advanceStart(): void {
    while (this.startOffset < this.endOffset) {
      const s = this.state[this.slot(this.startOffset)];
      if (s !== RecordState.ACKNOWLEDGED && s !== RecordState.ARCHIVED) break;
      this.startOffset++;
    }
    if (this.startOffset === this.endOffset) this.base = this.startOffset;
  }

  /** Moves the start offset (admin reset, or the log start passing it): everything in flight is forgotten. */
  reset(startOffset: number): void {
    this.startOffset = startOffset;
    this.endOffset = startOffset;
    this.base = startOffset;
    this.acquiredCount = 0;
    this.stateEpoch++;
  }

  /** Records below the log start offset are gone: they count as done. */
  skipTo(logStart: number): void {
    if (logStart <= this.startOffset) return;
    if (logStart >= this.endOffset) {
      const epoch = this.stateEpoch;
      this.reset(logStart);
      this.stateEpoch = epoch;
      return;
    }
    for (let o = this.startOffset; o < logStart; o++) {
      const i = this.slot(o);
      if (this.state[i] !== RecordState.ACQUIRED) this.state[i] = RecordState.ARCHIVED;
    }
    this.advanceStart();
  }

  /** The window as runs, acquired records written as available (a lock does not survive a restart). */
  runs(): StateRun[] {
    const out: StateRun[] = [];
    let cur: StateRun | null = null;
    for (let o = this.startOffset; o < this.endOffset; o++) {
      const i = this.slot(o);
      const state = this.state[i] === RecordState.ACQUIRED ? RecordState.AVAILABLE : this.state[i]!;
      const dc = this.count[i]!;
      if (cur && cur.state === state && cur.deliveryCount === dc) cur.last = o;
      else out.push((cur = { first: o, last: o, state, deliveryCount: dc }));
    }
    return out;
  }

  static restore(startOffset: number, stateEpoch: number, runs: readonly StateRun[]): SharePartition {
    const sp = new SharePartition(startOffset);
    sp.stateEpoch = stateEpoch;
    for (const r of runs) {
      for (let o = Math.max(r.first, sp.endOffset); o <= r.last; o++) {
        while (sp.endOffset < o) sp.track(RecordState.AVAILABLE, 0);
        const state = r.state === RecordState.ACKNOWLEDGED || r.state === RecordState.ARCHIVED ? r.state : RecordState.AVAILABLE;
        sp.track(state, r.deliveryCount);
      }
    }
    sp.advanceStart();
    return sp;
  }
}
