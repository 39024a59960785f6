// A partition's leader epochs (KIP-101): which epoch started at which offset,
// kept in `leader-epoch-checkpoint` in Kafka's checkpoint format (version
// line, count line, one "epoch startOffset" line per entry). klite is the only
// replica, so its epoch never moves for a leader change; it rises when the log
// may have lost records that were acknowledged or read (a start after an
// unclean shutdown), so consumers that read past the surviving end can learn,
// through OffsetForLeaderEpoch, where their epoch's records now end.

import { exists, readText } from "./storage.ts";
import { join } from "node:path";
import { writeFileAtomic } from "./atomic-file.ts";

export const LEADER_EPOCH_CHECKPOINT_FILE = "leader-epoch-checkpoint";
const CHECKPOINT_VERSION = 0;

/** Kafka's "no epoch" / "no offset". */
export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_OFFSET = -1;

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

export class LeaderEpochCache {
  private entries: EpochEntry[];

  private constructor(
    private readonly dir: string,
    entries: EpochEntry[],
  ) {
    this.entries = entries;
  }

  /** Loads the checkpoint of `dir`; null when there is none or it does not parse (the caller rebuilds it). */
  static load(dir: string): LeaderEpochCache | null {
    const path = join(dir, LEADER_EPOCH_CHECKPOINT_FILE);
    if (!exists(path)) return null;
    const entries = parseCheckpoint(readText(path));
    return entries ? new LeaderEpochCache(dir, entries) : null;
  }

  static empty(dir: string): LeaderEpochCache {
    return new LeaderEpochCache(dir, []);
  }

  get all(): readonly EpochEntry[] {
    return this.entries;
  }

  /** The newest epoch, UNDEFINED_EPOCH when none was assigned. */
  get latestEpoch(): number {
    return this.entries.at(-1)?.epoch ?? UNDEFINED_EPOCH;
  }

  /**
   * Records that `epoch` starts at `startOffset`. The same epoch as the latest
   * keeps its first offset; an entry that is not above every existing one (an
   * older epoch, or an offset at or below a newer epoch's start) replaces the
   * entries it contradicts, as Kafka's cache does. Returns whether anything changed.
   */
  assign(epoch: number, startOffset: number): boolean {
    const last = this.entries.at(-1);
    if (last && last.epoch === epoch && last.startOffset <= startOffset) return false;
    if (last && epoch > last.epoch && startOffset >= last.startOffset) {
      this.entries.push({ epoch, startOffset });
      return true;
    }
    this.entries = this.entries.filter((e) => e.epoch < epoch && e.startOffset < startOffset);
    this.entries.push({ epoch, startOffset });
    return true;
  }

  /** The log was cut to end at `endOffset`: epochs starting at or after it are gone. */
  truncateFromEnd(endOffset: number): boolean {
    const kept = this.entries.filter((e) => e.startOffset < endOffset);
    if (kept.length === this.entries.length) return false;
    this.entries = kept;
    return true;
  }

  /**
   * The log now starts at `startOffset`: epochs wholly below it are dropped and
   * the epoch that covers it starts there.
   */
  truncateFromStart(startOffset: number): boolean {
    let floor = -1;
    for (let i = 0; i < this.entries.length && this.entries[i]!.startOffset <= startOffset; i++) floor = i;
    if (floor < 0 || (floor === 0 && this.entries[0]!.startOffset === startOffset)) return false;
    const covering = { epoch: this.entries[floor]!.epoch, startOffset };
    this.entries = [covering, ...this.entries.slice(floor + 1)];
    return true;
  }

  /**
   * OffsetForLeaderEpoch: the largest epoch at or below `requested` and the
   * offset where it ends (the next epoch's start, or the log end for the
   * latest). UNDEFINED for both when `requested` is newer than any epoch.
   */
  endOffsetFor(requested: number, logEndOffset: number): { epoch: number; endOffset: number } {
    const undefinedAnswer = { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_OFFSET };
    if (requested === UNDEFINED_EPOCH || this.entries.length === 0) return undefinedAnswer;
    if (requested === this.latestEpoch) return { epoch: requested, endOffset: logEndOffset };
    const higher = this.entries.findIndex((e) => e.epoch > requested);
    if (higher < 0) return undefinedAnswer;
    // A requested epoch older than every entry (its start was deleted) ends where the first known one starts.
    const floor = higher === 0 ? null : this.entries[higher - 1]!;
    return { epoch: floor ? floor.epoch : requested, endOffset: this.entries[higher]!.startOffset };
  }

  /** The epoch whose records hold `offset`, UNDEFINED_EPOCH when it lies before every known epoch. */
  epochForOffset(offset: number): number {
    let found = UNDEFINED_EPOCH;
    for (const e of this.entries) {
      if (e.startOffset > offset) break;
      found = e.epoch;
    }
    return found;
  }

  /** Replaces the checkpoint file atomically (always fsynced: an epoch must never go back after a power loss). */
  write(): void {
    const lines = [String(CHECKPOINT_VERSION), String(this.entries.length), ...this.entries.map((e) => `${e.epoch} ${e.startOffset}`)];
    writeFileAtomic(join(this.dir, LEADER_EPOCH_CHECKPOINT_FILE), new TextEncoder().encode(lines.join("\n") + "\n"));
  }
}

/** Kafka's checkpoint format; null when it is not one (a wrong version, count or entry). */
export function parseCheckpoint(text: string): EpochEntry[] | null {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  if (lines.length < 2 || Number(lines[0]) !== CHECKPOINT_VERSION) return null;
  const count = Number(lines[1]);
  if (!Number.isSafeInteger(count) || count !== lines.length - 2) return null;
  const entries: EpochEntry[] = [];
  for (const line of lines.slice(2)) {
    const [epoch, startOffset] = line.trim().split(/\s+/).map(Number);
    if (!Number.isSafeInteger(epoch) || !Number.isSafeInteger(startOffset) || epoch! < 0 || startOffset! < 0) return null;
    const prev = entries.at(-1);
    if (prev && (epoch! <= prev.epoch || startOffset! < prev.startOffset)) return null;
    entries.push({ epoch: epoch!, startOffset: startOffset! });
  }
  return entries;
}
