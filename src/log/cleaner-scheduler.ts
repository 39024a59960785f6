// The background cleaner: one clean at a time, each round picking the log
// that needs it most (Kafka's "filthiest log": the highest dirty ratio above
// its min.cleanable.dirty.ratio, or one past max.compaction.lag.ms), then,
// when none is dirty enough, a log whose tombstones or markers have reached
// their delete horizon. With nothing to do it waits `backoffMs`.

import type { Logger } from "../util/logger.ts";
import { assess, CleanAborted, cleanLog, earliestDeleteHorizon, Slicer, type CleanStats, type CleanTarget } from "./cleaner.ts";
import type { PartitionLog } from "./partition-log.ts";

export interface CleanerOptions {
  /** Wait between rounds that found nothing to clean (Kafka's log.cleaner.backoff.ms). */
  backoffMs: number;
  /** Memory for the key → offset map of one clean (Kafka's log.cleaner.dedupe.buffer.size). */
  mapBudgetBytes: number;
  /** Longest run of cleaning work between two turns of the event loop. */
  sliceMs: number;
  targets: () => Iterable<CleanTarget>;
  logger: Logger;
}

interface LogState {
  /** Earliest delete horizon in the cleaned part; undefined until known (after a start). */
  pendingHorizon?: number | null;
  moreToDo: boolean;
  /** A clean failed on something other than a stop: left alone until restart, as Kafka marks it uncleanable. */
  failed: boolean;
}

export interface CleanerTotals {
  cleans: number;
  /** Cleans that failed (the partition is then left uncleaned until restart). */
  failures: number;
  bytesRead: number;
  bytesWritten: number;
  /** Records read minus records kept: what compaction removed. */
  recordsRemoved: number;
  /** Wall time spent inside cleans, slices and pauses included. */
  ms: number;
}

export class LogCleaner {
  private readonly states = new WeakMap<PartitionLog, LogState>();
  private loop: Promise<void> | null = null;
  private stopped = false;
  private wakeUp: (() => void) | null = null;
  readonly totals: CleanerTotals = { cleans: 0, failures: 0, bytesRead: 0, bytesWritten: 0, recordsRemoved: 0, ms: 0 };
  /** Called after each successful clean (tests and benchmarks watch it). */
  onClean: ((target: CleanTarget, stats: CleanStats) => void) | null = null;

  constructor(private readonly opts: CleanerOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops after the current slice (an unfinished clean is dropped, nothing swapped). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let cleaned = false;
      try {
        cleaned = await this.cleanOnce();
      } catch (e) {
        this.opts.logger.error(`log cleaner: ${(e as Error).stack ?? e}`);
      }
      if (!cleaned && !this.stopped) await this.pause(this.opts.backoffMs);
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      t.unref?.();
      const self = this;
      function done() {
        clearTimeout(t);
        self.wakeUp = null;
        resolve();
      }
      this.wakeUp = done;
    });
  }

  private state(log: PartitionLog): LogState {
    let s = this.states.get(log);
    if (!s) {
      s = { moreToDo: false, failed: false };
      this.states.set(log, s);
    }
    return s;
  }

  private slicer(target: CleanTarget): Slicer {
    return new Slicer(this.opts.sliceMs, () => this.stopped || target.log.isClosed);
  }

  /** Picks the log that needs cleaning most; null when none does. */
  private async choose(now: number): Promise<{ target: CleanTarget; force: boolean } | null> {
    let best: { target: CleanTarget; ratio: number } | null = null;
    let due: CleanTarget | null = null;
    for (const target of this.opts.targets()) {
      if (target.log.isClosed) continue;
      const st = this.state(target.log);
      if (st.failed) continue;
      const a = assess(target, now);
      const cfg = target.config();
      if (a.dirtyBytes > 0 && (a.overdue || a.ratio > cfg.minCleanableRatio)) {
        const ratio = a.overdue ? Infinity : a.ratio;
        if (!best || ratio > best.ratio) best = { target, ratio };
        continue;
      }
      if (due) continue;
      if (st.pendingHorizon === undefined) {
        try {
          st.pendingHorizon = await earliestDeleteHorizon(target.log, this.slicer(target));
        } catch (e) {
          if (!(e instanceof CleanAborted)) throw e;
          continue;
        }
      }
      if (st.moreToDo || (st.pendingHorizon !== null && st.pendingHorizon <= now)) due = target;
    }
    if (best) return { target: best.target, force: false };
    return due ? { target: due, force: true } : null;
  }

  /** One round: cleans the log that needs it most. False when no log needed cleaning. */
  async cleanOnce(now = Date.now()): Promise<boolean> {
    const pick = await this.choose(now);
    if (!pick) return false;
    const { target, force } = pick;
    const st = this.state(target.log);
    const started = performance.now();
    try {
      const stats = await cleanLog(target, { now, mapBudgetBytes: this.opts.mapBudgetBytes, slicer: this.slicer(target), force });
      if (!stats) {
        st.moreToDo = false;
        return false;
      }
      st.pendingHorizon = stats.pendingHorizon;
      st.moreToDo = stats.moreToDo;
      this.totals.cleans++;
      this.totals.bytesRead += stats.bytesRead;
      this.totals.bytesWritten += stats.bytesWritten;
      this.totals.recordsRemoved += stats.recordsRead - stats.recordsKept;
      const ms = performance.now() - started;
      this.totals.ms += ms;
      this.opts.logger.info(
        `cleaned ${target.name}: ${stats.segmentsRead} segments (${stats.bytesRead} bytes, ${stats.recordsRead} records) into ${stats.segmentsWritten} (${stats.bytesWritten} bytes, ${stats.recordsKept} records) up to offset ${stats.cleanedUpTo} in ${Math.round(ms)} ms`,
      );
      this.onClean?.(target, stats);
      return true;
    } catch (e) {
      // A log closed or deleted under the clean (topic deletion, shutdown) is no failure of the cleaner.
      if (e instanceof CleanAborted || target.log.isClosed) {
        this.opts.logger.debug(`clean of ${target.name} abandoned: ${(e as Error).message}`);
        return false;
      }
      st.failed = true;
      this.totals.failures++;
      this.opts.logger.error(`cleaning ${target.name} failed; it stays uncleaned until restart: ${(e as Error).stack ?? e}`);
      return false;
    }
  }
}
