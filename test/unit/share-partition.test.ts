// The share-partition state machine on its own (no log, no clock): what is
// acquired within which limits, all-or-nothing acknowledgements, releases,
// delivery-count archiving, the start offset, and the persisted runs.

import { expect, test } from "bun:test";
import { AckType, RecordState, SharePartition, type SourceBatch } from "../../src/share/share-partition.ts";
import { decodeFrames, encodeFrames } from "../../src/log/record-log.ts";
import { SHARE_STATE_RECORDS, type ShareStateRecord } from "../../src/share/state-records.ts";

/** A log of batches of `size` records from offset 0, `control` batch bases skipped as control batches. */
function logOf(end: number, size: number, control: number[] = []) {
  const batches: SourceBatch[] = [];
  for (let base = 0; base < end; base += size) batches.push({ base, last: Math.min(end, base + size) - 1, bytes: new Uint8Array(10), skip: control.includes(base) });
  return (offset: number, maxBytes: number) => {
    const i = batches.findIndex((b) => b.last >= offset);
    if (i < 0) return [];
    const out: SourceBatch[] = [];
    let bytes = 0;
    for (let j = i; j < batches.length && (out.length === 0 || bytes + 10 <= maxBytes); j++) {
      out.push(batches[j]!);
      bytes += 10;
    }
    return out;
  };
}

const limits = (o: Partial<{ maxRecords: number; strictMaxRecords: boolean; maxInFlight: number; maxBytes: number; limit: number; lockExpiry: number }>) => ({
  maxRecords: 1000,
  maxInFlight: 2000,
  maxBytes: 1 << 20,
  limit: 100,
  lockExpiry: 1000,
  ...o,
});

test("acquires whole batches: MaxRecords and the in-flight limit stop it only between batches", () => {
  const sp = new SharePartition(0);
  const read = logOf(100, 10);
  const a = sp.acquire("m1", limits({ maxRecords: 25 }), read);
  expect(a.ranges).toEqual([{ first: 0, last: 29, deliveryCount: 1 }]);
  expect(a.chunks.length).toBe(3);
  const b = sp.acquire("m2", limits({ maxInFlight: 35 }), read);
  expect(b.ranges).toEqual([{ first: 30, last: 39, deliveryCount: 1 }]);
  expect(sp.acquire("m2", limits({ maxInFlight: 35 }), read).records).toBe(0);
  // Record-limit mode (ShareFetch v2): exactly MaxRecords, cutting the batch.
  expect(new SharePartition(0).acquire("m3", limits({ maxRecords: 25, strictMaxRecords: true }), read).ranges).toEqual([{ first: 0, last: 24, deliveryCount: 1 }]);
  expect(sp.ownerOf(10)).toBe("m1");
  expect(sp.ownerOf(30)).toBe("m2");
});

test("acknowledgements are all or nothing and only by the holder", () => {
  const sp = new SharePartition(0);
  sp.acquire("m1", limits({ maxRecords: 10 }), logOf(100, 10));
  // 10 was never acquired: nothing changes.
  expect(sp.acknowledge("m1", [{ first: 0, last: 3, types: [AckType.ACCEPT] }, { first: 9, last: 10, types: [AckType.ACCEPT] }], 5, 0)).toBe("invalid_state");
  expect(sp.stateOf(0)).toBe(RecordState.ACQUIRED);
  expect(sp.acknowledge("m2", [{ first: 0, last: 0, types: [AckType.ACCEPT] }], 5, 0)).toBe("invalid_state");
  expect(sp.acknowledge("m1", [{ first: 0, last: 4, types: [AckType.ACCEPT, AckType.REJECT, AckType.ACCEPT, AckType.RELEASE, AckType.GAP] }], 5, 0)).toBe("ok");
  expect(sp.startOffset).toBe(3);
  expect(sp.stateOf(3)).toBe(RecordState.AVAILABLE);
  expect(sp.stateOf(4)).toBe(RecordState.ARCHIVED);
  // The released record comes back first, with its delivery count up.
  const again = sp.acquire("m2", limits({ maxRecords: 2 }), logOf(100, 10));
  expect(again.ranges).toEqual([
    { first: 3, last: 3, deliveryCount: 2 },
    { first: 10, last: 19, deliveryCount: 1 },
  ]);
});

test("lock expiry and member release make records available; the delivery limit archives them", () => {
  const sp = new SharePartition(0);
  const read = logOf(100, 10);
  sp.acquire("m1", limits({ maxRecords: 10, lockExpiry: 1000 }), read);
  sp.acquire("m2", limits({ maxRecords: 10, lockExpiry: 2000 }), read);
  expect(sp.nextExpiry()).toBe(1000);
  expect(sp.release(3, { now: 1500 })).toBe(10);
  expect(sp.nextExpiry()).toBe(2000);
  expect(sp.release(3, { member: "m2" })).toBe(10);
  expect(sp.acquiredCount).toBe(0);
  // Deliveries 2 and 3 of 0-9, then the limit (3) archives them.
  for (let i = 0; i < 2; i++) {
    const a = sp.acquire("m1", limits({ maxRecords: 10 }), read);
    expect(a.ranges).toEqual([{ first: 0, last: 9, deliveryCount: 2 + i }]);
    sp.release(3, { member: "m1" });
  }
  expect(sp.startOffset).toBe(10);
  expect(sp.stateOf(5)).toBe(RecordState.ACKNOWLEDGED); // below the start: done
});

test("control batches are never delivered; renew extends a lock", () => {
  const sp = new SharePartition(0);
  const a = sp.acquire("m1", limits({ limit: 30 }), logOf(30, 10, [10]));
  expect(a.ranges).toEqual([
    { first: 0, last: 9, deliveryCount: 1 },
    { first: 20, last: 29, deliveryCount: 1 },
  ]);
  expect(a.chunks.length).toBe(2);
  expect(sp.acknowledge("m1", [{ first: 0, last: 0, types: [AckType.RENEW] }], 5, 9999)).toBe("ok");
  expect(sp.release(5, { now: 5000 })).toBe(19);
  expect(sp.stateOf(0)).toBe(RecordState.ACQUIRED);
});

test("persisted runs restore the window (acquired comes back available) through the state log codec", () => {
  const sp = new SharePartition(5);
  sp.acquire("m1", limits({ maxRecords: 20 }), logOf(100, 10));
  sp.acknowledge("m1", [{ first: 7, last: 9, types: [AckType.ACCEPT] }, { first: 12, last: 12, types: [AckType.REJECT] }], 5, 0);
  const rec: ShareStateRecord = { kind: "partition", group: "g", topicId: "0123456789abcdef0123456789abcdef", partition: 2, stateEpoch: 3, startOffset: sp.startOffset, runs: sp.runs() };
  const { records } = decodeFrames(SHARE_STATE_RECORDS, encodeFrames(SHARE_STATE_RECORDS, [rec, { kind: "group-config", group: "g", configs: [["share.auto.offset.reset", "earliest"]] }]));
  expect(records[0]).toEqual(rec);
  expect(records[1]).toEqual({ kind: "group-config", group: "g", configs: [["share.auto.offset.reset", "earliest"]] });
  const back = SharePartition.restore(rec.startOffset, rec.stateEpoch, rec.runs);
  expect([back.startOffset, back.endOffset, back.stateEpoch]).toEqual([5, 30, 3]);
  expect(back.stateOf(8)).toBe(RecordState.ACKNOWLEDGED);
  expect(back.stateOf(12)).toBe(RecordState.ARCHIVED);
  expect(back.stateOf(13)).toBe(RecordState.AVAILABLE);
  expect(back.deliveryCountOf(13)).toBe(1);
  const a = back.acquire("m9", limits({ maxRecords: 3 }), logOf(100, 10));
  expect(a.ranges).toEqual([
    { first: 5, last: 6, deliveryCount: 2 },
    { first: 10, last: 11, deliveryCount: 2 },
    { first: 13, last: 19, deliveryCount: 2 },
  ]);
});

test("the simple assignor: partitions shared out round-robin, and every partition to several members when members outnumber them", async () => {
  const { assignShare, ShareMember } = await import("../../src/share/share-group.ts");
  const topics = {
    byName: (n: string) => (n === "t" ? { name: "t", id: "tid", partitions: 3, internal: false } : undefined),
    byId: () => undefined,
    all: () => [],
  };
  const members = (n: number) =>
    Array.from({ length: n }, (_, i) => {
      const m = new ShareMember(`m${i}`);
      m.subscribedTopicNames = ["t", "missing"];
      return m;
    });
  const of = (n: number) => [...assignShare(members(n), topics)].map(([id, a]) => [id, a.get("tid")]);
  expect(of(2)).toEqual([
    ["m0", [0, 2]],
    ["m1", [1]],
  ]);
  expect(of(4)).toEqual([
    ["m0", [0]],
    ["m1", [1]],
    ["m2", [2]],
    ["m3", [0]],
  ]);
});
