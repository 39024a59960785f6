// KafkaJS 2.2.4 idempotent and transactional producing: run under node from test/clients.
// usage: node txn.mjs BOOTSTRAP COMMAND ARGS — prints one JSON document on stdout:
//   { "result": ..., "sent": { "<Api>": highest request version sent, ... } }
//
//   idempotent TOPIC N               idempotent: true; keys k0..k<N-1>, partition i % 2, one send
//                                    per record (so sequence numbers advance batch by batch)
//   txn TOPIC TXID                   partition 0: commits c0..c4, aborts a0..a4, commits c5..c9
//   send_offsets SRC DST GROUP TXID  transactions that write DST and send offset 5 of SRC
//                                    partition 0 for GROUP (no group membership: KafkaJS sends
//                                    TxnOffsetCommit without member/generation): aborted, then
//                                    committed with 5, then with 7; the group's committed offset
//                                    (admin fetchOffsets) after each end
//   crash_end TOPIC TXID commit|abort as test/clients/py/txn.py crash_end: commits <txid>-a0..a2
//                                    on partitions 0 and 1, opens <txid>-b0..b2, prints
//                                    {"ready": true}, ends it as told, prints {"ended": ..., "errors"},
//                                    then commits <txid>-c0..c2 and ends with the usual document.
//                                    KafkaJS does not retry an EndTxn whose connection closed (the
//                                    broker died): it fails the commit, and a new producer instance
//                                    with the same id goes on, as an application would.
//
// Records are read back by the test with another client (a read_committed consumer
// that stops at the end of each partition); KafkaJS's consumer has no way to say
// "the end of the partition was reached".
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const { Kafka, logLevel } = require("kafkajs");

const [bootstrap, cmd, ...args] = process.argv.slice(2);
const sent = {};
const kafka = new Kafka({
  clientId: "klite-test-txn",
  brokers: [bootstrap],
  logLevel: logLevel.DEBUG,
  logCreator: () => ({ log }) => {
    const m = /^Request (\w+)\(key: \d+, version: (\d+)\)/.exec(log.message ?? "");
    if (m) sent[m[1]] = Math.max(sent[m[1]] ?? -1, Number(m[2]));
    if (process.env.KLITE_KAFKAJS_LOG) console.error(JSON.stringify(log));
  },
  retry: { retries: 8 },
});

const results = (r) => r.map((x) => ({ partition: x.partition, baseOffset: Number(x.baseOffset), errorCode: x.errorCode }));

async function idempotent(topic, n) {
  const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await p.connect();
  const out = [];
  for (let i = 0; i < Number(n); i++) out.push(...results(await p.send({ topic, acks: -1, messages: [{ key: `k${i}`, value: `v${i}`, partition: i % 2 }] })));
  await p.disconnect();
  return out;
}

async function txn(topic, txid) {
  const p = kafka.producer({ transactionalId: txid, idempotent: true, maxInFlightRequests: 1 });
  await p.connect();
  const out = [];
  for (const [prefix, from, commit] of [["c", 0, true], ["a", 0, false], ["c", 5, true]]) {
    const t = await p.transaction();
    const messages = Array.from({ length: 5 }, (_, i) => ({ key: `${prefix}${from + i}`, value: `v-${prefix}${from + i}`, partition: 0 }));
    out.push(...results(await t.send({ topic, messages })));
    if (commit) await t.commit();
    else await t.abort();
  }
  await p.disconnect();
  return out;
}

async function sendOffsets(src, dst, group, txid) {
  const admin = kafka.admin();
  await admin.connect();
  const committed = async () => {
    const r = await admin.fetchOffsets({ groupId: group, topics: [src] });
    return Number(r.find((t) => t.topic === src).partitions.find((x) => x.partition === 0).offset);
  };
  const p = kafka.producer({ transactionalId: txid, idempotent: true, maxInFlightRequests: 1 });
  await p.connect();
  const step = async (offset, commit) => {
    const t = await p.transaction();
    await t.send({ topic: dst, messages: [{ key: `o${offset}${commit ? "c" : "a"}`, value: "x", partition: 0 }] });
    await t.sendOffsets({ consumerGroupId: group, topics: [{ topic: src, partitions: [{ partition: 0, offset: String(offset) }] }] });
    if (commit) await t.commit();
    else await t.abort();
    return committed();
  };
  const before = await committed();
  const afterAbort = await step(5, false);
  const afterCommit = await step(5, true);
  const afterSecondCommit = await step(7, true);
  await p.disconnect();
  await admin.disconnect();
  return { before, afterAbort, afterCommit, afterSecondCommit };
}

async function crashEnd(topic, txid, outcome) {
  const connect = async () => {
    const p = kafka.producer({ transactionalId: txid, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 120_000 });
    await p.connect();
    return p;
  };
  let p = await connect();
  const open = async (prefix) => {
    const t = await p.transaction();
    for (const partition of [0, 1]) await t.send({ topic, messages: [0, 1, 2].map((i) => ({ key: `${txid}-${prefix}${i}`, value: "v", partition })) });
    return t;
  };
  await (await open("a")).commit();
  const b = await open("b");
  console.log(JSON.stringify({ ready: true }));
  const errors = [];
  try {
    if (outcome === "commit") await b.commit();
    else await b.abort();
  } catch (e) {
    errors.push(String(e));
    await p.disconnect().catch(() => {});
    // The broker may still be starting: KafkaJS gives up connecting after its retries, the application tries again.
    const deadline = Date.now() + 120_000;
    for (;;) {
      try {
        p = await connect();
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        errors.push(String(e));
      }
    }
  }
  console.log(JSON.stringify({ ended: outcome, errors }));
  await (await open("c")).commit();
  await p.disconnect();
  return { done: true };
}

const fns = { idempotent, txn, send_offsets: sendOffsets, crash_end: crashEnd };
fns[cmd](...args).then(
  (result) => {
    console.log(JSON.stringify({ result, sent }));
    process.exit(0);
  },
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
