// Keyed timers and a clock for the group coordinator. Every deadline of the
// coordinator (heartbeats, join and sync phases) goes through this interface,
// so tests drive it with ManualScheduler instead of waiting on wall time.

export interface Scheduler {
  now(): number;
  /** Runs `fn` after `delayMs`; replaces any timer already scheduled under `key`. */
  schedule(key: string, delayMs: number, fn: () => void): void;
  cancel(key: string): void;
  cancelAll(): void;
}

type ErrorSink = (e: unknown) => void;

/** Real timers; none of them keeps the process alive. */
export class TimerScheduler implements Scheduler {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(private readonly onError: ErrorSink = () => {}) {}

  now(): number {
    return Date.now();
  }

  schedule(key: string, delayMs: number, fn: () => void): void {
    this.cancel(key);
    const t = setTimeout(
      () => {
        if (this.timers.get(key) === t) this.timers.delete(key);
        try {
          fn();
        } catch (e) {
          this.onError(e);
        }
      },
      Math.max(0, delayMs),
    );
    t.unref?.();
    this.timers.set(key, t);
  }

  cancel(key: string): void {
    const t = this.timers.get(key);
    if (t !== undefined) {
      clearTimeout(t);
      this.timers.delete(key);
    }
  }

  cancelAll(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}

interface ManualTimer {
  deadline: number;
  seq: number;
  fn: () => void;
}

/** A clock that moves only when told to; due timers run in deadline order, ties in scheduling order. */
export class ManualScheduler implements Scheduler {
  private time: number;
  private seq = 0;
  private readonly timers = new Map<string, ManualTimer>();

  constructor(start = 1_700_000_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  schedule(key: string, delayMs: number, fn: () => void): void {
    this.timers.set(key, { deadline: this.time + Math.max(0, delayMs), seq: this.seq++, fn });
  }

  cancel(key: string): void {
    this.timers.delete(key);
  }

  cancelAll(): void {
    this.timers.clear();
  }

  has(key: string): boolean {
    return this.timers.has(key);
  }

  get pending(): number {
    return this.timers.size;
  }

  /** Moves the clock forward by `ms`, firing every timer that falls due on the way (including ones they schedule). */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      let nextKey: string | null = null;
      let next: ManualTimer | null = null;
      for (const [k, t] of this.timers) {
        if (t.deadline > target) continue;
        if (!next || t.deadline < next.deadline || (t.deadline === next.deadline && t.seq < next.seq)) {
          next = t;
          nextKey = k;
        }
      }
      if (!next || nextKey === null) break;
      this.timers.delete(nextKey);
      this.time = Math.max(this.time, next.deadline);
      next.fn();
    }
    this.time = target;
  }
}
