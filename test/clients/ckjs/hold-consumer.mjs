// One KIP-848 consumer (group.protocol=consumer) that joins GROUP on TOPIC,
// prints {"event":"assigned","partitions":[...]} once it owns N partitions,
// and stays in the group until its stdin closes. Run under node.
// usage: node hold-consumer.mjs BOOTSTRAP TOPIC GROUP N
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const { Kafka } = require("@confluentinc/kafka-javascript").KafkaJS;

const [bootstrap, topic, groupId, n] = process.argv.slice(2);
const kafka = new Kafka({ kafkaJS: { brokers: [bootstrap], logLevel: 0 }, "broker.address.family": "v4" });
const c = kafka.consumer({ kafkaJS: { groupId, fromBeginning: true }, "group.protocol": "consumer", "client.id": "hold-consumer" });
await c.connect();
await c.subscribe({ topics: [topic] });
await c.run({ eachMessage: async () => {} });
const owned = () => c.assignment().filter((tp) => tp.topic === topic).map((tp) => tp.partition).sort((a, b) => a - b);
while (owned().length !== Number(n)) await new Promise((r) => setTimeout(r, 20));
console.log(JSON.stringify({ event: "assigned", partitions: owned() }));
process.stdin.resume();
await new Promise((r) => process.stdin.on("end", r));
await c.disconnect();
console.log(JSON.stringify({ event: "closed" }));
