// A windowed rate measured the way Kafka's quota sensors measure it (a
// SampledStat Rate, quota.window.num = 11 samples of quota.window.size = 1 s):
// values go into the current sample; a sample older than the window is
// replaced by a new one starting at the time of the value that arrives; the
// rate is the sum of the live samples over the time since the oldest began,
// but over no less than (samples - 1) windows, so a burst right after a quiet
// spell is measured over ten seconds rather than over the instant.
//
// The throttle time is Kafka's too: how long the client must stay quiet for
// the rate over that window to come back down to the quota,
// (rate - quota) / quota * window.

export const QUOTA_SAMPLES = 11;
export const QUOTA_WINDOW_MS = 1000;

interface Sample {
  start: number;
  value: number;
}

export class WindowedRate {
  private readonly samples: Sample[] = [];
  private current = 0;

  constructor(
    private readonly numSamples = QUOTA_SAMPLES,
    private readonly windowMs = QUOTA_WINDOW_MS,
  ) {}

  record(value: number, now: number): void {
    let s = this.samples[this.current];
    if (!s) this.samples.push((s = { start: now, value: 0 }));
    else if (now - s.start >= this.windowMs) {
      this.current = (this.current + 1) % this.numSamples;
      s = this.samples[this.current];
      if (!s) this.samples.push((s = { start: now, value: 0 }));
      else {
        s.start = now;
        s.value = 0;
      }
    }
    s.value += value;
  }

  /** Samples that fell out of the whole window start afresh, empty. */
  private purge(now: number): void {
    const expiry = this.numSamples * this.windowMs;
    for (const s of this.samples) {
      if (now - s.start >= expiry) {
        s.start = now;
        s.value = 0;
      }
    }
  }

  /** Milliseconds the rate is measured over at `now`. */
  windowSize(now: number): number {
    this.purge(now);
    let oldest = now;
    for (const s of this.samples) if (s.start < oldest) oldest = s.start;
    let elapsed = now - oldest;
    const fullWindows = Math.floor(elapsed / this.windowMs);
    const minFull = this.numSamples - 1;
    if (fullWindows < minFull) elapsed += (minFull - fullWindows) * this.windowMs;
    return Math.max(elapsed, 1);
  }

  /** Units per second. */
  rate(now: number): number {
    const size = this.windowSize(now);
    let total = 0;
    for (const s of this.samples) total += s.value;
    return total / (size / 1000);
  }

  /** Records `value`, then the throttle time in ms if the rate is above `bound` (0 when within it). */
  recordAndThrottle(value: number, bound: number, now: number): number {
    this.record(value, now);
    const rate = this.rate(now);
    if (rate <= bound) return 0;
    return Math.round(((rate - bound) / bound) * this.windowSize(now));
  }
}
