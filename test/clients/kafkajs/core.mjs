// KafkaJS 2.2.4 driver: run under node.
// usage: node core.mjs BOOTSTRAP produce|admin ARGS — prints JSON.
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const { Kafka, logLevel, CompressionTypes } = require("kafkajs");

const [bootstrap, cmd, ...args] = process.argv.slice(2);
const kafka = new Kafka({ clientId: "klite-test", brokers: [bootstrap], logLevel: logLevel.NOTHING });

async function produce(topic, n, gzip) {
  const p = kafka.producer({ allowAutoTopicCreation: true });
  await p.connect();
  const messages = Array.from({ length: Number(n) }, (_, i) => ({ key: `k${i}`, value: `value-${i}`, headers: { h: String(i) }, timestamp: String(1_700_000_000_000 + i) }));
  const r = await p.send({ topic, acks: -1, compression: gzip === "gzip" ? CompressionTypes.GZIP : CompressionTypes.None, messages });
  await p.disconnect();
  return r.map((x) => ({ partition: x.partition, baseOffset: Number(x.baseOffset), errorCode: x.errorCode }));
}

async function admin(action, ...names) {
  const a = kafka.admin();
  await a.connect();
  let r;
  if (action === "create") r = await a.createTopics({ topics: names.map((t) => ({ topic: t, numPartitions: 2 })), waitForLeaders: true });
  else if (action === "delete") r = (await a.deleteTopics({ topics: names }), "ok");
  else if (action === "offsets") r = await a.fetchTopicOffsets(names[0]);
  else r = (await a.listTopics()).sort();
  await a.disconnect();
  return r;
}

const fns = { produce, admin };
fns[cmd](...args).then(
  (r) => { console.log(JSON.stringify(r)); process.exit(0); },
  (e) => { console.error(e); process.exit(1); },
);
