// startBroker() timing as a user's test sees it: loading klite (the import),
// how long startBroker() takes, and until a first KafkaJS produce is
// acknowledged, all from before the import. Prints {importMs, startMs,
// firstProduceMs}. Run under node or bun from a project holding klite and kafkajs.
import kafkajs from "kafkajs";

const t0 = performance.now();
const { startBroker } = await import("klite");
const imported = performance.now() - t0;
const broker = await startBroker();
const started = performance.now() - t0;
const kafka = new kafkajs.Kafka({ clientId: "measure", brokers: [broker.bootstrap], logLevel: kafkajs.logLevel.NOTHING });
const producer = kafka.producer({ allowAutoTopicCreation: true });
await producer.connect();
await producer.send({ topic: "measure", acks: -1, messages: [{ value: "x" }] });
const produced = performance.now() - t0;
await producer.disconnect();
await broker.stop();
console.log(JSON.stringify({ importMs: Math.round(imported), startMs: Math.round(started), firstProduceMs: Math.round(produced) }));
