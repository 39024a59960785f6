// Connection limits: how many connections in all and per peer address, and
// which connections to close for doing nothing (--connections-max-idle-ms)
// or for taking too long over one request frame (--request-read-timeout-ms,
// the slow-loris defence). A sweep once a second finds both.

import type { CloseReason } from "../metrics/broker-metrics.ts";

/** What the limits need to see of a connection. */
export interface LimitedConnection {
  readonly remoteAddress: string;
  /** performance.now() of the last byte in or out. */
  lastActivity: number;
  /** How long the frame being read has taken so far (ms); 0 between frames. */
  frameReadMs(now: number): number;
  /** Nothing in flight and nothing to send. */
  readonly idle: boolean;
  abort(reason: string, kind: CloseReason): void;
}

export interface ConnectionLimitOptions {
  maxConnections: number;
  maxConnectionsPerIp: number;
  connectionsMaxIdleMs: number;
  requestReadTimeoutMs: number;
}

const SWEEP_MS = 1000;

export class ConnectionLimits {
  readonly live = new Set<LimitedConnection>();
  private readonly perIp = new Map<string, number>();
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly opts: ConnectionLimitOptions) {}

  /** Counts a new connection in; returns why it must be refused instead, or null. */
  admit(conn: LimitedConnection): string | null {
    const n = this.perIp.get(conn.remoteAddress) ?? 0;
    if (this.live.size >= this.opts.maxConnections) return `too many connections (--max-connections ${this.opts.maxConnections})`;
    if (n >= this.opts.maxConnectionsPerIp) return `too many connections from ${conn.remoteAddress} (--max-connections-per-ip ${this.opts.maxConnectionsPerIp})`;
    this.perIp.set(conn.remoteAddress, n + 1);
    this.live.add(conn);
    if (!this.timer) {
      this.timer = setInterval(() => this.sweep(performance.now()), SWEEP_MS);
      this.timer.unref?.();
    }
    return null;
  }

  leave(conn: LimitedConnection): void {
    if (!this.live.delete(conn)) return;
    const n = this.perIp.get(conn.remoteAddress) ?? 1;
    if (n <= 1) this.perIp.delete(conn.remoteAddress);
    else this.perIp.set(conn.remoteAddress, n - 1);
    if (this.live.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  sweep(now: number): void {
    for (const c of [...this.live]) {
      const reading = c.frameReadMs(now);
      if (reading > this.opts.requestReadTimeoutMs) {
        c.abort(`request frame not complete after ${this.opts.requestReadTimeoutMs} ms (--request-read-timeout-ms)`, "limit");
      } else if (c.idle && reading === 0 && now - c.lastActivity > this.opts.connectionsMaxIdleMs) {
        c.abort(`idle for ${this.opts.connectionsMaxIdleMs} ms (--connections-max-idle-ms)`, "idle");
      }
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
