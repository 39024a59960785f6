// Enforcement of client quotas as Kafka's ClientQuotaManager does it: for
// each quota type the first entity, in Kafka's order, that sets the type's
// key decides the bound, and also who shares the measured rate (all clients
// of a user when the quota is the user's, each client of the user apart when
// it is the user's per-client quota, and so on). The rate is a WindowedRate;
// a request that takes it over the bound gets the time it takes to come
// back, which the caller reports as throttle_time_ms and mutes the
// connection for (KIP-219).

import { CLIENT_ID, CONSUMER_BYTE_RATE, PRODUCER_BYTE_RATE, REQUEST_PERCENTAGE, USER, type QuotaStore } from "./store.ts";
import { QUOTA_WINDOW_MS, WindowedRate } from "./rate.ts";

/** A sensor unused this long is dropped (Kafka: one hour). */
const SENSOR_IDLE_MS = 3600_000;

interface Resolved {
  bound: number;
  /** Who shares the rate: user and client-id as Kafka tags the sensor ("" = not part of it). */
  tag: string;
}

interface Sensor {
  rate: WindowedRate;
  lastUsed: number;
}

/** The user of a principal string ("User:alice" → "alice"). */
export function principalUser(principal: string): string {
  const i = principal.indexOf(":");
  return i >= 0 ? principal.slice(i + 1) : principal;
}

export class ClientQuotaManager {
  private readonly sensors = new Map<string, Sensor>();
  private readonly cache = new Map<string, Resolved | null>();
  private cacheVersion = -1;
  private lastPrune = 0;

  constructor(private readonly store: QuotaStore) {}

  /** True when no quota is configured at all: nothing needs measuring. */
  get empty(): boolean {
    return this.store.size === 0;
  }

  /** Kafka's order: user+client, user+default client, user, default user+client, default user+default client, default user, client, default client. */
  resolve(key: string, user: string, clientId: string): Resolved | null {
    if (this.cacheVersion !== this.store.version) {
      this.cache.clear();
      this.cacheVersion = this.store.version;
    }
    const cacheKey = `${key}\u0000${user}\u0000${clientId}`;
    const hit = this.cache.get(cacheKey);
    if (hit !== undefined) return hit;
    const candidates: [Map<string, string | null>, string, string][] = [
      [new Map([[USER, user], [CLIENT_ID, clientId]]), user, clientId],
      [new Map([[USER, user], [CLIENT_ID, null]]), user, clientId],
      [new Map([[USER, user]]), user, ""],
      [new Map([[USER, null], [CLIENT_ID, clientId]]), user, clientId],
      [new Map([[USER, null], [CLIENT_ID, null]]), user, clientId],
      [new Map([[USER, null]]), user, ""],
      [new Map([[CLIENT_ID, clientId]]), "", clientId],
      [new Map([[CLIENT_ID, null]]), "", clientId],
    ];
    let found: Resolved | null = null;
    for (const [entity, u, c] of candidates) {
      const v = this.store.get(entity)?.get(key);
      if (v !== undefined) {
        found = { bound: v, tag: `${key}\u0000${u}\u0000${c}` };
        break;
      }
    }
    this.cache.set(cacheKey, found);
    return found;
  }

  /** Records `value` against the key's quota for this client; returns the throttle time in ms (0 without a quota or within it). */
  record(key: string, user: string, clientId: string, value: number, now: number, maxThrottleMs = Infinity): number {
    const q = this.resolve(key, user, clientId);
    if (!q) return 0;
    this.prune(now);
    let s = this.sensors.get(q.tag);
    if (!s) this.sensors.set(q.tag, (s = { rate: new WindowedRate(), lastUsed: now }));
    s.lastUsed = now;
    return Math.min(s.rate.recordAndThrottle(value, q.bound, now), maxThrottleMs);
  }

  /** Takes back a value recorded for a response that was not sent after all (a throttled fetch). */
  unrecord(key: string, user: string, clientId: string, value: number, now: number): void {
    const q = this.resolve(key, user, clientId);
    if (q) this.sensors.get(q.tag)?.rate.record(-value, now);
  }

  private prune(now: number): void {
    if (now - this.lastPrune < 60_000) return;
    this.lastPrune = now;
    for (const [k, s] of this.sensors) if (now - s.lastUsed > SENSOR_IDLE_MS) this.sensors.delete(k);
  }
}

export const QUOTA_KEYS_BY_API = { produce: PRODUCER_BYTE_RATE, fetch: CONSUMER_BYTE_RATE, request: REQUEST_PERCENTAGE } as const;
/** Kafka bounds a request-time throttle by one quota window. */
export const MAX_REQUEST_THROTTLE_MS = QUOTA_WINDOW_MS;
