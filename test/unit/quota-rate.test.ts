// Kafka's quota arithmetic: the windowed rate, the throttle time it gives,
// and which configured entity a client's quota comes from.

import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WindowedRate } from "../../src/quota/rate.ts";
import { ClientQuotaManager } from "../../src/quota/manager.ts";
import { QuotaStore, type QuotaEntity } from "../../src/quota/store.ts";

describe("WindowedRate", () => {
  test("a new rate is measured over at least ten one-second windows", () => {
    const r = new WindowedRate();
    r.record(10_000, 0);
    expect(r.windowSize(0)).toBe(10_000);
    expect(r.rate(0)).toBe(1000);
    expect(r.windowSize(15_000)).toBe(10_000); // the old sample expired and restarted at 15 s
  });

  test("throttle = (rate - quota) / quota * window", () => {
    const r = new WindowedRate();
    // 15,000 units at 0.5 s: the window is 0.5 s elapsed plus ten full windows
    // still missing, 10.5 s; rate 1,428.6/s against 1,000/s: 0.4286 * 10.5 s.
    expect(r.recordAndThrottle(10_000, 1000, 0)).toBe(0);
    expect(r.recordAndThrottle(5_000, 1000, 500)).toBe(4500);
  });

  test("held to its throttle, a sender averages close to the quota over whole windows", () => {
    const r = new WindowedRate();
    let t = 0;
    let sent = 0;
    while (t < 33_000) {
      const th = r.recordAndThrottle(100_000, 1_000_000, t);
      sent += 100_000;
      t += Math.max(th, 1);
    }
    const rate = sent / 33;
    expect(rate).toBeGreaterThan(1_000_000);
    expect(rate).toBeLessThan(1_200_000);
  });
});

describe("ClientQuotaManager", () => {
  test("Kafka's order: user+client, user+default client, user, default user+client, default user+default client, default user, client, default client", () => {
    const dir = mkdtempSync(join(tmpdir(), "klite-quota-"));
    try {
      const store = new QuotaStore(dir);
      const q = new ClientQuotaManager(store);
      const levels: [QuotaEntity, number][] = [
        [new Map([["client-id", null]]), 8],
        [new Map([["client-id", "c"]]), 7],
        [new Map([["user", null]]), 6],
        [new Map<string, string | null>([["user", null], ["client-id", null]]), 5],
        [new Map<string, string | null>([["user", null], ["client-id", "c"]]), 4],
        [new Map([["user", "u"]]), 3],
        [new Map<string, string | null>([["user", "u"], ["client-id", null]]), 2],
        [new Map([["user", "u"], ["client-id", "c"]]), 1],
      ];
      expect(q.resolve("producer_byte_rate", "u", "c")).toBeNull();
      // Adding levels from the last to the first, each new one wins.
      for (const [entity, value] of levels) {
        store.apply([{ entity, ops: new Map([["producer_byte_rate", value]]) }]);
        expect(q.resolve("producer_byte_rate", "u", "c")!.bound).toBe(value);
      }
      // A user-level quota is shared by the user's clients; a user+client one is not.
      store.apply([{ entity: new Map([["user", "u"], ["client-id", "c"]]), ops: new Map([["producer_byte_rate", null]]) }]);
      store.apply([{ entity: new Map<string, string | null>([["user", "u"], ["client-id", null]]), ops: new Map([["producer_byte_rate", null]]) }]);
      expect(q.resolve("producer_byte_rate", "u", "c")!.tag).toBe(q.resolve("producer_byte_rate", "u", "other")!.tag);
      // Persisted: a new store over the same dir sees the same quotas.
      const again = new QuotaStore(dir);
      again.load();
      expect([...again.all()].length).toBe([...store.all()].length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
