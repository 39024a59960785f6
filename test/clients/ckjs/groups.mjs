// Current librdkafka (@confluentinc/kafka-javascript) with the classic group
// protocol, through its KafkaJS-style API: run under node.
// usage: node groups.mjs BOOTSTRAP classic TOPIC GROUP N — two members share a
// 4-partition topic, commit, leave; a third resumes; then the admin API lists,
// describes, fetches offsets and deletes the group. Prints one JSON summary.
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const { Kafka } = require("@confluentinc/kafka-javascript").KafkaJS;

const [bootstrap, cmd, ...args] = process.argv.slice(2);
const kafka = new Kafka({ kafkaJS: { brokers: [bootstrap], logLevel: 0 }, "broker.address.family": "v4" });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond, what, ms = 40_000) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function member(name, topic, groupId, seen) {
  const c = kafka.consumer({
    kafkaJS: { groupId, fromBeginning: true, autoCommit: false },
    "group.protocol": "classic",
    "session.timeout.ms": 10_000,
    "heartbeat.interval.ms": 300,
    "partition.assignment.strategy": "range",
  });
  await c.connect();
  await c.subscribe({ topics: [topic] });
  const next = new Map();
  await c.run({
    eachMessage: async ({ partition, message }) => {
      seen.push({ member: name, partition, offset: Number(message.offset) });
      next.set(partition, Number(message.offset) + 1);
    },
  });
  const commit = () => c.commitOffsets([...next].map(([partition, offset]) => ({ topic, partition, offset: String(offset) })));
  return { c, commit, assigned: () => c.assignment().filter((tp) => tp.topic === topic).length };
}

async function produce(topic, from, n) {
  const p = kafka.producer({ "linger.ms": 2 });
  await p.connect();
  await p.send({ topic, messages: Array.from({ length: n }, (_, i) => ({ key: `k${from + i}`, value: `v${from + i}`, partition: (from + i) % 4 })) });
  await p.disconnect();
}

async function classic(topic, groupId, n) {
  n = Number(n);
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });

  const seen = [];
  const a = await member("a", topic, groupId, seen);
  await waitFor(() => a.assigned() === 4, "the first member's assignment");
  const b = await member("b", topic, groupId, seen);
  await waitFor(() => a.assigned() === 2 && b.assigned() === 2, "two members with two partitions each");
  await produce(topic, 0, n);
  await waitFor(() => new Set(seen.map((s) => `${s.partition}:${s.offset}`)).size === n, "every record");
  await a.commit();
  await b.commit();
  const described = await admin.describeGroups([groupId]);
  const listed = await admin.listGroups();
  await a.c.disconnect();
  await b.c.disconnect();
  const committed = await admin.fetchOffsets({ groupId, topics: [topic] });

  const later = [];
  const c = await member("c", topic, groupId, later);
  await waitFor(() => c.assigned() === 4, "the resuming member's assignment");
  await sleep(1500);
  const oldAgain = later.length;
  await produce(topic, n, 8);
  await waitFor(() => later.length >= oldAgain + 8, "the new records");
  await c.commit();
  await c.c.disconnect();

  // One unknown group makes the call reject, with every group's outcome attached.
  const deleted = await admin.deleteGroups([groupId, "no-such-group"]).catch((e) => e.groups);
  const afterDelete = (await admin.listGroups()).groups.map((g) => g.groupId);
  await admin.disconnect();

  const keys = seen.map((s) => `${s.partition}:${s.offset}`);
  const g = described.groups[0];
  return {
    consumed: keys.length,
    distinct: new Set(keys).size,
    byMember: { a: seen.filter((s) => s.member === "a").length, b: seen.filter((s) => s.member === "b").length },
    described: { groupId: g.groupId, state: g.state, protocolType: g.protocolType, protocol: g.protocol, members: g.members.map((m) => ({ clientHost: m.clientHost, partitions: m.assignment.topicPartitions.map((tp) => tp.partition).sort() })), type: g.type, simple: g.isSimpleConsumerGroup },
    listed: listed.groups.filter((x) => x.groupId === groupId).map((x) => ({ groupId: x.groupId, protocolType: x.protocolType, state: x.state, type: x.type })),
    committed: committed[0].partitions.map((p) => Number(p.offset)).reduce((x, y) => x + y, 0),
    resumedOld: oldAgain,
    resumedNew: later.length - oldAgain,
    deleted: deleted.map((d) => ({ groupId: d.groupId, errorCode: d.errorCode ?? 0 })),
    afterDelete,
  };
}

const fns = { classic };
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
