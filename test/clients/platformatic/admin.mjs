// @platformatic/kafka (pure JavaScript, a root dev dependency) for the admin
// APIs that librdkafka and KafkaJS do not have: DescribeLogDirs,
// DescribeTopicPartitions, ListConfigResources, and IncrementalAlterConfigs.
// Run under bun (the package wants node >= 22):
//   bun test/clients/platformatic/admin.mjs BOOTSTRAP COMMAND ARGS...  → JSON on stdout
//   storage TOPIC     create 3 partitions, produce, DescribeLogDirs, DeleteRecords, DescribeLogDirs
//   paging PREFIX     DescribeTopicPartitions page by page over three topics, unknown names, a bad cursor
//   resources         ListConfigResources v0 and v1 (all types, topics, an unknown type)
//   incremental TOPIC IncrementalAlterConfigs SET/APPEND/SUBTRACT/DELETE and refusals, DescribeConfigs
//   quota CLIENT_ID KEY VALUE   AlterClientQuotas on the client id, an invalid key refused, DescribeClientQuotas
//   set-configs TOPIC KEY=VALUE...  IncrementalAlterConfigs SET of each (MM2's syncTopicConfigs), then
//                     DescribeConfigs: {name: [value, configSource]}
import { join } from "node:path";
import { Admin, Connection, Producer, stringSerializers, describeTopicPartitionsV0, listClientMetricsResourcesV0 } from "@platformatic/kafka";

const [bootstrap, cmd, ...args] = process.argv.slice(2);
const [host, port] = [bootstrap.slice(0, bootstrap.lastIndexOf(":")), Number(bootstrap.slice(bootstrap.lastIndexOf(":") + 1))];
// ListConfigResources v1 is not exported from the package root.
const { api: listConfigResourcesV1 } = await import(join(import.meta.dir, "../../../node_modules/@platformatic/kafka/dist/apis/telemetry/list-config-resources-v1.js"));
const admin = new Admin({ clientId: "klite-platformatic", bootstrapBrokers: [bootstrap] });
const TOPIC = 2, SET = 0, DELETE = 1, APPEND = 2, SUBTRACT = 3;

/** The error codes and messages of a refused call, or "ok". */
async function outcome(p) {
  try {
    await p;
    return "ok";
  } catch (e) {
    // Errors nest (a MultipleErrors of ResponseErrors of ProtocolErrors); the protocol ones carry the broker's answer.
    const leaves = (x) => (x.errors?.length ? x.errors.flatMap(leaves) : [x]);
    return leaves(e).map((x) => [x.apiCode ?? x.code, x.serverErrorMessage ?? x.message]);
  }
}

/** A refused call's decoded response: platformatic throws on any error code in it. */
const answer = (p) =>
  p.catch((e) => {
    if (e.response) return e.response;
    throw e;
  });

async function withConnection(fn) {
  const c = new Connection("klite-platformatic");
  await c.connect(host, port);
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}

const logDirs = async (topic) =>
  (await admin.describeLogDirs({ topics: [{ name: topic, partitions: [0, 1, 2, 9] }] })).flatMap((b) =>
    b.results.map((r) => ({
      logDir: r.logDir,
      totalBytes: String(r.totalBytes),
      usableBytes: String(r.usableBytes),
      partitions: r.topics.flatMap((t) => t.partitions.map((p) => [t.name, p.partitionIndex, String(p.partitionSize), String(p.offsetLag)])),
    })),
  );

const commands = {
  async ["set-configs"](topic, ...pairs) {
    const configs = pairs.map((kv) => ({ name: kv.slice(0, kv.indexOf("=")), configOperation: SET, value: kv.slice(kv.indexOf("=") + 1) }));
    const result = await outcome(admin.incrementalAlterConfigs({ resources: [{ resourceType: TOPIC, resourceName: topic, configs }], validateOnly: false }));
    const [d] = await admin.describeConfigs({ resources: [{ resourceType: TOPIC, resourceName: topic, configurationKeys: [] }], includeSynonyms: false });
    return { result, configs: Object.fromEntries(d.configs.map((c) => [c.name, [c.value, c.configSource]])) };
  },
  async storage(topic) {
    await admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 });
    const producer = new Producer({ clientId: "klite-platformatic", bootstrapBrokers: [bootstrap], serializers: stringSerializers });
    const value = "v".repeat(100);
    const messages = [];
    for (let i = 0; i < 40; i++) messages.push({ topic, key: `k${i}`, value, partition: 0 });
    for (let i = 0; i < 5; i++) messages.push({ topic, key: `k${i}`, value, partition: 1 });
    await producer.send({ messages });
    await producer.close();
    const before = await logDirs(topic);
    const deleted = await admin.deleteRecords({ topics: [{ name: topic, partitions: [{ partition: 0, offset: 25n }] }] });
    const after = await logDirs(topic);
    return { before, deleted: deleted.map((t) => [t.name, t.partitions.map((p) => [p.partition, String(p.lowWatermark)])]), after };
  },

  async paging(prefix) {
    await admin.createTopics({ topics: [{ topic: `${prefix}-b`, partitions: 1 }, { topic: `${prefix}-a`, partitions: 3 }, { topic: `${prefix}-c`, partitions: 4 }], replicas: 1 });
    return withConnection(async (c) => {
      const call = (topics, limit, cursor) => answer(describeTopicPartitionsV0.api.async(c, topics, limit, cursor));
      const named = [`${prefix}-c`, `${prefix}-a`, `${prefix}-b`, `${prefix}-zz`].map((name) => ({ name }));
      const pages = [];
      let cursor;
      do {
        const res = await call(named, 3, cursor);
        pages.push({
          topics: res.topics.map((t) => [t.name, t.errorCode, t.partitions.map((p) => p.partitionIndex)]),
          next: res.nextCursor && [res.nextCursor.topicName, res.nextCursor.partitionIndex],
        });
        cursor = res.nextCursor ?? undefined;
      } while (cursor && pages.length < 10);
      const one = (await call([{ name: `${prefix}-a` }], 2000)).topics[0];
      const allTopics = (await call([], 2000)).topics.map((t) => t.name);
      const badCursor = (await call([{ name: `${prefix}-a` }], 10, { topicName: `${prefix}-c`, partitionIndex: 0 })).topics.map((t) => [t.name, t.errorCode]);
      return {
        pages,
        partition: { leader: one.partitions[0].leaderId, replicas: one.partitions[0].replicaNodes, isr: one.partitions[0].isrNodes, elr: one.partitions[0].eligibleLeaderReplicas, id: one.topicId },
        allTopics,
        badCursor,
      };
    });
  },

  async resources() {
    return withConnection(async (c) => {
      const v1 = async (types) => {
        const r = await answer(listConfigResourcesV1.async(c, types));
        return { errorCode: r.errorCode, resources: (r.configResources ?? []).map((x) => [x.resourceType, x.resourceName]) };
      };
      const v0 = await listClientMetricsResourcesV0.api.async(c);
      return { v0: { errorCode: v0.errorCode, resources: v0.configResources.map((x) => x.resourceName) }, all: await v1([]), topics: await v1([TOPIC]), unknown: await v1([TOPIC, 64]) };
    });
  },

  async incremental(topic) {
    await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
    const alter = (configs, validateOnly = false) => admin.incrementalAlterConfigs({ resources: [{ resourceType: TOPIC, resourceName: topic, configs }], validateOnly });
    const describe = async () => {
      const [d] = await admin.describeConfigs({ resources: [{ resourceType: TOPIC, resourceName: topic, configurationKeys: [] }], includeSynonyms: true });
      return Object.fromEntries(d.configs.map((c) => [c.name, { value: c.value, source: c.configSource, type: c.configType, synonyms: c.synonyms.map((s) => [s.name, s.value, s.source]) }]));
    };
    const steps = {};
    steps.set = await outcome(alter([{ name: "retention.ms", configOperation: SET, value: "7200000" }, { name: "min.insync.replicas", configOperation: SET, value: "2" }]));
    steps.appendCompact = await outcome(alter([{ name: "cleanup.policy", configOperation: APPEND, value: "compact" }]));
    steps.validateOnly = await outcome(alter([{ name: "segment.ms", configOperation: SET, value: "1000" }], true));
    const afterSet = await describe();
    steps.subtractDelete = await outcome(alter([{ name: "cleanup.policy", configOperation: SUBTRACT, value: "delete" }]));
    const afterSubtract = await describe();
    steps.deleteRetention = await outcome(alter([{ name: "retention.ms", configOperation: DELETE, value: null }]));
    const afterDelete = await describe();
    const refused = {
      tooSmallSegment: await outcome(alter([{ name: "segment.bytes", configOperation: SET, value: "1000" }])),
      notANumber: await outcome(alter([{ name: "retention.ms", configOperation: SET, value: "soon" }])),
      badPolicy: await outcome(alter([{ name: "cleanup.policy", configOperation: APPEND, value: "shred" }])),
      appendToLong: await outcome(alter([{ name: "retention.ms", configOperation: APPEND, value: "5" }])),
      constructor: await outcome(alter([{ name: "constructor", configOperation: SET, value: "1" }])),
      proto: await outcome(alter([{ name: "__proto__", configOperation: SET, value: "1" }])),
      toStringDelete: await outcome(alter([{ name: "toString", configOperation: DELETE, value: null }])),
      lagConflict: await outcome(alter([{ name: "min.compaction.lag.ms", configOperation: SET, value: "10" }, { name: "max.compaction.lag.ms", configOperation: SET, value: "5" }])),
      remoteStorage: await outcome(alter([{ name: "remote.storage.enable", configOperation: SET, value: "true" }])),
    };
    const final = await describe();
    return { steps, afterSet, afterSubtract, afterDelete, refused, final };
  },

  async quota(clientId, key, value) {
    const entities = [{ entityType: "client-id", entityName: clientId }];
    const altered = await admin.alterClientQuotas({ entries: [{ entities, ops: [{ key, value: Number(value), remove: false }] }] });
    const refused = await outcome(admin.alterClientQuotas({ entries: [{ entities, ops: [{ key: "no_such_quota", value: 1, remove: false }] }] }));
    const described = await admin.describeClientQuotas({ components: [{ entityType: "client-id", matchType: 0, match: clientId }] });
    return { altered: altered.map((e) => e.errorCode), refused, described };
  },
};

try {
  console.log(JSON.stringify(await commands[cmd](...args)));
} finally {
  await admin.close();
}
process.exit(0);
