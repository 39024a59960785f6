// Current librdkafka (@confluentinc/kafka-javascript) with the KIP-848
// consumer group protocol (group.protocol=consumer), through its KafkaJS-style
// API: run under node. Prints one JSON summary; the test asserts on it.
// usage:
//   node groups-consumer.mjs BOOTSTRAP takeover TOPIC GROUP ASSIGNOR
//     two members share a 6-partition topic; both commit; one leaves and the
//     other takes over everything; it commits and leaves; a third member
//     resumes from the committed offsets. Admin describe/list while two are in.
//   node groups-consumer.mjs BOOTSTRAP static TOPIC GROUP
//     two static members (group.instance.id) split a 4-partition topic; one
//     closes (a temporary leave) and a new consumer with its instance id gets
//     the same partitions back while the other member's never change.
//   node groups-consumer.mjs BOOTSTRAP mixed LITERAL PREFIX GROUP
//     subscribes to LITERAL and ^PREFIX.* at once; reports every assignment
//     the rebalance callback saw (topics per event), in order, until both
//     LITERAL and PREFIX-a are assigned.
//   node groups-consumer.mjs BOOTSTRAP regex PREFIX GROUP
//     subscribes to ^PREFIX.*; a matching topic created later is picked up,
//     a non-matching one never is; then the empty group is described and deleted.
// Commits and disconnects happen outside the message callback (DESIGN.md).
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const { Kafka } = require("@confluentinc/kafka-javascript").KafkaJS;

const [bootstrap, cmd, ...args] = process.argv.slice(2);
const kafka = new Kafka({ kafkaJS: { brokers: [bootstrap], logLevel: 0 }, "broker.address.family": "v4" });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond, what, ms = 60_000) {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function member(name, subscription, groupId, seen, assignor, instanceId) {
  const c = kafka.consumer({
    kafkaJS: { groupId, fromBeginning: true, autoCommit: false },
    "group.protocol": "consumer",
    ...(assignor ? { "group.remote.assignor": assignor } : {}),
    ...(instanceId ? { "group.instance.id": instanceId } : {}),
  });
  await c.connect();
  await c.subscribe({ topics: [subscription] });
  // topic → partition → next offset to commit
  const next = new Map();
  await c.run({
    eachMessage: async ({ topic, partition, message }) => {
      seen.push({ member: name, topic, partition, offset: Number(message.offset), value: message.value.toString() });
      if (!next.has(topic)) next.set(topic, new Map());
      next.get(topic).set(partition, Number(message.offset) + 1);
    },
  });
  const commit = async () => {
    const offsets = [];
    for (const [topic, parts] of next) for (const [partition, offset] of parts) offsets.push({ topic, partition, offset: String(offset) });
    if (offsets.length) await c.commitOffsets(offsets);
  };
  const partitions = (topic) =>
    c
      .assignment()
      .filter((tp) => tp.topic === topic)
      .map((tp) => tp.partition)
      .sort((a, b) => a - b);
  const topics = () => [...new Set(c.assignment().map((tp) => tp.topic))].sort();
  return { c, commit, partitions, topics };
}

async function produce(topic, from, n, partitions) {
  const p = kafka.producer({ "linger.ms": 2 });
  await p.connect();
  await p.send({ topic, messages: Array.from({ length: n }, (_, i) => ({ key: `k${from + i}`, value: `v${from + i}`, partition: (from + i) % partitions })) });
  await p.disconnect();
}

const values = (list) => list.map((s) => s.value);

async function takeover(topic, groupId, assignor) {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 6 }] });

  const seen = [];
  const a = await member("a", topic, groupId, seen, assignor);
  await waitFor(() => a.partitions(topic).length === 6, "the first member to get all six partitions");
  const b = await member("b", topic, groupId, seen, assignor);
  await waitFor(() => a.partitions(topic).length === 3 && b.partitions(topic).length === 3, "a 3/3 split");
  const split = { a: a.partitions(topic), b: b.partitions(topic) };

  const described = await admin.describeGroups([groupId]);
  const listed = await admin.listGroups();

  await produce(topic, 0, 60, 6);
  await waitFor(() => seen.length >= 60, "the first 60 records");
  await a.commit();
  await b.commit();
  await b.c.disconnect();
  await waitFor(() => a.partitions(topic).length === 6, "the remaining member to take over all partitions");
  const afterLeave = a.partitions(topic);

  await produce(topic, 60, 60, 6);
  await waitFor(() => seen.length >= 120, "the next 60 records");
  await a.commit();
  await a.c.disconnect();
  const seenAB = seen.splice(0);

  await produce(topic, 120, 30, 6);
  const c = await member("c", topic, groupId, seen, assignor);
  await waitFor(() => seen.length >= 30, "the third member's records");
  const resumed = c.partitions(topic);
  await c.commit();
  await c.c.disconnect();

  const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
  await admin.disconnect();
  return {
    split,
    afterLeave,
    resumed,
    seenAB: values(seenAB),
    seenC: values(seen),
    described: described.groups.map((g) => ({ groupId: g.groupId, type: g.type, state: g.state, protocolType: g.protocolType, members: g.members.length, errorCode: g.error?.code ?? 0 })),
    listed: listed.groups.filter((g) => g.groupId === groupId),
    committed: offsets[0].partitions.map((p) => ({ partition: p.partition, offset: Number(p.offset) })).sort((x, y) => x.partition - y.partition),
  };
}

async function regex(prefix, groupId) {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: `${prefix}-a`, numPartitions: 2 }, { topic: `x${prefix}`, numPartitions: 1 }] });
  const seen = [];
  const m = await member("r", new RegExp(`^${prefix}.*`), groupId, seen);
  await waitFor(() => m.topics().length === 1, "the first matching topic to be assigned");
  const before = m.topics();
  await produce(`${prefix}-a`, 0, 4, 2);
  await produce(`x${prefix}`, 100, 3, 1);
  await waitFor(() => seen.length >= 4, "records of the first topic");
  await admin.createTopics({ topics: [{ topic: `${prefix}-b`, numPartitions: 3 }] });
  await waitFor(() => m.topics().length === 2, "the topic created later to be assigned");
  const after = m.topics();
  await produce(`${prefix}-b`, 10, 6, 3);
  await waitFor(() => seen.length >= 10, "records of the topic created later");
  await m.c.disconnect();
  // Admin operations on the now empty consumer group.
  const emptyState = (await admin.describeGroups([groupId])).groups[0].state;
  const deleted = await admin.deleteGroups([groupId]);
  const listedAfterDelete = (await admin.listGroups()).groups.filter((g) => g.groupId === groupId).length;
  await admin.disconnect();
  const byTopic = {};
  for (const s of seen) (byTopic[s.topic] ??= []).push(s.value);
  for (const k of Object.keys(byTopic)) byTopic[k].sort();
  return { before, after, byTopic, emptyState, deleted: deleted.map((d) => ({ groupId: d.groupId, errorCode: d.errorCode ?? d.error?.code ?? 0 })), listedAfterDelete };
}

async function staticMembers(topic, groupId) {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
  const seen = [];
  const a = await member("a", topic, groupId, seen, undefined, "inst-a");
  const b = await member("b", topic, groupId, seen, undefined, "inst-b");
  await waitFor(() => a.partitions(topic).length === 2 && b.partitions(topic).length === 2, "a 2/2 split");
  const first = { a: a.partitions(topic), b: b.partitions(topic) };
  // Every assignment b is seen with from here on.
  const bSeen = new Set([JSON.stringify(b.partitions(topic))]);
  const watch = setInterval(() => bSeen.add(JSON.stringify(b.partitions(topic))), 20);
  await a.c.disconnect();
  const whileAway = (await admin.describeGroups([groupId])).groups[0].members.map((m) => m.groupInstanceId).sort();
  const a2 = await member("a2", topic, groupId, seen, undefined, "inst-a");
  await waitFor(() => a2.partitions(topic).length === 2, "the returning instance's partitions");
  const back = a2.partitions(topic);
  clearInterval(watch);
  bSeen.add(JSON.stringify(b.partitions(topic)));
  await a2.c.disconnect();
  await b.c.disconnect();
  await admin.disconnect();
  return { first, whileAway, back, bAssignments: [...bSeen] };
}

async function mixed(literal, prefix, groupId) {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: literal, numPartitions: 2 }, { topic: `${prefix}-a`, numPartitions: 2 }] });
  await admin.disconnect();
  const events = [];
  const c = kafka.consumer({
    kafkaJS: { groupId, fromBeginning: true, autoCommit: false },
    "group.protocol": "consumer",
    rebalance_cb: (err, assignment) => {
      events.push({ assigned: err.code === -175, topics: [...new Set(assignment.map((tp) => tp.topic))].sort() });
    },
  });
  await c.connect();
  await c.subscribe({ topics: [literal, new RegExp(`^${prefix}.*`)] });
  await c.run({ eachMessage: async () => {} });
  const topics = () => [...new Set(c.assignment().map((tp) => tp.topic))].sort();
  await waitFor(() => topics().length === 2, "both topics to be assigned");
  await c.disconnect();
  return { events: events.filter((e) => e.assigned), final: [literal, `${prefix}-a`] };
}

const commands = { takeover, regex, static: staticMembers, mixed };
try {
  const out = await commands[cmd](...args);
  process.stdout.write(JSON.stringify(out) + "\n");
  process.exit(0);
} catch (e) {
  process.stderr.write(`${e?.stack ?? e}\n`);
  process.exit(1);
}
