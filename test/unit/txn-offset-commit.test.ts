// TxnOffsetCommit through the dispatcher at every served version (v0-5):
// offsets staged in a transaction are invisible until EndTxn commits them and
// vanish on abort; the transaction checks (AddOffsetsToTxn before v5, the
// implicit add of v5, producer id/epoch) and the group checks of v3+
// (generation, member, static instance) answer Kafka's error codes; EndTxn
// waits for the offsets log; staged offsets survive a restart.

import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Broker } from "../../src/broker.ts";
import { DEFAULT_OPTIONS } from "../../src/config.ts";
import { GroupCoordinator } from "../../src/groups/coordinator.ts";
import { ManualScheduler } from "../../src/groups/scheduler.ts";
import { ErrorCode } from "../../src/protocol/errors.ts";
import { joinReq, settled, startJoin } from "./groups-fixtures.ts";
import { callDispatcher, type Obj } from "../helpers/dispatch-call.ts";
import { waitFor } from "../helpers/run.ts";

const KEY = { OffsetFetch: 9, InitProducerId: 22, AddOffsetsToTxn: 25, EndTxn: 26, TxnOffsetCommit: 28 } as const;

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});


function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "klite-txoc-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function openBroker(dir: string): Broker {
  const b = new Broker({ ...DEFAULT_OPTIONS, dataDir: dir, logLevel: "error" });
  let closed = false;
  const close = b.close.bind(b);
  b.close = async () => {
    if (closed) return;
    closed = true;
    await close();
  };
  cleanups.push(() => b.close());
  return b;
}

/** A broker whose group coordinator runs on a manual clock (for joins) and in memory. */
async function setup() {
  const broker = openBroker(tempDir());
  await broker.groups.close();
  const s = new ManualScheduler();
  const c = new GroupCoordinator({ dataDir: null, fsync: "never", scheduler: s });
  c.load();
  (broker as unknown as { groups: GroupCoordinator }).groups = c;
  broker.topics.create("t", 3, {});
  return { broker, s, c };
}

const call = callDispatcher;

interface Producer {
  txn: string;
  pid: bigint;
  epoch: number;
}

async function initProducer(broker: Broker, txn: string, timeoutMs = 60_000): Promise<Producer> {
  const r = await call(broker, KEY.InitProducerId, 4, { transactionalId: txn, transactionTimeoutMs: timeoutMs, producerId: -1n, producerEpoch: -1 });
  expect(r.errorCode).toBe(0);
  return { txn, pid: r.producerId as bigint, epoch: r.producerEpoch as number };
}

async function addOffsets(broker: Broker, p: Producer, groupId: string): Promise<number> {
  const r = await call(broker, KEY.AddOffsetsToTxn, 3, { transactionalId: p.txn, producerId: p.pid, producerEpoch: p.epoch, groupId });
  return r.errorCode as number;
}

async function endTxn(broker: Broker, p: Producer, committed: boolean, version = 3): Promise<Obj> {
  return call(broker, KEY.EndTxn, version, { transactionalId: p.txn, producerId: p.pid, producerEpoch: p.epoch, committed });
}

interface Identity {
  generationId?: number;
  memberId?: string;
  groupInstanceId?: string | null;
}

/** TxnOffsetCommit of `offsets` (partition → offset of topic "t"); answers partition → error code. */
async function txnCommit(broker: Broker, version: number, p: Producer, groupId: string, offsets: Record<number, number>, who: Identity = {}, topic = "t"): Promise<Record<number, number>> {
  const r = await call(broker, KEY.TxnOffsetCommit, version, {
    transactionalId: p.txn,
    groupId,
    producerId: p.pid,
    producerEpoch: p.epoch,
    generationId: who.generationId ?? -1,
    memberId: who.memberId ?? "",
    groupInstanceId: who.groupInstanceId ?? null,
    topics: [
      {
        name: topic,
        partitions: Object.entries(offsets).map(([partition, offset]) => ({ partitionIndex: Number(partition), committedOffset: BigInt(offset), committedLeaderEpoch: 3, committedMetadata: `m${offset}` })),
      },
    ],
  });
  const topics = r.topics as { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[];
  expect(topics.map((t) => t.name)).toEqual([topic]);
  return Object.fromEntries(topics[0]!.partitions.map((x) => [x.partitionIndex, x.errorCode]));
}

/** Committed offsets of topic "t" partitions 0-2 for `groupId` (OffsetFetch v7); -1 where none. */
async function committed(broker: Broker, groupId: string, requireStable = false): Promise<{ offsets: number[]; errors: number[]; metadata: (string | null)[] }> {
  const r = await call(broker, KEY.OffsetFetch, 7, { groupId, topics: [{ name: "t", partitionIndexes: [0, 1, 2] }], requireStable });
  expect(r.errorCode).toBe(0);
  const parts = (r.topics as { partitions: { committedOffset: bigint; errorCode: number; metadata: string | null }[] }[])[0]!.partitions;
  return { offsets: parts.map((x) => Number(x.committedOffset)), errors: parts.map((x) => x.errorCode), metadata: parts.map((x) => x.metadata) };
}

const ok = (partitions: number[]) => Object.fromEntries(partitions.map((p) => [p, 0]));

describe("TxnOffsetCommit at every version", () => {
  for (let v = 0; v <= 5; v++) {
    test(`v${v}: staged offsets appear on commit only, and an aborted transaction's offsets never do`, async () => {
      const { broker } = await setup();
      const g = `g${v}`;
      const p = await initProducer(broker, `tx${v}`);
      const implicit = v >= 5;
      const endVersion = implicit ? 5 : 3;

      if (!implicit) expect(await addOffsets(broker, p, g)).toBe(0);
      expect(await txnCommit(broker, v, p, g, { 0: 10, 2: 20 })).toEqual(ok([0, 2]));
      expect((await committed(broker, g)).offsets).toEqual([-1, -1, -1]);
      expect((await committed(broker, g, true)).errors).toEqual([ErrorCode.UNSTABLE_OFFSET_COMMIT, 0, ErrorCode.UNSTABLE_OFFSET_COMMIT]);
      const c1 = await endTxn(broker, p, true, endVersion);
      expect(c1.errorCode).toBe(0);
      const after = await committed(broker, g, true);
      expect(after.offsets).toEqual([10, -1, 20]);
      expect(after.errors).toEqual([0, 0, 0]);
      expect(after.metadata).toEqual(["m10", "", "m20"]);
      if (implicit) p.epoch = c1.producerEpoch as number; // transactions v2 bump the epoch at every end

      if (!implicit) expect(await addOffsets(broker, p, g)).toBe(0);
      expect(await txnCommit(broker, v, p, g, { 0: 11, 1: 5 })).toEqual(ok([0, 1]));
      const a = await endTxn(broker, p, false, endVersion);
      expect(a.errorCode).toBe(0);
      expect(await committed(broker, g, true)).toMatchObject({ offsets: [10, -1, 20], errors: [0, 0, 0] });
    });
  }

  test("v5 adds the group to the transaction itself: the transaction is open and EndTxn v5 ends it", async () => {
    const { broker } = await setup();
    const p = await initProducer(broker, "tv2");
    expect(await txnCommit(broker, 5, p, "g", { 1: 7 })).toEqual(ok([1]));
    const t = broker.transactions.get("tv2")!;
    expect(t.state).toBe("Ongoing");
    expect(t.groups).toEqual(["g"]);
  });
});

describe("transaction checks", () => {
  test("without AddOffsetsToTxn: INVALID_TXN_STATE before v4, TRANSACTION_ABORTABLE from v4; nothing is staged", async () => {
    const { broker } = await setup();
    const p = await initProducer(broker, "tx");
    for (let v = 0; v <= 3; v++) expect(await txnCommit(broker, v, p, "g", { 0: 1 })).toEqual({ 0: ErrorCode.INVALID_TXN_STATE });
    expect(await txnCommit(broker, 4, p, "g", { 0: 1 })).toEqual({ 0: ErrorCode.TRANSACTION_ABORTABLE });
    // Another group in the transaction does not let this one in.
    expect(await addOffsets(broker, p, "other")).toBe(0);
    expect(await txnCommit(broker, 3, p, "g", { 0: 1 })).toEqual({ 0: ErrorCode.INVALID_TXN_STATE });
    expect(await txnCommit(broker, 4, p, "g", { 0: 1 })).toEqual({ 0: ErrorCode.TRANSACTION_ABORTABLE });
    expect(broker.groups.offsets.hasPendingForGroup("g")).toBe(false);
    // Once the transaction ended, the group must be added again.
    expect(await addOffsets(broker, p, "g")).toBe(0);
    expect(await txnCommit(broker, 3, p, "g", { 0: 1 })).toEqual({ 0: 0 });
    expect((await endTxn(broker, p, true)).errorCode).toBe(0);
    expect(await txnCommit(broker, 3, p, "g", { 0: 2 })).toEqual({ 0: ErrorCode.INVALID_TXN_STATE });
    expect((await committed(broker, "g")).offsets).toEqual([1, -1, -1]);
  });

  test("producer id and epoch: unknown id or mapping, fenced and future epochs", async () => {
    const { broker } = await setup();
    const p = await initProducer(broker, "tx");
    expect(await addOffsets(broker, p, "g")).toBe(0);
    for (const v of [0, 3, 4, 5]) {
      expect(await txnCommit(broker, v, { ...p, txn: "nope" }, "g", { 0: 1 })).toEqual({ 0: ErrorCode.INVALID_PRODUCER_ID_MAPPING });
      expect(await txnCommit(broker, v, { ...p, pid: p.pid + 1n }, "g", { 0: 1 })).toEqual({ 0: ErrorCode.INVALID_PRODUCER_ID_MAPPING });
      // Kafka answers any epoch mismatch in verification as INVALID_PRODUCER_EPOCH (clients take it as fenced).
      expect(await txnCommit(broker, v, { ...p, epoch: p.epoch + 1 }, "g", { 0: 1 })).toEqual({ 0: ErrorCode.INVALID_PRODUCER_EPOCH });
      expect(await txnCommit(broker, v, { ...p, txn: "" }, "g", { 0: 1 })).toEqual({ 0: ErrorCode.INVALID_REQUEST });
    }
    // A new instance of the same transactional id fences the old one and aborts its transaction.
    expect(await txnCommit(broker, 3, p, "g", { 0: 1 })).toEqual({ 0: 0 });
    const q = await initProducer(broker, "tx");
    expect(q.epoch).toBeGreaterThan(p.epoch);
    for (const v of [0, 3, 4, 5]) expect(await txnCommit(broker, v, p, "g", { 0: 2 })).toEqual({ 0: ErrorCode.INVALID_PRODUCER_EPOCH });
    expect(await committed(broker, "g", true)).toMatchObject({ offsets: [-1, -1, -1], errors: [0, 0, 0] });
  });

  test("unknown topics and partitions fail alone; an empty group id is INVALID_GROUP_ID", async () => {
    const { broker } = await setup();
    const p = await initProducer(broker, "tx");
    expect(await addOffsets(broker, p, "g")).toBe(0);
    expect(await txnCommit(broker, 3, p, "g", { 0: 4, 3: 4, [-1]: 4 })).toEqual({ 0: 0, 3: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, [-1]: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
    expect(await txnCommit(broker, 3, p, "g", { 0: 4 }, {}, "missing")).toEqual({ 0: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
    // Only unknown topics: the transaction is not even looked at (a stranger's request gets the same answer).
    expect(await txnCommit(broker, 3, { ...p, txn: "nope" }, "g", { 0: 4 }, {}, "missing")).toEqual({ 0: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
    expect(await txnCommit(broker, 3, p, "", { 0: 4 })).toEqual({ 0: ErrorCode.INVALID_GROUP_ID });
    expect((await endTxn(broker, p, true)).errorCode).toBe(0);
    expect((await committed(broker, "g")).offsets).toEqual([4, -1, -1]);
  });

  test("metadata longer than offset.metadata.max.bytes fails that partition only", async () => {
    const { broker } = await setup();
    const p = await initProducer(broker, "tx");
    expect(await addOffsets(broker, p, "g")).toBe(0);
    const r = await call(broker, KEY.TxnOffsetCommit, 3, {
      transactionalId: p.txn,
      groupId: "g",
      producerId: p.pid,
      producerEpoch: p.epoch,
      topics: [
        {
          name: "t",
          partitions: [
            { partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: "x".repeat(4097) },
            { partitionIndex: 1, committedOffset: 2n, committedLeaderEpoch: -1, committedMetadata: null },
          ],
        },
      ],
    });
    expect((r.topics as { partitions: { errorCode: number }[] }[])[0]!.partitions.map((x) => x.errorCode)).toEqual([ErrorCode.OFFSET_METADATA_TOO_LARGE, 0]);
    expect((await endTxn(broker, p, true)).errorCode).toBe(0);
    expect(await committed(broker, "g")).toMatchObject({ offsets: [-1, 2, -1], metadata: ["", "", ""] });
  });
});

describe("group checks (v3+ carry generation, member and instance id)", () => {
  async function stableMember(s: ManualScheduler, c: GroupCoordinator, groupInstanceId: string | null = null) {
    let memberId: string;
    let generationId: number;
    if (groupInstanceId === null) {
      const j = await startJoin(c);
      s.advance(0);
      const r = await j.pending;
      memberId = r.memberId;
      generationId = r.generationId;
    } else {
      const p = c.join(joinReq({ groupInstanceId }));
      s.advance(0);
      const r = await p;
      memberId = r.memberId;
      generationId = r.generationId;
    }
    const sync = await c.sync({ groupId: "g", generationId, memberId, groupInstanceId, protocolType: "consumer", protocolName: "range", assignments: [] });
    expect(sync.errorCode).toBe(0);
    return { memberId, generationId };
  }

  test("a live member's generation and id are checked; v0-2 cannot carry them and pass", async () => {
    const { broker, s, c } = await setup();
    const m = await stableMember(s, c);
    const p = await initProducer(broker, "tx");
    expect(await addOffsets(broker, p, "g")).toBe(0);
    for (const v of [3, 4, 5]) {
      expect(await txnCommit(broker, v, p, "g", { 0: 1 }, { memberId: m.memberId, generationId: m.generationId + 1 })).toEqual({ 0: ErrorCode.ILLEGAL_GENERATION });
      expect(await txnCommit(broker, v, p, "g", { 0: 1 }, { memberId: "stranger", generationId: m.generationId })).toEqual({ 0: ErrorCode.UNKNOWN_MEMBER_ID });
      expect(await txnCommit(broker, v, p, "g", { 0: 1 }, { memberId: m.memberId, generationId: m.generationId })).toEqual({ 0: 0 });
      // Without any identity a transactional commit is let through even while the group has members, as in Kafka.
      expect(await txnCommit(broker, v, p, "g", { 1: 2 })).toEqual({ 1: 0 });
    }
    for (const v of [0, 1, 2]) expect(await txnCommit(broker, v, p, "g", { 2: 3 })).toEqual({ 2: 0 });
    expect((await endTxn(broker, p, true)).errorCode).toBe(0);
    expect((await committed(broker, "g")).offsets).toEqual([1, 2, 3]);
  });

  test("a static member's instance id with another member id is FENCED_INSTANCE_ID", async () => {
    const { broker, s, c } = await setup();
    const m = await stableMember(s, c, "i1");
    const p = await initProducer(broker, "tx");
    expect(await addOffsets(broker, p, "g")).toBe(0);
    expect(await txnCommit(broker, 3, p, "g", { 0: 1 }, { memberId: "old-incarnation", generationId: m.generationId, groupInstanceId: "i1" })).toEqual({ 0: ErrorCode.FENCED_INSTANCE_ID });
    expect(await txnCommit(broker, 3, p, "g", { 0: 1 }, { memberId: m.memberId, generationId: m.generationId, groupInstanceId: "i1" })).toEqual({ 0: 0 });
  });

  test("a generation for a group that does not exist is ILLEGAL_GENERATION; -1 creates a simple group", async () => {
    const { broker } = await setup();
    const p = await initProducer(broker, "tx");
    expect(await addOffsets(broker, p, "nogroup")).toBe(0);
    expect(await txnCommit(broker, 3, p, "nogroup", { 0: 1 }, { memberId: "m", generationId: 1 })).toEqual({ 0: ErrorCode.ILLEGAL_GENERATION });
    expect(broker.groups.groups.has("nogroup")).toBe(false);
    expect(await txnCommit(broker, 3, p, "nogroup", { 0: 1 })).toEqual({ 0: 0 });
    expect(broker.groups.groups.has("nogroup")).toBe(true);
  });
});

describe("ending the transaction", () => {
  test("EndTxn answers only once the offsets log is durable", async () => {
    const { broker, c } = await setup();
    const p = await initProducer(broker, "tx");
    expect(await addOffsets(broker, p, "g")).toBe(0);
    expect(await txnCommit(broker, 3, p, "g", { 0: 9 })).toEqual({ 0: 0 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let flushes = 0;
    c.flushed = () => {
      flushes++;
      return gate;
    };
    const end = endTxn(broker, p, true);
    // The prepare state is fsynced first, then the offsets' outcome is written and awaited.
    await waitFor(() => flushes > 0, 10_000, "the offsets flush");
    expect(flushes).toBe(1);
    expect(await settled(end)).toBe(false);
    release();
    expect((await end).errorCode).toBe(0);
  });

  test("a transaction aborted by its timeout drops its staged offsets", async () => {
    const { broker } = await setup();
    const p = await initProducer(broker, "tx", 1000);
    expect(await addOffsets(broker, p, "g")).toBe(0);
    expect(await txnCommit(broker, 3, p, "g", { 0: 9 })).toEqual({ 0: 0 });
    broker.transactions.get("tx")!.startTimestamp -= 2000;
    const sweep = broker.transactions.abortExpired();
    expect(sweep.aborted).toEqual(["tx"]);
    await sweep.done;
    expect(await committed(broker, "g", true)).toMatchObject({ offsets: [-1, -1, -1], errors: [0, 0, 0] });
    expect(await txnCommit(broker, 3, p, "g", { 0: 9 })).toEqual({ 0: ErrorCode.INVALID_PRODUCER_EPOCH });
  });

  /** A broker on `dir` whose producer "tx" has staged offsets 5 and 6 of t-0 and t-1 for group g. */
  async function stagedOffsets(dir: string): Promise<{ broker: Broker; p: Producer }> {
    const broker = openBroker(dir);
    broker.topics.create("t", 3, {});
    const p = await initProducer(broker, "tx");
    expect(await addOffsets(broker, p, "g")).toBe(0);
    expect(await txnCommit(broker, 3, p, "g", { 0: 5, 1: 6 })).toEqual(ok([0, 1]));
    return { broker, p };
  }

  test("staged offsets survive a restart, still invisible; the commit after it makes them visible and durable", async () => {
    const dir = tempDir();
    let { broker, p } = await stagedOffsets(dir);
    await broker.close();

    broker = openBroker(dir);
    expect(await committed(broker, "g", true)).toMatchObject({ offsets: [-1, -1, -1], errors: [ErrorCode.UNSTABLE_OFFSET_COMMIT, ErrorCode.UNSTABLE_OFFSET_COMMIT, 0] });
    expect((await endTxn(broker, p, true)).errorCode).toBe(0);
    expect((await committed(broker, "g", true)).offsets).toEqual([5, 6, -1]);
    await broker.close();

    broker = openBroker(dir);
    expect(await committed(broker, "g", true)).toMatchObject({ offsets: [5, 6, -1], errors: [0, 0, 0] });
  });

  test("a commit a crash left in PrepareCommit is finished at start-up: its staged offsets become visible, durably", async () => {
    const dir = tempDir();
    let { broker, p } = await stagedOffsets(dir);
    // The state EndTxn makes durable before anything else, and nothing after it.
    const t = broker.transactions.get("tx")!;
    t.state = "PrepareCommit";
    await broker.txnStore.saveTxn(t);
    await broker.close();

    broker = openBroker(dir);
    await broker.transactions.recover();
    expect(broker.transactions.get("tx")!.state).toBe("CompleteCommit");
    expect((await committed(broker, "g", true)).offsets).toEqual([5, 6, -1]);
    // The producer's retried EndTxn gets its answer.
    expect((await endTxn(broker, p, true)).errorCode).toBe(0);
    await broker.close();

    broker = openBroker(dir);
    expect(await committed(broker, "g", true)).toMatchObject({ offsets: [5, 6, -1], errors: [0, 0, 0] });
  });
});
