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
}

export class FlushRound {
  readonly targets = new Set<FlushTarget>();
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
    const files: DataFile[] = [];
    try {
      for (const t of round.targets) files.push(...t.takeDirtyFiles());
      if (this.blocking) for (const f of files) f.syncNow();
      else await Promise.all(files.map((f) => f.sync()));
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
