// KafkaJS 2.2.4 admin: topic configs and DeleteRecords. Run under node from test/clients.
// usage: node admin.mjs BOOTSTRAP COMMAND ARGS — prints one JSON document on stdout.
//
//   configs TOPIC          createTopics refused / validateOnly / with configEntries, describeConfigs
//                          with synonyms, alterConfigs (replaces the overrides) and its refusals
//   describe TOPIC         describeConfigs: {name: [value, configSource]}
//   delete-records TOPIC N produce 30 records to partition 0, deleteTopicRecords before N, then a
//                          group whose committed offset (0) lies below the log start consumes:
//                          the broker's OFFSET_OUT_OF_RANGE makes KafkaJS reset to the earliest offset
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const { Kafka, logLevel, ConfigResourceTypes } = require("kafkajs");

const [bootstrap, cmd, ...args] = process.argv.slice(2);
const kafka = new Kafka({ clientId: "klite-test", brokers: [bootstrap], logLevel: process.env.KLITE_KAFKAJS_LOG ? logLevel.DEBUG : logLevel.NOTHING, retry: { retries: 3 } });
const admin = kafka.admin();

/** [error type, message] of a refused call, or "ok". */
async function outcome(p) {
  try {
    await p;
    return "ok";
  } catch (e) {
    const inner = e.errors?.[0] ?? e.originalError ?? e;
    return [inner.type ?? e.type ?? e.name, inner.message];
  }
}

async function describe(topic) {
  const r = await admin.describeConfigs({ includeSynonyms: true, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }] });
  return Object.fromEntries(r.resources[0].configEntries.map((c) => [c.configName, { value: c.configValue, source: c.configSource, readOnly: c.readOnly, sensitive: c.isSensitive, synonyms: c.configSynonyms.map((s) => [s.configName, s.configValue, s.configSource]) }]));
}

const commands = {
  async configs(topic) {
    const create = (configEntries, validateOnly = false) => outcome(admin.createTopics({ validateOnly, waitForLeaders: false, topics: [{ topic, numPartitions: 1, configEntries }] }));
    const out = {
      badValue: await create([{ name: "compression.type", value: "lzma" }]),
      unknown: await create([{ name: "hasOwnProperty", value: "1" }]),
      validateOnly: await create([{ name: "retention.bytes", value: "1048576" }], true),
      create: await create([{ name: "retention.bytes", value: "1048576" }, { name: "max.message.bytes", value: "500000" }]),
    };
    out.described = await describe(topic);
    const alter = (configEntries) => outcome(admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries }] }));
    out.alterBad = await alter([{ name: "segment.ms", value: "0" }]);
    out.alterUnknown = await alter([{ name: "__proto__", value: "{}" }]);
    out.alter = await alter([{ name: "segment.ms", value: "60000" }, { name: "message.timestamp.after.max.ms", value: "0" }]);
    out.after = await describe(topic);
    return out;
  },

  describe,

  async ["delete-records"](topic, before) {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, partition: 0 })) });
    await producer.disconnect();
    // KafkaJS looks the leader up in its cached metadata, which only covers topics it was asked about.
    await admin.fetchTopicMetadata({ topics: [topic] });
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: before }] });
    const offsets = (await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, o.low, o.high]);
    const groupId = `klite-below-start-${topic}`;
    await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: "0" }] });
    const consumer = kafka.consumer({ groupId });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const first = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no record within 30 s")), 30_000);
      consumer.run({
        eachMessage: async ({ message }) => {
          clearTimeout(timer);
          resolve([Number(message.offset), message.value.toString()]);
        },
      });
    });
    await consumer.disconnect();
    return { offsets, first };
  },
};

await admin.connect();
try {
  console.log(JSON.stringify(await commands[cmd](...args)));
} finally {
  await admin.disconnect();
}
