// startBroker() timing as a user's test sees it: how long startBroker()
// takes, and until a first KafkaJS produce is acknowledged. Prints {startMs,
// firstProduceMs}. Run under node or bun from a project holding klite and kafkajs.
import { startBroker } from "klite";
import kafkajs from "kafkajs";

const t0 = performance.now();
const broker = await startBroker();
const started = performance.now() - t0;
const kafka = new kafkajs.Kafka({ clientId: "measure", brokers: [broker.bootstrap], logLevel: kafkajs.logLevel.NOTHING });
const producer = kafka.producer({ allowAutoTopicCreation: true });
await producer.connect();
await producer.send({ topic: "measure", acks: -1, messages: [{ value: "x" }] });
const produced = performance.now() - t0;
await producer.disconnect();
await broker.stop();
console.log(JSON.stringify({ startMs: Math.round(started), firstProduceMs: Math.round(produced) }));
