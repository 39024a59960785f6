// Share groups (KIP-932) with a real share consumer: librdkafka 2.15's
// (test/clients/c/share-consumer.c), records produced by kcat (librdkafka
// 2.0.2). Group configs, admin APIs and bad input go over the wire with the
// generated codecs, since no installed client has share-group admin calls.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { inProcessBroker, spawnBroker, type InProcessBroker } from "../helpers/broker.ts";
import { CLIENT_TEST_TIMEOUT, kcat, py } from "../helpers/clients.ts";
import { waitFor } from "../helpers/run.ts";
import { shareConsumer, type Delivery } from "../helpers/share-consumer.ts";
import { connectWire } from "../helpers/wire-client.ts";

const GROUP_RESOURCE = 32;
const E = { NONE: 0, INVALID_REQUEST: 42, NON_EMPTY_GROUP: 68, GROUP_ID_NOT_FOUND: 69, INVALID_RECORD_STATE: 121, SHARE_SESSION_NOT_FOUND: 122, INVALID_SHARE_SESSION_EPOCH: 123 };

let b: InProcessBroker;
beforeAll(async () => {
  b = await inProcessBroker();
});
afterAll(async () => {
  await b.cleanup();
});

async function wire<T = any>(port: number, key: number, version: number, body: object): Promise<T> {
  const c = await connectWire(port);
  try {
    return await c.call<T>(key, version, body);
  } finally {
    c.close();
  }
}

async function groupConfig(port: number, group: string, configs: Record<string, string>): Promise<void> {
  const r = await wire(port, 44, 1, {
    resources: [{ resourceType: GROUP_RESOURCE, resourceName: group, configs: Object.entries(configs).map(([name, value]) => ({ name, configOperation: 0, value })) }],
    validateOnly: false,
  });
  expect(r.responses.map((x: any) => [x.errorCode, x.errorMessage])).toEqual([[0, null]]);
}

async function createTopic(port: number, name: string, partitions: number): Promise<void> {
  const r = await wire(port, 19, 7, { topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 10000, validateOnly: false });
  expect(r.topics[0].errorCode).toBe(0);
}

async function produce(bootstrap: string, topic: string, from: number, count: number): Promise<void> {
  const lines = Array.from({ length: count }, (_, i) => `r${from + i}`).join("\n") + "\n";
  await kcat(["-b", bootstrap, "-P", "-t", topic], { stdin: lines });
}

function hw(topic: string): number {
  return b.broker.topics.get(topic)!.partitions.reduce((n, p) => n + p.highWatermark, 0);
}

const key = (d: { p: number; o: number }) => `${d.p}:${d.o}`;

/** A ShareFetch v1+ body of member m1 (100 ms wait, up to 1000 records). */
function shareFetchBody(groupId: string, shareSessionEpoch: number, topics: object[]) {
  return { groupId, memberId: "m1", shareSessionEpoch, maxWaitMs: 100, minBytes: 1, maxBytes: 1 << 20, maxRecords: 1000, batchSize: 500, topics, forgottenTopicsData: [] };
}

/** Every record of the topic delivered for the first time exactly once, and never a second time. */
function expectEachOnce(deliveries: Delivery[], total: number): void {
  const firsts = deliveries.filter((d) => d.dc === 1).map(key);
  expect(new Set(firsts).size).toBe(firsts.length);
  expect(firsts.length).toBe(total);
  expect(deliveries.every((d) => d.dc === 1)).toBe(true);
}

test.concurrent(
  "one consumer, implicit acknowledgement: every record once, the start offset moves to the end",
  async () => {
    await groupConfig(b.port, "g-one", { "share.auto.offset.reset": "earliest" });
    await produce(b.bootstrap, "share-one", 0, 200);
    const c = shareConsumer(b.bootstrap, "g-one", "share-one", "implicit", 200);
    expect(await c.exited).toBe(0);
    await c.stop();
    expectEachOnce(c.deliveries, 200);
    expect(c.deliveries.map((d) => d.v)).toEqual(Array.from({ length: 200 }, (_, i) => `r${i}`));
    const d = await wire(b.port, 90, 1, { groups: [{ groupId: "g-one", topics: [{ topicName: "share-one", partitions: [0] }] }] });
    expect(d.groups[0].topics[0].partitions[0]).toMatchObject({ partitionIndex: 0, startOffset: 200n, lag: 0n, errorCode: 0 });
  },
  CLIENT_TEST_TIMEOUT,
);

for (const [consumers, partitions] of [
  [2, 1],
  [4, 1],
  [2, 3],
  [4, 3],
] as const) {
  test.concurrent(
    `${consumers} consumers on a ${partitions}-partition topic: together every record, none twice`,
    async () => {
      const topic = `share-${consumers}c-${partitions}p`;
      const group = `g-${consumers}c-${partitions}p`;
      await createTopic(b.port, topic, partitions);
      await groupConfig(b.port, group, { "share.auto.offset.reset": "earliest" });
      const cs = Array.from({ length: consumers }, () => shareConsumer(b.bootstrap, group, topic, "implicit"));
      await Promise.all(cs.map((c) => c.ready()));
      for (let i = 0; i < 4; i++) await produce(b.bootstrap, topic, i * 100, 100);
      const all = () => cs.flatMap((c) => c.deliveries);
      await waitFor(() => new Set(all().map(key)).size >= 400, 60_000, "all records delivered");
      await Promise.all(cs.map((c) => c.stop()));
      expect(hw(topic)).toBe(400);
      expectEachOnce(all(), 400);
    },
    CLIENT_TEST_TIMEOUT,
  );
}

test.concurrent(
  "explicit RELEASE: redelivered with a higher delivery count; REJECT archives",
  async () => {
    await groupConfig(b.port, "g-release", { "share.auto.offset.reset": "earliest" });
    await groupConfig(b.port, "g-reject", { "share.auto.offset.reset": "earliest" });
    await produce(b.bootstrap, "share-acks", 0, 50);
    const rel = shareConsumer(b.bootstrap, "g-release", "share-acks", "release-once", 100);
    expect(await rel.exited).toBe(0);
    await rel.stop();
    for (let o = 0; o < 50; o++) expect(rel.deliveries.filter((d) => d.o === o).map((d) => d.dc)).toEqual([1, 2]);

    const rej = shareConsumer(b.bootstrap, "g-reject", "share-acks", "reject-odd", 50);
    expect(await rej.exited).toBe(0);
    await rej.stop();
    expectEachOnce(rej.deliveries, 50);
    // Rejected records are archived: the group is done with all 50, and a new member gets nothing.
    const d = await wire(b.port, 90, 1, { groups: [{ groupId: "g-reject", topics: [{ topicName: "share-acks", partitions: [0] }] }] });
    expect(d.groups[0].topics[0].partitions[0]).toMatchObject({ startOffset: 50n, lag: 0n });
  },
  CLIENT_TEST_TIMEOUT,
);

test.concurrent(
  "a consumer that stops acknowledging: its records go to another after the lock duration",
  async () => {
    await groupConfig(b.port, "g-stall", { "share.auto.offset.reset": "earliest", "share.record.lock.duration.ms": "1000" });
    await produce(b.bootstrap, "share-stall", 0, 30);
    const staller = shareConsumer(b.bootstrap, "g-stall", "share-stall", "stall");
    await waitFor(() => staller.deliveries.length > 0, 60_000, "the staller's first batch");
    const held = staller.deliveries.map((d) => d.o);
    const other = shareConsumer(b.bootstrap, "g-stall", "share-stall", "implicit");
    await waitFor(() => new Set(other.deliveries.map((d) => d.o)).size >= 30, 60_000, "everything at the second consumer");
    await other.stop();
    await staller.kill9();
    for (const o of held) expect(other.deliveries.find((d) => d.o === o)!.dc).toBe(2);
    expect(other.deliveries.filter((d) => !held.includes(d.o)).every((d) => d.dc === 1)).toBe(true);
  },
  CLIENT_TEST_TIMEOUT,
);

test.concurrent(
  "share.auto.offset.reset: latest (default) skips what came before, earliest does not; two groups each get everything",
  async () => {
    await produce(b.bootstrap, "share-reset", 0, 20);
    await groupConfig(b.port, "g-earliest", { "share.auto.offset.reset": "earliest" });
    await groupConfig(b.port, "g-earliest2", { "share.auto.offset.reset": "earliest" });
    const latest = shareConsumer(b.bootstrap, "g-latest", "share-reset", "implicit");
    await latest.ready();
    // The share-partition is initialized when the heartbeat assigns it.
    await waitFor(() => b.broker.share.partitions.size > 0 && [...b.broker.share.partitions.values()].some((e) => e.group === "g-latest"), 30_000, "g-latest initialized");
    const earliest = shareConsumer(b.bootstrap, "g-earliest", "share-reset", "implicit");
    const earliest2 = shareConsumer(b.bootstrap, "g-earliest2", "share-reset", "implicit");
    await produce(b.bootstrap, "share-reset", 20, 10);
    await waitFor(() => latest.deliveries.length >= 10 && earliest.deliveries.length >= 30 && earliest2.deliveries.length >= 30, 60_000, "all groups");
    await Promise.all([latest.stop(), earliest.stop(), earliest2.stop()]);
    expect(latest.deliveries.map((d) => d.v)).toEqual(Array.from({ length: 10 }, (_, i) => `r${20 + i}`));
    expectEachOnce(earliest.deliveries, 30);
    expectEachOnce(earliest2.deliveries, 30);
  },
  CLIENT_TEST_TIMEOUT,
);

test.concurrent(
  "admin: describe, alter and delete offsets, list by type, describe, delete the group",
  async () => {
    await groupConfig(b.port, "g-admin", { "share.auto.offset.reset": "earliest" });
    await produce(b.bootstrap, "share-admin", 0, 40);
    const c = shareConsumer(b.bootstrap, "g-admin", "share-admin", "implicit");
    await waitFor(() => c.deliveries.length >= 40, 60_000, "40 records");
    const described = await wire(b.port, 77, 1, { groupIds: ["g-admin", "nosuch", ""], includeAuthorizedOperations: false });
    expect(described.groups[1].errorCode).toBe(E.GROUP_ID_NOT_FOUND);
    expect(described.groups[2].errorCode).toBe(24); // INVALID_GROUP_ID
    expect(described.groups[0]).toMatchObject({ errorCode: 0, groupState: "Stable", assignorName: "simple" });
    expect(described.groups[0].members[0].subscribedTopicNames).toEqual(["share-admin"]);
    // A live group's offsets cannot be changed.
    const busy = await wire(b.port, 91, 0, { groupId: "g-admin", topics: [{ topicName: "share-admin", partitions: [{ partitionIndex: 0, startOffset: 0n }] }] });
    expect(busy.errorCode).toBe(E.NON_EMPTY_GROUP);
    await c.stop();
    const listed = await wire(b.port, 16, 5, { statesFilter: [], typesFilter: ["share"] });
    expect(listed.groups.find((g: any) => g.groupId === "g-admin")).toMatchObject({ groupType: "share", protocolType: "share", groupState: "Empty" });
    expect(listed.groups.every((g: any) => g.groupType === "share")).toBe(true);

    const alter = await wire(b.port, 91, 0, { groupId: "g-admin", topics: [{ topicName: "share-admin", partitions: [{ partitionIndex: 0, startOffset: 10n }] }] });
    expect(alter.errorCode).toBe(0);
    expect(alter.responses[0].partitions[0].errorCode).toBe(0);
    let d = await wire(b.port, 90, 1, { groups: [{ groupId: "g-admin", topics: null }] });
    expect(d.groups[0].topics[0].partitions[0]).toMatchObject({ startOffset: 10n, lag: 30n });
    // Re-read from 10: a consumer gets 30 records.
    const again = shareConsumer(b.bootstrap, "g-admin", "share-admin", "implicit", 30);
    expect(await again.exited).toBe(0);
    await again.stop();
    expect(again.deliveries.map((x) => x.o)).toEqual(Array.from({ length: 30 }, (_, i) => 10 + i));

    const del = await wire(b.port, 92, 0, { groupId: "g-admin", topics: [{ topicName: "share-admin" }] });
    expect(del.errorCode).toBe(0);
    d = await wire(b.port, 90, 1, { groups: [{ groupId: "g-admin", topics: [{ topicName: "share-admin", partitions: [0] }] }] });
    expect(d.groups[0].topics[0].partitions[0]).toMatchObject({ startOffset: -1n });
    const gone = await wire(b.port, 42, 2, { groupsNames: ["g-admin"] });
    expect(gone.results[0].errorCode).toBe(0);
    expect((await wire(b.port, 77, 1, { groupIds: ["g-admin"], includeAuthorizedOperations: false })).groups[0].errorCode).toBe(E.GROUP_ID_NOT_FOUND);
  },
  CLIENT_TEST_TIMEOUT,
);

test.concurrent(
  "bad input: session errors, acknowledging records not acquired, the in-flight lock limit",
  async () => {
    await createTopic(b.port, "share-bad", 1);
    await groupConfig(b.port, "g-bad", { "share.auto.offset.reset": "earliest", "share.partition.max.record.locks": "100" });
    // Three batches of 100.
    for (let i = 0; i < 3; i++) await produce(b.bootstrap, "share-bad", i * 100, 100);
    const topicId = b.broker.topics.get("share-bad")!.id;
    const c = await connectWire(b.port);
    try {
      // No share group of that id yet: no share state is made for it.
      expect((await c.call<any>(78, 1, shareFetchBody("g-bad", 0, [{ topicId, partitions: [{ partitionIndex: 0, acknowledgementBatches: [] }] }]))).errorCode).toBe(E.GROUP_ID_NOT_FOUND);
      const hb = await c.call<any>(76, 1, { groupId: "g-bad", memberId: "m1", memberEpoch: 0, rackId: null, subscribedTopicNames: ["share-bad"] });
      expect(hb.errorCode).toBe(0);
      const fetch = (epoch: number, acks: any[] = [], topics = true) =>
        c.call<any>(78, 1, shareFetchBody("g-bad", epoch, topics ? [{ topicId, partitions: [{ partitionIndex: 0, acknowledgementBatches: acks }] }] : []));
      expect((await fetch(3)).errorCode).toBe(E.SHARE_SESSION_NOT_FOUND);
      expect((await fetch(0, [{ firstOffset: 0n, lastOffset: 0n, acknowledgeTypes: [1] }])).errorCode).toBe(E.INVALID_REQUEST);
      const first = await fetch(0);
      expect(first.errorCode).toBe(0);
      const acquired = first.responses[0].partitions[0].acquiredRecords;
      // At most share.partition.max.record.locks in flight.
      expect(acquired).toEqual([{ firstOffset: 0n, lastOffset: 99n, deliveryCount: 1 }]);
      expect((await fetch(5)).errorCode).toBe(E.INVALID_SHARE_SESSION_EPOCH);
      // Records 100.. were never acquired: refused, and nothing changes.
      const bad = await fetch(1, [{ firstOffset: 99n, lastOffset: 100n, acknowledgeTypes: [1] }]);
      expect(bad.responses[0].partitions[0].acknowledgeErrorCode).toBe(E.INVALID_RECORD_STATE);
      expect(bad.responses[0].partitions[0].acquiredRecords).toEqual([]);
      const malformed = await fetch(2, [{ firstOffset: 5n, lastOffset: 4n, acknowledgeTypes: [1] }]);
      expect(malformed.responses[0].partitions[0].acknowledgeErrorCode).toBe(E.INVALID_REQUEST);
      // Accepting 0-49 brings the records in flight below the limit: the next fetch acquires the next batch, 100-199.
      const ok = await fetch(3, [{ firstOffset: 0n, lastOffset: 49n, acknowledgeTypes: [1] }]);
      expect(ok.responses[0].partitions[0].acknowledgeErrorCode).toBe(0);
      expect(ok.responses[0].partitions[0].acquiredRecords).toEqual([{ firstOffset: 100n, lastOffset: 199n, deliveryCount: 1 }]);
      // 150 in flight: nothing more until acknowledgements.
      expect((await fetch(4)).responses).toEqual([]);
      const ack = await c.call<any>(79, 1, { groupId: "g-bad", memberId: "m1", shareSessionEpoch: 5, topics: [{ topicId, partitions: [{ partitionIndex: 0, acknowledgementBatches: [{ firstOffset: 50n, lastOffset: 149n, acknowledgeTypes: [3] }] }] }] });
      expect(ack.errorCode).toBe(0);
      expect(ack.responses[0].partitions[0].errorCode).toBe(0);
      const d = await c.call<any>(90, 1, { groups: [{ groupId: "g-bad", topics: [{ topicName: "share-bad", partitions: [0] }] }] });
      expect(d.groups[0].topics[0].partitions[0]).toMatchObject({ startOffset: 150n, lag: 150n });
    } finally {
      c.close();
    }
  },
  CLIENT_TEST_TIMEOUT,
);

test.concurrent(
  "kill -9 mid-stream: nothing acknowledged is delivered again, nothing unacknowledged is lost",
  async () => {
    const broker = await spawnBroker();
    try {
      await groupConfig(broker.port, "g-crash", { "share.auto.offset.reset": "earliest", "share.record.lock.duration.ms": "1000" });
      await produce(broker.bootstrap, "share-crash", 0, 3000);
      const first = shareConsumer(broker.bootstrap, "g-crash", "share-crash", "commit");
      await waitFor(() => first.committed.length >= 500, 60_000, "some acknowledgements committed");
      await broker.kill9();
      await first.kill9();
      const committed = new Set(first.committed.map(([p, o]) => `${p}:${o}`));
      const restarted = await broker.restart();
      // The group is back (empty), with its share state.
      const listed = await wire(restarted.port, 16, 5, { statesFilter: [], typesFilter: ["share"] });
      expect(listed.groups.map((g: any) => [g.groupId, g.groupState])).toEqual([["g-crash", "Empty"]]);
      const second = shareConsumer(restarted.bootstrap, "g-crash", "share-crash", "implicit");
      const seen = () => new Set([...committed, ...second.deliveries.map(key)]).size;
      await waitFor(() => seen() >= 3000, 60_000, "every record acknowledged or delivered after the restart");
      await second.stop();
      expect(second.deliveries.filter((d) => committed.has(key(d)))).toEqual([]);
    } finally {
      await broker.cleanup();
    }
  },
  CLIENT_TEST_TIMEOUT,
);

test.concurrent(
  "share.isolation.level: read_committed delivers committed records only, read_uncommitted aborted ones too; never a marker",
  async () => {
    await groupConfig(b.port, "g-rc", { "share.auto.offset.reset": "earliest", "share.isolation.level": "read_committed" });
    await groupConfig(b.port, "g-ru", { "share.auto.offset.reset": "earliest" });
    // c0..c4 committed, a0..a4 aborted, c5..c9 committed, on partition 0 (confluent-kafka-python, librdkafka 2.0.2).
    await py("txn.py", b.bootstrap, ["commit_abort", "share-txn", "share-txn-id"]);
    const committed = Array.from({ length: 10 }, (_, i) => `v-c${i}`);
    const all = [...committed.slice(0, 5), ...Array.from({ length: 5 }, (_, i) => `v-a${i}`), ...committed.slice(5)];
    const rc = shareConsumer(b.bootstrap, "g-rc", "share-txn", "implicit", 10);
    const ru = shareConsumer(b.bootstrap, "g-ru", "share-txn", "implicit", 15);
    expect(await rc.exited).toBe(0);
    expect(await ru.exited).toBe(0);
    await Promise.all([rc.stop(), ru.stop()]);
    expect(rc.deliveries.map((d) => d.v)).toEqual(committed);
    expect(ru.deliveries.map((d) => d.v)).toEqual(all);
    // Markers and aborted records count as done: nothing is left for read_committed.
    const d = await wire(b.port, 90, 1, { groups: [{ groupId: "g-rc", topics: [{ topicName: "share-txn", partitions: [0] }] }] });
    expect(d.groups[0].topics[0].partitions[0]).toMatchObject({ startOffset: BigInt(hw("share-txn")), lag: 0n });
  },
  CLIENT_TEST_TIMEOUT,
);

test.concurrent(
  "share.auto.offset.reset by_duration and bad group configs",
  async () => {
    await produce(b.bootstrap, "share-dur", 0, 10);
    await groupConfig(b.port, "g-dur", { "share.auto.offset.reset": "by_duration:PT1H" });
    const c = shareConsumer(b.bootstrap, "g-dur", "share-dur", "implicit", 10);
    expect(await c.exited).toBe(0);
    await c.stop();
    expect(c.deliveries.map((d) => d.o)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    const r = await wire(b.port, 44, 1, {
      resources: [
        { resourceType: GROUP_RESOURCE, resourceName: "g-dur", configs: [{ name: "share.record.lock.duration.ms", configOperation: 0, value: "10" }] },
        { resourceType: GROUP_RESOURCE, resourceName: "g-dur", configs: [{ name: "share.auto.offset.reset", configOperation: 0, value: "by_duration:1h" }] },
        { resourceType: GROUP_RESOURCE, resourceName: "g-dur", configs: [{ name: "no.such.config", configOperation: 0, value: "1" }] },
      ],
      validateOnly: false,
    });
    expect(r.responses.map((x: any) => x.errorCode)).toEqual([40, 40, 40]);
    const described = await wire(b.port, 32, 4, { resources: [{ resourceType: GROUP_RESOURCE, resourceName: "g-dur", configurationKeys: ["share.auto.offset.reset", "share.record.lock.duration.ms"] }], includeSynonyms: false, includeDocumentation: false });
    expect(described.results[0].configs.map((x: any) => [x.name, x.value, x.configSource])).toEqual([
      ["share.record.lock.duration.ms", "30000", 5],
      ["share.auto.offset.reset", "by_duration:PT1H", 8],
    ]);
    const listed = await wire(b.port, 74, 1, { resourceTypes: [GROUP_RESOURCE] });
    expect(listed.configResources).toContainEqual(expect.objectContaining({ resourceName: "g-dur", resourceType: GROUP_RESOURCE }));
  },
  CLIENT_TEST_TIMEOUT,
);

test.concurrent(
  "ShareGroupHeartbeat: bad input, fencing, leave; the group's type is kept apart from consumer groups",
  async () => {
    const c = await connectWire(b.port);
    try {
      const hb = (o: object) => c.call<any>(76, 1, { groupId: "g-hb", memberId: "m1", memberEpoch: 0, rackId: null, subscribedTopicNames: ["share-hb"], ...o });
      expect((await hb({ groupId: "" })).errorCode).toBe(E.INVALID_REQUEST);
      expect((await hb({ memberId: "" })).errorCode).toBe(E.INVALID_REQUEST);
      expect((await hb({ subscribedTopicNames: null })).errorCode).toBe(E.INVALID_REQUEST);
      expect((await hb({ memberEpoch: 5 })).errorCode).toBe(E.GROUP_ID_NOT_FOUND);
      const joined = await hb({});
      expect(joined).toMatchObject({ errorCode: 0, memberId: "m1", memberEpoch: 1 });
      expect((await hb({ memberId: "m2", memberEpoch: 5 })).errorCode).toBe(25); // UNKNOWN_MEMBER_ID
      expect((await hb({ memberEpoch: 7, subscribedTopicNames: null })).errorCode).toBe(110); // FENCED_MEMBER_EPOCH
      expect(await hb({ memberEpoch: 1, subscribedTopicNames: null })).toMatchObject({ errorCode: 0, memberEpoch: 1, assignment: null });
      // Another member joins: m1 is not fenced for its older epoch, it moves to the new one.
      expect(await hb({ memberId: "m3" })).toMatchObject({ errorCode: 0, memberEpoch: 2 });
      expect(await hb({ memberEpoch: 1, subscribedTopicNames: null })).toMatchObject({ errorCode: 0, memberEpoch: 2 });
      expect(await hb({ memberEpoch: -1, subscribedTopicNames: null })).toMatchObject({ errorCode: 0, memberEpoch: -1 });
      // A consumer-protocol member cannot join a share group, nor a share member a consumer group.
      const cg = await c.call<any>(68, 1, { groupId: "g-hb", memberId: "x", memberEpoch: 0, instanceId: null, rackId: null, rebalanceTimeoutMs: 30000, subscribedTopicNames: ["share-hb"], subscribedTopicRegex: null, serverAssignor: null, topicPartitions: [] });
      expect(cg.errorCode).toBe(E.GROUP_ID_NOT_FOUND);
      await c.call<any>(68, 1, { groupId: "g-hb-consumer", memberId: "x", memberEpoch: 0, instanceId: null, rackId: null, rebalanceTimeoutMs: 30000, subscribedTopicNames: ["share-hb"], subscribedTopicRegex: null, serverAssignor: null, topicPartitions: [] });
      expect((await hb({ groupId: "g-hb-consumer" })).errorCode).toBe(E.GROUP_ID_NOT_FOUND);
    } finally {
      c.close();
    }
  },
  CLIENT_TEST_TIMEOUT,
);

test.concurrent(
  "delivery count limit archives; RENEW (v2) keeps a lock and needs IsRenewAck",
  async () => {
    await groupConfig(b.port, "g-limit", { "share.auto.offset.reset": "earliest", "share.delivery.count.limit": "2" });
    await produce(b.bootstrap, "share-limit", 0, 10);
    const topicId = b.broker.topics.get("share-limit")!.id;
    const c = await connectWire(b.port);
    try {
      expect((await c.call<any>(76, 1, { groupId: "g-limit", memberId: "m1", memberEpoch: 0, rackId: null, subscribedTopicNames: ["share-limit"] })).errorCode).toBe(0);
      let epoch = 0;
      const fetch = (acks: any[] = [], v = 1, renew = false) =>
        c.call<any>(78, v, { ...shareFetchBody("g-limit", epoch++, [{ topicId, partitions: [{ partitionIndex: 0, acknowledgementBatches: acks }] }]), isRenewAck: renew });
      const release = [{ firstOffset: 0n, lastOffset: 9n, acknowledgeTypes: [2] }];
      // v2 record-limit mode: exactly MaxRecords, the batch cut; then the rest.
      const limited = await c.call<any>(78, 2, { ...shareFetchBody("g-limit", epoch++, [{ topicId, partitions: [{ partitionIndex: 0, acknowledgementBatches: [] }] }]), maxRecords: 3, shareAcquireMode: 1 });
      expect(limited.responses[0].partitions[0].acquiredRecords).toEqual([{ firstOffset: 0n, lastOffset: 2n, deliveryCount: 1 }]);
      expect((await fetch()).responses[0].partitions[0].acquiredRecords).toEqual([{ firstOffset: 3n, lastOffset: 9n, deliveryCount: 1 }]);
      const bogus = await c.call<any>(78, 2, { ...shareFetchBody("g-limit", epoch, []), shareAcquireMode: 7 });
      expect(bogus.errorCode).toBe(E.INVALID_REQUEST);
      expect((await fetch(release)).responses[0].partitions[0].acquiredRecords).toEqual([{ firstOffset: 0n, lastOffset: 9n, deliveryCount: 2 }]);
      // Renew without IsRenewAck is malformed; with it, the lock is kept and nothing is fetched.
      const noFlag = await fetch([{ firstOffset: 0n, lastOffset: 9n, acknowledgeTypes: [4] }], 2, false);
      expect(noFlag.responses[0].partitions[0].acknowledgeErrorCode).toBe(E.INVALID_REQUEST);
      const renewed = await fetch([{ firstOffset: 0n, lastOffset: 9n, acknowledgeTypes: [4] }], 2, true);
      expect(renewed.responses[0].partitions[0]).toMatchObject({ acknowledgeErrorCode: 0, acquiredRecords: [] });
      // The second release reaches the limit: archived, never delivered again.
      const last = await fetch(release);
      expect(last.responses[0].partitions[0]).toMatchObject({ acknowledgeErrorCode: 0, acquiredRecords: [] });
      const ack2 = await c.call<any>(79, 2, { groupId: "g-limit", memberId: "m1", shareSessionEpoch: -1, isRenewAck: false, topics: [] });
      expect(ack2).toMatchObject({ errorCode: 0, acquisitionLockTimeoutMs: 30000 });
      const d = await c.call<any>(90, 1, { groups: [{ groupId: "g-limit", topics: [{ topicName: "share-limit", partitions: [0] }] }] });
      expect(d.groups[0].topics[0].partitions[0]).toMatchObject({ startOffset: 10n, lag: 0n });
    } finally {
      c.close();
    }
  },
  CLIENT_TEST_TIMEOUT,
);

test.concurrent(
  "a consumer killed with kill -9: its connection's share session ends and its records go to another at once",
  async () => {
    // An hour's lock: only the end of the dead consumer's session can free its records within the test.
    await groupConfig(b.port, "g-killed", { "share.auto.offset.reset": "earliest", "share.record.lock.duration.ms": "3600000" });
    await produce(b.bootstrap, "share-killed", 0, 30);
    const victim = shareConsumer(b.bootstrap, "g-killed", "share-killed", "stall");
    await waitFor(() => victim.deliveries.length > 0, 60_000, "the victim's first batch");
    await victim.kill9();
    // Released by the connection's end, while the dead member is still in the group (its session timeout has not passed).
    const sp = [...b.broker.share.partitions.values()].find((e) => e.group === "g-killed")!.sp;
    await waitFor(() => sp.acquiredCount === 0, 60_000, "the victim's records released");
    expect((await wire(b.port, 77, 1, { groupIds: ["g-killed"], includeAuthorizedOperations: false })).groups[0].members.length).toBe(1);
    const other = shareConsumer(b.bootstrap, "g-killed", "share-killed", "implicit");
    await waitFor(() => new Set(other.deliveries.map((d) => d.o)).size >= 30, 60_000, "everything at the second consumer");
    await other.stop();
    for (const d of victim.deliveries) expect(other.deliveries.find((x) => x.o === d.o)!.dc).toBe(2);
  },
  CLIENT_TEST_TIMEOUT,
);

test.concurrent(
  "share sessions are incremental: added partitions, forgotten ones released; a deleted topic takes its share state",
  async () => {
    await createTopic(b.port, "share-sess", 2);
    await groupConfig(b.port, "g-sess", { "share.auto.offset.reset": "earliest" });
    await kcat(["-b", b.bootstrap, "-P", "-t", "share-sess", "-p", "0"], { stdin: "a\nb\nc\n" });
    await kcat(["-b", b.bootstrap, "-P", "-t", "share-sess", "-p", "1"], { stdin: "d\ne\n" });
    const topicId = b.broker.topics.get("share-sess")!.id;
    const c = await connectWire(b.port);
    try {
      expect((await c.call<any>(76, 1, { groupId: "g-sess", memberId: "m1", memberEpoch: 0, rackId: null, subscribedTopicNames: ["share-sess"] })).errorCode).toBe(0);
      const fetch = (epoch: number, partitions: number[], forgotten: number[] = []) =>
        c.call<any>(78, 1, {
          ...shareFetchBody("g-sess", epoch, partitions.length ? [{ topicId, partitions: partitions.map((p) => ({ partitionIndex: p, acknowledgementBatches: [] })) }] : []),
          forgottenTopicsData: forgotten.length ? [{ topicId, partitions: forgotten }] : [],
        });
      const acquired = (r: any) => r.responses.flatMap((t: any) => t.partitions.map((p: any) => [p.partitionIndex, p.acquiredRecords.map((a: any) => [Number(a.firstOffset), Number(a.lastOffset)])]));
      expect(acquired(await fetch(0, [0]))).toEqual([[0, [[0, 2]]]]);
      // Partition 1 joins the session; partition 0 stays in it without being named again.
      expect(acquired(await fetch(1, [1]))).toEqual([[1, [[0, 1]]]]);
      // Forgetting partition 0 releases what the member held there.
      const sp0 = [...b.broker.share.partitions.values()].find((e) => e.group === "g-sess" && e.partition === 0)!.sp;
      expect(sp0.acquiredCount).toBe(3);
      await fetch(2, [], [0]);
      expect(sp0.acquiredCount).toBe(0);
      // The session's next fetch no longer reads partition 0.
      await kcat(["-b", b.bootstrap, "-P", "-t", "share-sess", "-p", "0"], { stdin: "f\n" });
      expect(acquired(await fetch(3, []))).toEqual([]);
      const del = await c.call<any>(20, 6, { topics: [{ name: "share-sess", topicId: "00000000000000000000000000000000" }], topicNames: [], timeoutMs: 10000 });
      expect(del.responses[0].errorCode).toBe(0);
      expect([...b.broker.share.partitions.values()].filter((e) => e.group === "g-sess")).toEqual([]);
      const d = await c.call<any>(90, 1, { groups: [{ groupId: "g-sess", topics: null }] });
      expect(d.groups[0]).toMatchObject({ errorCode: 0, topics: [] });
    } finally {
      c.close();
    }
  },
  CLIENT_TEST_TIMEOUT,
);
