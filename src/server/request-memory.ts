// The broker-wide budget for request bytes being read or handled (Kafka's
// queued.max.request.bytes). Frame assembly reserves memory before it
// allocates; when the budget is spent, the connection stops reading and
// waits here until requests being handled give theirs back.
//
// Frames larger than SMALL_FRAME may together take only three quarters of
// the budget: the rest stays for ordinary requests, so peers that trickle
// in huge frames cannot stall well-behaved clients until their frames time
// out.

/** Frames up to this size are "small": they may use the whole budget. */
export const SMALL_FRAME = 1024 * 1024;

/**
 * Once this much request memory has been given back since the last
 * collection, a full GC runs soon after: freed frames are otherwise only
 * garbage, and the runtime returns their pages to the OS only after a
 * collection, which a quiet broker may not run for a long time.
 */
const COLLECT_AFTER_BYTES = 64 * 1024 * 1024;
const COLLECT_DELAY_MS = 1000;

export class RequestMemory {
  private used = 0;
  private freedSinceGc = 0;
  private gcTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly waiters: (() => void)[] = [];
  private waking = false;

  constructor(readonly limit: number) {}

  get reserved(): number {
    return this.used;
  }

  /**
   * Takes `bytes` more for a frame of `frameSize` that already holds
   * `holding`, if the budget allows; false leaves nothing taken.
   */
  tryReserve(bytes: number, frameSize: number, holding = 0): boolean {
    const cap = frameSize <= SMALL_FRAME ? this.limit : this.limit - (this.limit >> 2);
    // A frame that cannot fit even into an empty budget must still make
    // progress when nothing else is held, or it would wait for ever.
    if (this.used + bytes > cap && this.used > holding) return false;
    this.used += bytes;
    return true;
  }

  release(bytes: number): void {
    if (bytes <= 0) return;
    this.used -= bytes;
    this.freedSinceGc += bytes;
    if (this.freedSinceGc >= COLLECT_AFTER_BYTES && !this.gcTimer) {
      this.gcTimer = setTimeout(() => {
        this.gcTimer = null;
        this.freedSinceGc = 0;
        Bun.gc(true);
      }, COLLECT_DELAY_MS);
      this.gcTimer.unref?.();
    }
    if (this.waiters.length > 0 && !this.waking) {
      this.waking = true;
      queueMicrotask(() => this.wake());
    }
  }

  /** Calls `retry` once memory has been given back. */
  wait(retry: () => void): void {
    this.waiters.push(retry);
  }

  private wake(): void {
    this.waking = false;
    // Each retries in turn; one that still finds no room waits again (at the back).
    const now = this.waiters.splice(0);
    for (const w of now) w();
  }
}
