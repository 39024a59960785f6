// How long two KIP-848 consumers (group.protocol=consumer) take to settle:
// from the first connect() until each owns two partitions of a 4-partition
// topic (created beforehand). Run under node; prints {ms}.
// usage: node settle.mjs BOOTSTRAP TOPIC GROUP
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const { Kafka } = require("@confluentinc/kafka-javascript").KafkaJS;

const [bootstrap, topic, groupId] = process.argv.slice(2);
const kafka = new Kafka({ kafkaJS: { brokers: [bootstrap], logLevel: 0 }, "broker.address.family": "v4" });

const started = performance.now();
const members = [];
for (let i = 0; i < 2; i++) {
  const c = kafka.consumer({ kafkaJS: { groupId, fromBeginning: true }, "group.protocol": "consumer" });
  await c.connect();
  await c.subscribe({ topics: [topic] });
  await c.run({ eachMessage: async () => {} });
  members.push(c);
}
const owned = (c) => c.assignment().filter((tp) => tp.topic === topic).length;
while (!members.every((c) => owned(c) === 2)) {
  if (performance.now() - started > 120_000) throw new Error("no settled assignment within 120 s");
  await new Promise((r) => setTimeout(r, 10));
}
const ms = Math.round(performance.now() - started);
for (const c of members) await c.disconnect();
console.log(JSON.stringify({ ms }));
