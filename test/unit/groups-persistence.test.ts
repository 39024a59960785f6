// The group log: offsets and group metadata survive a restart (with or
// without a clean close), a torn or corrupt tail is cut off, and the
// rewrite keeps the file near the size of the live state.

import { afterEach, expect, test } from "bun:test";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FlushScheduler } from "../../src/log/flush-scheduler.ts";
import { GroupCoordinator, GROUP_LOG_FILE, type OffsetCommitInfo } from "../../src/groups/coordinator.ts";
import { decodeFrames, encodeFrames } from "../../src/groups/group-log.ts";
import { ManualScheduler } from "../../src/groups/scheduler.ts";
import { ClassicGroup } from "../../src/groups/classic-group.ts";
import { startJoin } from "./groups-fixtures.ts";
import { crc32c } from "../../src/codec/crc32c.ts";

const dirs: string[] = [];
const open: GroupCoordinator[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dir(): string {
  const d = mkdtempSync(join(tmpdir(), "klite-groups-"));
  dirs.push(d);
  return d;
}

function openAt(d: string, opts: { slack?: number; scheduler?: ManualScheduler } = {}) {
  const s = opts.scheduler ?? new ManualScheduler();
  const c = new GroupCoordinator({ dataDir: d, fsync: "group", flusher: new FlushScheduler(), scheduler: s, config: opts.slack !== undefined ? { compactionSlack: opts.slack } : {} });
  c.load();
  open.push(c);
  return { c, s };
}

const admin = (groupId = "g"): OffsetCommitInfo => ({ groupId, memberId: "", groupInstanceId: null, generationIdOrMemberEpoch: -1, retentionTimeMs: -1, apiVersion: 8 });
const item = (topic: string, partition: number, offset: number, metadata = "") => ({ topic, partition, offset: BigInt(offset), leaderEpoch: 0, metadata });
const committed = (c: GroupCoordinator, g: string, t: string, p: number) => c.fetchOffsets(g, null, -1, [{ topic: t, partitions: [p] }], false).topics[0]!.partitions[0]!.offset;

test("offsets, metadata and groups come back after a restart; live groups reload Empty with their generation", async () => {
  const d = dir();
  const { c, s } = openAt(d);
  await c.commitOffsets(admin("simple"), [item("t", 0, 11, "meta-ü"), item("t", 1, 12)]);
  const a = await startJoin(c, { groupId: "live" });
  s.advance(0);
  const r = await a.pending;
  await c.sync({ groupId: "live", generationId: 1, memberId: r.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
  await c.commitOffsets({ ...admin("live"), memberId: r.memberId, generationIdOrMemberEpoch: 1 }, [item("t", 0, 3)]);
  await c.close();

  const { c: c2 } = openAt(d);
  expect(c2.fetchOffsets("simple", null, -1, [{ topic: "t", partitions: [0, 1] }], false).topics[0]!.partitions).toEqual([
    { partition: 0, offset: 11n, leaderEpoch: 0, metadata: "meta-ü", errorCode: 0 },
    { partition: 1, offset: 12n, leaderEpoch: 0, metadata: "", errorCode: 0 },
  ]);
  expect(committed(c2, "live", "t", 0)).toBe(3n);
  expect(c2.listGroups([], [])).toEqual([
    { groupId: "simple", protocolType: "", groupState: "Empty", groupType: "classic" },
    { groupId: "live", protocolType: "consumer", groupState: "Empty", groupType: "classic" },
  ]);
  expect((c2.groups.get("live") as ClassicGroup).generationId).toBe(1);
});

test("an acknowledged commit survives a crash (no close): it was fsynced before the answer", async () => {
  const d = dir();
  const { c } = openAt(d);
  expect(await c.commitOffsets(admin(), [item("t", 0, 99)])).toEqual([0]);
  // No close(): a new coordinator reads what is on disk right now.
  const { c: c2 } = openAt(d);
  expect(committed(c2, "g", "t", 0)).toBe(99n);
});

test("a torn tail is cut off on load and appends continue after the good prefix", async () => {
  const d = dir();
  const { c } = openAt(d);
  await c.commitOffsets(admin(), [item("t", 0, 1)]);
  await c.commitOffsets(admin(), [item("t", 0, 2)]);
  await c.close();
  const path = join(d, GROUP_LOG_FILE);
  const good = statSync(path).size;
  const next = encodeFrames([{ kind: "offset", group: "g", topic: "t", partition: 0, offset: 3n, leaderEpoch: 0, metadata: "", commitTimestamp: 0, expireTimestamp: -1, producerId: -1 }]);
  appendFileSync(path, next.subarray(0, next.length - 3));
  const { c: c2 } = openAt(d);
  expect(committed(c2, "g", "t", 0)).toBe(2n);
  expect(statSync(path).size).toBe(good);
  await c2.commitOffsets(admin(), [item("t", 0, 4)]);
  await c2.close();
  const { c: c3 } = openAt(d);
  expect(committed(c3, "g", "t", 0)).toBe(4n);
});

test("a corrupt record (bad CRC) ends the log there; garbage length fields never allocate", () => {
  const frames = encodeFrames([
    { kind: "group-delete", group: "a" },
    { kind: "group-delete", group: "b" },
    { kind: "group-delete", group: "c" },
  ]);
  const first = decodeFrames(frames);
  expect(first.records.map((r) => r.group)).toEqual(["a", "b", "c"]);
  const bad = frames.slice();
  bad[first.valid / 3 + 8 + 2]! ^= 0xff; // a payload byte of the second record
  const cut = decodeFrames(bad);
  expect(cut.records.map((r) => r.group)).toEqual(["a"]);
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setUint32(0, 0xfffffff0);
  expect(decodeFrames(huge)).toEqual({ records: [], valid: 0 });
});

test("records of an unknown kind (a newer klite) are skipped, not fatal", () => {
  const d = dir();
  const known = encodeFrames([{ kind: "offset", group: "g", topic: "t", partition: 0, offset: 5n, leaderEpoch: 0, metadata: "", commitTimestamp: 0, expireTimestamp: -1, producerId: -1 }]);
  const payload = encodeFrames([{ kind: "group-delete", group: "g" }]).slice(8);
  payload[1] = 99;
  const unknown = new Uint8Array(8 + payload.length);
  const v = new DataView(unknown.buffer);
  v.setUint32(0, payload.length);
  v.setUint32(4, crc32c(payload));
  unknown.set(payload, 8);
  const file = new Uint8Array(known.length + unknown.length);
  file.set(known);
  file.set(unknown, known.length);
  writeFileSync(join(d, GROUP_LOG_FILE), file);
  const { c } = openAt(d);
  expect(committed(c, "g", "t", 0)).toBe(5n);
  expect(statSync(join(d, GROUP_LOG_FILE)).size).toBe(file.length);
});

test("the log is rewritten to the live state: size stays bounded, state identical after reload", async () => {
  const d = dir();
  const { c } = openAt(d, { slack: 50 });
  for (let i = 0; i < 400; i++) await c.commitOffsets(admin(), [item("t", i % 4, i)]);
  await c.commitOffsets(admin("doomed"), [item("t", 0, 1)]);
  await c.deleteGroups(["doomed"]);
  await c.deleteOffsets("g", [{ topic: "t", partitions: [3] }]);
  const size = statSync(join(d, GROUP_LOG_FILE)).size;
  const oneRecord = encodeFrames([{ kind: "offset", group: "g", topic: "t", partition: 0, offset: 0n, leaderEpoch: 0, metadata: "", commitTimestamp: 0, expireTimestamp: -1, producerId: -1 }]).length;
  expect(size).toBeLessThan(oneRecord * 120);
  c.maybeCompact(true);
  expect(decodeFrames(new Uint8Array(readFileSync(join(d, GROUP_LOG_FILE)))).records).toHaveLength(3);
  await c.close();
  const { c: c2 } = openAt(d);
  expect([0, 1, 2, 3].map((p) => committed(c2, "g", "t", p))).toEqual([396n, 397n, 398n, -1n]);
  expect(c2.listGroups([], []).map((g) => g.groupId)).toEqual(["g"]);
});

test("pending transactional offsets and their outcome survive a restart", async () => {
  const d = dir();
  const { c } = openAt(d);
  const txn = (pid: number) => ({ groupId: "g", producerId: pid, memberId: "", groupInstanceId: null, generationId: -1, apiVersion: 3 });
  await c.commitTransactionalOffsets(txn(1), [item("t", 0, 10)]);
  await c.commitTransactionalOffsets(txn(2), [item("t", 1, 20)]);
  await c.completeTransaction("g", 2, true);
  await c.close();
  const { c: c2 } = openAt(d);
  expect(committed(c2, "g", "t", 0)).toBe(-1n);
  expect(committed(c2, "g", "t", 1)).toBe(20n);
  expect(c2.offsets.hasPending("g", "t", 0)).toBe(true);
  await c2.completeTransaction("g", 1, true);
  expect(committed(c2, "g", "t", 0)).toBe(10n);
});

test("OffsetDelete removes a pending transactional offset for good, across a restart", async () => {
  const d = dir();
  const { c } = openAt(d);
  await c.commitTransactionalOffsets({ groupId: "g", producerId: 5, memberId: "", groupInstanceId: null, generationId: -1, apiVersion: 3 }, [item("t", 0, 10)]);
  expect((await c.deleteOffsets("g", [{ topic: "t", partitions: [0] }])).errorCode).toBe(0);
  await c.close();
  const { c: c2 } = openAt(d);
  expect(c2.offsets.hasPending("g", "t", 0)).toBe(false);
  await c2.completeTransaction("g", 5, true);
  expect(committed(c2, "g", "t", 0)).toBe(-1n);
});
