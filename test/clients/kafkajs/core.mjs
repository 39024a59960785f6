// KafkaJS 2.2.4 driver for klite's interop tests: run under node from test/clients.
// usage: node core.mjs BOOTSTRAP COMMAND ARGS — prints one JSON document on stdout.
//
//   produce TOPIC N none|gzip [PARTITIONS]  acks=-1; record i: key k<i>, value value-<i>,
//                                           header h=<i>, timestamp 1_700_000_000_000+i
//   consume TOPIC N [PARTITION OFFSET]      a fresh consumer group (KafkaJS has no assign());
//                                           from the beginning, or with PARTITION/OFFSET from the
//                                           end plus seek() there, so only a working seek yields
//                                           records. Stops after N records or 30 s.
//   admin create|delete|list|offsets NAMES...
//   updates TOPIC FIRST N KEYS CODEC TOMBSTONE_EVERY   idempotent, acks=-1, partition 0, sends of
//                                           25 records; record i (FIRST <= i < FIRST+N): key k<i % KEYS>,
//                                           value v<i>, or null (a tombstone) when TOMBSTONE_EVERY > 0
//                                           and i % TOMBSTONE_EVERY == 0; CODEC none|gzip.
//                                           Answers [[offset, key, value], ...]
//
// KafkaJS only ships gzip; snappy/lz4/zstd need codec plugins, which the other clients cover.
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const { Kafka, logLevel, CompressionTypes } = require("kafkajs");

const [bootstrap, cmd, ...args] = process.argv.slice(2);
const kafka = new Kafka({
  clientId: "klite-test",
  brokers: [bootstrap],
  logLevel: process.env.KLITE_KAFKAJS_LOG ? logLevel.DEBUG : logLevel.NOTHING,
  retry: { retries: 8 },
});

async function produce(topic, n, codec, partitions = "1") {
  const p = kafka.producer({ allowAutoTopicCreation: true });
  await p.connect();
  const messages = Array.from({ length: Number(n) }, (_, i) => ({
    key: `k${i}`,
    value: `value-${i}`,
    headers: { h: String(i) },
    timestamp: String(1_700_000_000_000 + i),
    partition: i % Number(partitions),
  }));
  const r = await p.send({ topic, acks: -1, compression: codec === "gzip" ? CompressionTypes.GZIP : CompressionTypes.None, messages });
  await p.disconnect();
  return r.map((x) => ({ partition: x.partition, baseOffset: Number(x.baseOffset), errorCode: x.errorCode }));
}

async function consume(topic, n, partition, offset) {
  n = Number(n);
  const c = kafka.consumer({ groupId: `klite-kjs-${process.pid}-${Date.now()}`, maxWaitTimeInMs: 200 });
  const got = [];
  let done;
  const finished = new Promise((res) => (done = res));
  const timer = setTimeout(() => done(), 30_000);
  await c.connect();
  await c.subscribe({ topic, fromBeginning: partition === undefined });
  await c.run({
    eachMessage: async ({ partition: p, message }) => {
      if (partition !== undefined && (p !== Number(partition) || Number(message.offset) < Number(offset))) return;
      got.push({
        partition: p,
        offset: Number(message.offset),
        key: message.key?.toString() ?? null,
        value: message.value?.toString() ?? null,
        headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, v?.toString()])),
        timestamp: Number(message.timestamp),
      });
      if (got.length >= n) done();
    },
  });
  // seek() is only valid after run(); KafkaJS applies it on its next fetch.
  if (partition !== undefined) c.seek({ topic, partition: Number(partition), offset: String(offset) });
  await finished;
  clearTimeout(timer);
  await c.disconnect();
  return got;
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

async function updates(topic, first, n, keys, codec, tombstoneEvery) {
  [first, n, keys, tombstoneEvery] = [first, n, keys, tombstoneEvery].map(Number);
  const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await p.connect();
  const out = [];
  for (let start = first; start < first + n; start += 25) {
    const messages = [];
    for (let i = start; i < Math.min(start + 25, first + n); i++) {
      messages.push({ key: `k${i % keys}`, value: tombstoneEvery > 0 && i % tombstoneEvery === 0 ? null : `v${i}`, partition: 0 });
    }
    const [r] = await p.send({ topic, acks: -1, compression: codec === "gzip" ? CompressionTypes.GZIP : CompressionTypes.None, messages });
    messages.forEach((m, j) => out.push([Number(r.baseOffset) + j, m.key, m.value]));
  }
  await p.disconnect();
  return out;
}

const fns = { produce, consume, admin, updates };
fns[cmd](...args).then(
  (r) => {
    console.log(JSON.stringify(r));
    process.exit(0);
  },
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
