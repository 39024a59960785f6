// MirrorMaker 2's calls against a source and a target cluster, replayed with
// KafkaJS 2.2.4 (its admin API, and its broker-level requests where MM2 goes
// below what the admin API offers: the Connect worker's group membership with
// protocol type "connect", and AlterConsumerGroupOffsets, which the Java
// admin sends as an OffsetCommit with generation -1 and an empty member id).
// The order follows MM2's sources (Connect's distributed herder and
// KafkaTopicBasedBackingStore, MirrorSourceConnector.start(),
// MirrorHeartbeatConnector, MirrorCheckpointConnector/Task).
// IncrementalAlterConfigs (MirrorSourceConnector.syncTopicConfigs) is not in
// KafkaJS: the test sends it itself. Run under node from test/clients.
//
// usage: node mm2.mjs SOURCE TARGET TOPIC GROUP — prints one JSON document.
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const { Kafka, logLevel, ConfigResourceTypes, AclResourceTypes, ResourcePatternTypes, AclOperationTypes, AclPermissionTypes } = require("kafkajs");

const [source, target, topic, group] = process.argv.slice(2);
const mk = (b) => new Kafka({ clientId: "mm2-replay", brokers: [b], logLevel: process.env.KLITE_KAFKAJS_LOG ? logLevel.DEBUG : logLevel.NOTHING, retry: { retries: 3 } });
const src = mk(source);
const dst = mk(target);
const sa = src.admin();
const ta = dst.admin();
await sa.connect();
await ta.connect();

async function outcome(p) {
  try {
    return { ok: await p };
  } catch (e) {
    const inner = e.errors?.[0] ?? e.originalError ?? e;
    return { error: inner.type ?? e.type ?? e.name, message: inner.message };
  }
}

const compacted = (name, numPartitions) => ({ topic: name, numPartitions, replicationFactor: 1, configEntries: [{ name: "cleanup.policy", value: "compact" }] });
async function cleanupPolicy(admin, name) {
  const r = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name, configNames: ["cleanup.policy"] }] });
  return r.resources[0].configEntries.find((c) => c.configName === "cleanup.policy")?.configValue ?? null;
}
async function coordinatorOf(kafka, groupId) {
  const create = Object.getOwnPropertySymbols(kafka).find((s) => s.description === "private:Kafka:createCluster");
  const cluster = kafka[create]({});
  await cluster.connect();
  return { cluster, coordinator: await cluster.findGroupCoordinator({ groupId }) };
}

const out = {};

// 1. The Connect worker's internal topics (on the target in MM2's dedicated mode), each checked to be compacted.
out.workerTopics = {};
for (const [name, n] of [["mm2-configs.source.internal", 1], ["mm2-offsets.source.internal", 25], ["mm2-status.source.internal", 5]]) {
  const created = await outcome(ta.createTopics({ waitForLeaders: true, topics: [compacted(name, n)] }));
  out.workerTopics[name] = { created: created.ok ?? created.error, cleanupPolicy: await cleanupPolicy(ta, name) };
}

// 2. The worker joins its group: protocol type "connect", Connect's three protocols (sessioned first).
const workerGroup = "mm2-source->target";
const { cluster: tcluster, coordinator } = await coordinatorOf(dst, workerGroup);
const workerMetadata = (version) => {
  const url = Buffer.from("http://worker-1:8083/");
  const b = Buffer.alloc(2 + 2 + url.length + 8 + 4);
  b.writeInt16BE(version, 0);
  b.writeInt16BE(url.length, 2);
  url.copy(b, 4);
  b.writeBigInt64BE(-1n, 4 + url.length);
  b.writeInt32BE(-1, 12 + url.length); // no allocation yet
  return version === 0 ? b.subarray(0, 12 + url.length) : b;
};
const join = await coordinator.joinGroup({
  groupId: workerGroup,
  sessionTimeout: 10_000,
  rebalanceTimeout: 60_000,
  memberId: "",
  protocolType: "connect",
  groupProtocols: [{ name: "sessioned", metadata: workerMetadata(2) }, { name: "compatible", metadata: workerMetadata(1) }, { name: "default", metadata: workerMetadata(0) }],
});
const assignment = Buffer.from([0, 2, 0, 0, 0, 4, 0x6c, 0x65, 0x61, 0x64]);
const sync = await coordinator.syncGroup({ groupId: workerGroup, generationId: join.generationId, memberId: join.memberId, groupAssignment: [{ memberId: join.memberId, memberAssignment: assignment }] });
const hb = await outcome(coordinator.heartbeat({ groupId: workerGroup, groupGenerationId: join.generationId, memberId: join.memberId }));
const described = await coordinator.describeGroups({ groupIds: [workerGroup] });
out.worker = {
  protocol: join.groupProtocol,
  leader: join.leaderId === join.memberId,
  members: join.members.length,
  memberMetadataKept: join.members[0] ? Buffer.compare(join.members[0].memberMetadata, workerMetadata(2)) === 0 : false,
  assignmentKept: Buffer.compare(sync.memberAssignment, assignment) === 0,
  heartbeat: hb.ok ? "ok" : hb.error,
  state: described.groups[0].state,
  protocolType: described.groups[0].protocolType,
};

// 3. MirrorSourceConnector.start(): offset-syncs topic on the source, topics listed on both sides,
//    source configs read, topics created on the target with them, ACLs read from the source.
const offsetSyncs = "mm2-offset-syncs.target.internal";
out.offsetSyncs = (await outcome(sa.createTopics({ waitForLeaders: true, topics: [compacted(offsetSyncs, 1)] }))).ok ?? "error";
out.sourceTopics = (await sa.listTopics()).filter((t) => t === topic);
const md = await sa.fetchTopicMetadata({ topics: [topic] });
const partitions = md.topics[0].partitions.length;
const sourceConfigs = (await sa.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }] })).resources[0].configEntries;
// Java's ConfigEntry.isDefault(): source DEFAULT_CONFIG (5).
const copied = sourceConfigs.filter((c) => c.configSource !== 5 && !["min.insync.replicas", "message.timestamp.type"].includes(c.configName) && !c.configName.startsWith("klite."));
out.created = (await outcome(ta.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions, replicationFactor: 1, configEntries: copied.map((c) => ({ name: c.configName, value: c.configValue })) }] }))).ok ?? "error";
out.acls = await outcome(
  sa.describeAcls({
    resourceType: AclResourceTypes.TOPIC,
    // Java's ANY filter sends nulls; KafkaJS sends null for what is left undefined.
    resourceName: undefined,
    resourcePatternType: ResourcePatternTypes.ANY,
    principal: undefined,
    host: undefined,
    operation: AclOperationTypes.ANY,
    permissionType: AclPermissionTypes.ANY,
  }),
);

// 4. MirrorHeartbeatConnector: the heartbeats topic on the target, and a heartbeat.
out.heartbeats = (await outcome(ta.createTopics({ waitForLeaders: true, topics: [compacted("heartbeats", 1)] }))).ok ?? "error";
const tp = dst.producer();
await tp.connect();
await tp.send({ topic: "heartbeats", acks: -1, messages: [{ key: Buffer.from("source->target"), value: Buffer.from([0, 0, 0, 0, 0, 0, 1, 2]) }] });

// 5. MirrorCheckpointConnector/Task: source groups, the checkpoints topic, the group's offsets on both
//    sides, the target group's state, then AlterConsumerGroupOffsets on the empty target group.
out.sourceGroups = (await sa.listGroups()).groups.filter((g) => g.groupId === group).map((g) => g.protocolType);
out.checkpoints = (await outcome(ta.createTopics({ waitForLeaders: true, topics: [compacted("source.checkpoints.internal", 1)] }))).ok ?? "error";
const upstream = await sa.fetchOffsets({ groupId: group, topics: [topic] });
const { cluster: gcluster, coordinator: gcoord } = await coordinatorOf(dst, group);
const before = await gcoord.describeGroups({ groupIds: [group] });
out.targetGroupState = before.groups[0].state;
const commit = await gcoord.offsetCommit({
  groupId: group,
  groupGenerationId: -1,
  memberId: "",
  retentionTime: -1,
  topics: [{ topic, partitions: upstream[0].partitions.filter((p) => Number(p.offset) >= 0).map((p) => ({ partition: p.partition, offset: p.offset, metadata: "" })) }],
});
out.commitErrors = commit.responses.flatMap((r) => r.partitions.map((p) => p.errorCode));
out.upstream = upstream[0].partitions.map((p) => [p.partition, Number(p.offset)]).sort((a, b) => a[0] - b[0]);
out.downstream = (await ta.fetchOffsets({ groupId: group, topics: [topic] }))[0].partitions.map((p) => [p.partition, Number(p.offset)]).sort((a, b) => a[0] - b[0]);
// The next sync finds the group existing and Empty (offsets, no members): the same commit moves it on.
out.targetGroupStateLater = (await gcoord.describeGroups({ groupIds: [group] })).groups[0].state;
const again = await gcoord.offsetCommit({ groupId: group, groupGenerationId: -1, memberId: "", retentionTime: -1, topics: [{ topic, partitions: [{ partition: 0, offset: "30", metadata: "" }] }] });
out.commitAgainErrors = again.responses.flatMap((r) => r.partitions.map((p) => p.errorCode));
out.downstreamLater = (await ta.fetchOffsets({ groupId: group, topics: [topic] }))[0].partitions.map((p) => [p.partition, Number(p.offset)]);
await tp.send({ topic: "source.checkpoints.internal", acks: -1, messages: [{ key: Buffer.from(group), value: Buffer.from("checkpoint") }] });
const sp = src.producer();
await sp.connect();
await sp.send({ topic: offsetSyncs, acks: -1, messages: [{ key: Buffer.from(`${topic}-0`), value: Buffer.from("offset-sync") }] });

await coordinator.leaveGroup({ groupId: workerGroup, memberId: join.memberId });
out.afterLeave = (await coordinator.describeGroups({ groupIds: [workerGroup] })).groups[0].state;

await Promise.all([tp.disconnect(), sp.disconnect(), sa.disconnect(), ta.disconnect(), tcluster.disconnect(), gcluster.disconnect()]);
console.log(JSON.stringify(out));
