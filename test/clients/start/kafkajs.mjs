// A user's test file: `import { startBroker } from "klite"`, then KafkaJS
// produces and consumes in a group, then stop(). Run under node or bun from a
// project whose node_modules holds klite and kafkajs. Prints one JSON summary.
import { startBroker } from "klite";
import kafkajs from "kafkajs";

const broker = await startBroker({ topics: [{ name: "orders", partitions: 2, configs: { "retention.ms": "3600000" } }] });
const kafka = new kafkajs.Kafka({ clientId: "start-test", brokers: [broker.bootstrap], logLevel: kafkajs.logLevel.NOTHING });
const producer = kafka.producer();
await producer.connect();
await producer.send({ topic: "orders", acks: -1, messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
await producer.disconnect();

const consumer = kafka.consumer({ groupId: "start-group" });
await consumer.connect();
await consumer.subscribe({ topic: "orders", fromBeginning: true });
const seen = [];
await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`only ${seen.length} records after 60 s`)), 60_000);
  consumer.run({
    eachMessage: async ({ message }) => {
      seen.push(message.value.toString());
      if (seen.length === 10) {
        clearTimeout(timer);
        resolve();
      }
    },
  });
});
await consumer.disconnect();
const admin = kafka.admin();
await admin.connect();
const topics = (await admin.fetchTopicMetadata({ topics: ["orders"] })).topics.map((t) => ({ name: t.name, partitions: t.partitions.length }));
const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: "orders", configNames: ["retention.ms"] }] });
const retention = described.resources[0].configEntries.find((e) => e.configName === "retention.ms")?.configValue;
await admin.disconnect();
await broker.stop();
await broker.stop(); // idempotent
console.log(JSON.stringify({ mode: broker.mode, pid: broker.pid, dataDir: broker.dataDir, bootstrap: broker.bootstrap, topics, retention, seen: seen.sort() }));
