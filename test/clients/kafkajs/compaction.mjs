// KafkaJS 2.2.4 driver for klite's log compaction tests: run under node from test/clients.
// usage: node compaction.mjs BOOTSTRAP COMMAND ARGS — prints one JSON document on stdout.
//
//   produce TOPIC FIRST N KEYS CODEC TOMBSTONE_EVERY   idempotent producer, acks=-1, sends of 25
//       records; record i: key k<i % KEYS>, value v<i>, or null (a tombstone) when
//       TOMBSTONE_EVERY > 0 and i % TOMBSTONE_EVERY == 0. CODEC none|gzip (KafkaJS ships no
//       other codec). Answers [[offset, key, value], ...].
//   consume TOPIC N   a fresh group from the beginning until N records came (or 30 s):
//       [[offset, key, value], ...]
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const { Kafka, logLevel, CompressionTypes } = require("kafkajs");

const [bootstrap, cmd, ...args] = process.argv.slice(2);
const kafka = new Kafka({
  clientId: "klite-test-compaction",
  brokers: [bootstrap],
  logLevel: process.env.KLITE_KAFKAJS_LOG ? logLevel.DEBUG : logLevel.NOTHING,
  retry: { retries: 8 },
});

async function produce(topic, first, n, keys, codec, tombstoneEvery) {
  [first, n, keys, tombstoneEvery] = [first, n, keys, tombstoneEvery].map(Number);
  const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await p.connect();
  const out = [];
  for (let start = first; start < first + n; start += 25) {
    const messages = [];
    for (let i = start; i < Math.min(start + 25, first + n); i++) {
      const tomb = tombstoneEvery > 0 && i % tombstoneEvery === 0;
      messages.push({ key: `k${i % keys}`, value: tomb ? null : `v${i}`, partition: 0 });
    }
    const [r] = await p.send({ topic, acks: -1, compression: codec === "gzip" ? CompressionTypes.GZIP : CompressionTypes.None, messages });
    messages.forEach((m, j) => out.push([Number(r.baseOffset) + j, m.key, m.value]));
  }
  await p.disconnect();
  return out;
}

async function consume(topic, n) {
  n = Number(n);
  const c = kafka.consumer({ groupId: `klite-kjs-compaction-${process.pid}-${Date.now()}`, maxWaitTimeInMs: 200 });
  const got = [];
  let done;
  const finished = new Promise((res) => (done = res));
  const timer = setTimeout(() => done(), 30_000);
  await c.connect();
  await c.subscribe({ topic, fromBeginning: true });
  await c.run({
    eachMessage: async ({ message }) => {
      got.push([Number(message.offset), message.key?.toString() ?? null, message.value === null ? null : message.value.toString()]);
      if (got.length >= n) done();
    },
  });
  await finished;
  clearTimeout(timer);
  await c.disconnect();
  return got;
}

const fns = { produce, consume };
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
