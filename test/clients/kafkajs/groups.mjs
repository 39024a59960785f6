// KafkaJS 2.2.4 consumer groups against klite: run under node.
// usage: node groups.mjs BOOTSTRAP run TOPIC GROUP N — two members share a
// 4-partition topic with eachMessage, commit, leave; a third member resumes;
// the admin API lists, describes, resets and deletes. Prints one JSON summary.
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const { Kafka, logLevel } = require("kafkajs");

const [bootstrap, cmd, ...args] = process.argv.slice(2);
const kafka = new Kafka({ clientId: "klite-kjs", brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 10 } });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond, what, ms = 40_000) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function member(name, topic, groupId, seen) {
  // Short fetch waits: KafkaJS heartbeats (and so learns of rebalances) only between fetches.
  const c = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 500, rebalanceTimeout: 20_000, maxWaitTimeInMs: 300 });
  await c.connect();
  await c.subscribe({ topic, fromBeginning: true });
  const assigned = new Set();
  c.on(c.events.GROUP_JOIN, (e) => {
    assigned.clear();
    for (const p of e.payload.memberAssignment[topic] ?? []) assigned.add(p);
  });
  await c.run({
    eachMessage: async ({ partition, message }) => {
      seen.push({ member: name, partition, offset: Number(message.offset), value: message.value.toString() });
    },
  });
  return { c, assigned };
}

async function produce(topic, from, n) {
  const p = kafka.producer();
  await p.connect();
  await p.send({ topic, acks: -1, messages: Array.from({ length: n }, (_, i) => ({ key: `k${from + i}`, value: `v${from + i}`, partition: (from + i) % 4 })) });
  await p.disconnect();
}

async function run(topic, groupId, n) {
  n = Number(n);
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true });

  const seen = [];
  const a = await member("a", topic, groupId, seen);
  const b = await member("b", topic, groupId, seen);
  await waitFor(() => a.assigned.size === 2 && b.assigned.size === 2, "two members with two partitions each");
  await produce(topic, 0, n);
  await waitFor(() => new Set(seen.map((s) => s.value)).size === n, "every record");
  const described = await admin.describeGroups([groupId]);
  const listed = await admin.listGroups();
  // Disconnecting commits what was consumed and leaves the group.
  await a.c.disconnect();
  await b.c.disconnect();
  const committed = await admin.fetchOffsets({ groupId, topics: [topic] });

  // A new member resumes from the commits: nothing old, exactly the new records.
  const later = [];
  const c = await member("c", topic, groupId, later);
  await waitFor(() => c.assigned.size === 4, "the resuming member's assignment");
  await sleep(1500);
  const oldAgain = later.length;
  await produce(topic, n, 8);
  await waitFor(() => later.length >= oldAgain + 8, "the new records");
  await c.c.disconnect();

  // Admin reset while the group is empty (OffsetCommit with generation -1), then delete the group.
  await admin.setOffsets({ groupId, topic, partitions: [0, 1, 2, 3].map((p) => ({ partition: p, offset: "1" })) });
  const reset = await admin.fetchOffsets({ groupId, topics: [topic] });
  await admin.deleteGroups([groupId]);
  const afterDelete = (await admin.listGroups()).groups.map((g) => g.groupId);
  await admin.disconnect();

  const values = seen.map((s) => s.value);
  return {
    consumed: values.length,
    distinct: new Set(values).size,
    byMember: { a: seen.filter((s) => s.member === "a").length, b: seen.filter((s) => s.member === "b").length },
    described: described.groups.map((g) => ({ groupId: g.groupId, state: g.state, protocolType: g.protocolType, protocol: g.protocol, members: g.members.length })),
    listed: listed.groups.map((g) => ({ groupId: g.groupId, protocolType: g.protocolType })),
    committed: committed[0].partitions.map((p) => Number(p.offset)).reduce((x, y) => x + y, 0),
    resumedOld: oldAgain,
    resumedNew: later.length - oldAgain,
    reset: reset[0].partitions.map((p) => Number(p.offset)),
    afterDelete,
  };
}

const fns = { run };
fns[cmd](...args).then(
  (r) => {
    console.log(JSON.stringify(r));
    process.exit(0);
  },
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
