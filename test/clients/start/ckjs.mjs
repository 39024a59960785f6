// A user's test file under node with the current librdkafka
// (@confluentinc/kafka-javascript, KafkaJS-style API): startBroker(),
// produce, consume in a group, stop(). Prints one JSON summary.
import { createRequire } from "node:module";
import { startBroker } from "klite";

const require = createRequire(import.meta.url);
const { Kafka } = require("@confluentinc/kafka-javascript").KafkaJS;

const broker = await startBroker({ topics: ["events"], partitions: 3 });
const kafka = new Kafka({ kafkaJS: { brokers: [broker.bootstrap], logLevel: 0 } });
const producer = kafka.producer();
await producer.connect();
await producer.send({ topic: "events", messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
await producer.disconnect();

const consumer = kafka.consumer({ kafkaJS: { groupId: "start-group", fromBeginning: true } });
await consumer.connect();
await consumer.subscribe({ topics: ["events"] });
const seen = [];
await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`only ${seen.length} records after 60 s`)), 60_000);
  consumer.run({
    eachMessage: async ({ message }) => {
      seen.push(message.value.toString());
      if (seen.length === 10) {
        clearTimeout(timer);
        // Leave the callback before disconnecting (see DESIGN.md's note on this client).
        setImmediate(resolve);
      }
    },
  });
});
await consumer.disconnect();
await broker.stop();
console.log(JSON.stringify({ mode: broker.mode, pid: broker.pid, dataDir: broker.dataDir, bootstrap: broker.bootstrap, seen: seen.sort() }));
