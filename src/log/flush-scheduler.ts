// Group commit shared by every partition log of a broker. Appends only
// write(2); the first append of a window schedules a flush round, and every
// log written before the round starts is fsynced once in it, in parallel.
// While a round's fsyncs run, new appends gather in the next round, which
// starts the moment the running one ends: under load one fsync covers many
// appends, and an idle broker pays one event-loop turn of latency.

import type { DataFile } from "./data-file.ts";

/** Something with unsynced writes: hands over the files to fsync in a round. */
export interface FlushTarget {
  takeDirtyFiles(): DataFile[];
  /**
   * The fsyncs of this round's files finished: everything written before
   * takeDirtyFiles() is durable (error null), or one of them failed. A
   * failed fsync may have dropped those writes for good; a later fsync
   * that succeeds says nothing about them, so the target must not retry.
   */
  afterFlush?(error: unknown): void;
}

export class FlushRound {
  readonly targets = new Set<FlushTarget>();
  /** Targets whose fsync failed in this round, with the error. */
  readonly failed = new Map<FlushTarget, unknown>();
  done = false;
  readonly promise: Promise<void>;
  resolve!: () => void;
  reject!: (e: unknown) => void;

  constructor() {
    this.promise = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Rejections reach whoever awaits the round; nobody waiting is not a crash.
    this.promise.catch(() => {});
  }

  /** Settles with the round: rejects with `target`'s own fsync error, if it had one. */
  outcome(target: FlushTarget): Promise<void> {
    return this.promise.then(() => {
      if (this.failed.has(target)) throw this.failed.get(target);
    });
  }
}

export interface FlushSchedulerOptions {
  /**
   * fdatasync on the event loop instead of the thread pool. Slightly less
   * latency per round, but the whole server stalls for every fsync; off by default.
   */
  blocking?: boolean;
}

export class FlushScheduler {
  private collecting: FlushRound | null = null;
  private running: Promise<void> | null = null;
  private scheduled = false;
  /** Rounds completed; for tests and benchmarks. */
  rounds = 0;
  private readonly blocking: boolean;

  constructor(options: FlushSchedulerOptions = {}) {
    this.blocking = options.blocking ?? false;
  }

  /** Registers unsynced writes of `target`; the returned round's promise settles once they are durable. */
  enqueue(target: FlushTarget): FlushRound {
    if (!this.collecting) this.collecting = new FlushRound();
    this.collecting.targets.add(target);
    if (!this.scheduled && !this.running) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.startRound();
      });
    }
    return this.collecting;
  }

  private startRound(): void {
    if (this.running || !this.collecting) return;
    const round = this.collecting;
    this.collecting = null;
    this.running = this.runRound(round).finally(() => {
      this.running = null;
      // Appends that arrived during the fsync have waited long enough: go at once.
      if (this.collecting) this.startRound();
    });
  }

  private async runRound(round: FlushRound): Promise<void> {
    // Each target succeeds or fails on its own: one partition's failed fsync fails only its appends.
    const flushOne = async (t: FlushTarget) => {
      try {
        const files = t.takeDirtyFiles();
        if (this.blocking) for (const f of files) f.syncNow();
        else await Promise.all(files.map((f) => f.sync()));
      } catch (e) {
        round.failed.set(t, e);
      }
      t.afterFlush?.(round.failed.has(t) ? round.failed.get(t) : null);
    };
    try {
      await Promise.all([...round.targets].map(flushOne));
      this.rounds++;
      round.done = true;
      round.resolve();
    } catch (e) {
      round.done = true;
      round.reject(e);
    }
  }

  /** Flushes everything appended so far without waiting for the timer. */
  async flushAllNow(): Promise<void> {
    for (;;) {
      if (this.running) await this.running;
      else if (this.collecting) this.startRound();
      else return;
    }
  }

  async close(): Promise<void> {
    await this.flushAllNow();
  }
}
