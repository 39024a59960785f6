// Current librdkafka (2.15, through @confluentinc/kafka-javascript's
// node-rdkafka-compatible API): idempotent and transactional producing, and a
// consumer by isolation level. Native addon: run under node from test/clients.
// usage: node txn.mjs BOOTSTRAP COMMAND ARGS — prints one JSON document on stdout:
//   { "result": ..., "sent": { "<Api>": highest request version sent, ... } }
//
//   idempotent TOPIC N          enable.idempotence, acks=all; keys k0..k<N-1>, partition i % 2
//   txn TOPIC TXID              partition 0: commits c0..c4, aborts a0..a4, commits c5..c9
//   ctp SRC DST GROUP TXID      writes i0..i9 to SRC partition 0; a group
//                               consumer reads 5, the producer writes t<i> to DST and sends
//                               the offsets; aborted once, then committed; committed() after each
//   consume TOPIC ISOLATION     read_committed|read_uncommitted, every partition from the
//                               beginning to its end: [[partition, offset, key], ...]
//   crash_end TOPIC TXID commit|abort
//                               as test/clients/py/txn.py crash_end: commits <txid>-a0..a2 on
//                               partitions 0 and 1, opens <txid>-b0..b2 on each, prints
//                               {"ready": true}, ends it as told retrying retriable errors (the
//                               broker may die during EndTxn), prints {"ended": ...}, then commits
//                               <txid>-c0..c2 and ends with the usual document ({"done": true})
import { Kafka, base, watch, run } from "./native.mjs";
const TIMEOUT = 30_000;

/** Calls a node-style method of a client as a promise. */
const call = (client, method, ...a) => new Promise((res, rej) => client[method](...a, (err, v) => (err ? rej(err) : res(v))));

async function connected(client) {
  await new Promise((res, rej) => {
    client.once("ready", res);
    client.once("connection.failure", rej);
    client.connect();
  });
  return client;
}

/** A producer whose delivery reports land in `out`; resolves each report's waiter. */
async function producer(conf, out) {
  const p = watch(new Kafka.Producer({ ...base, dr_cb: true, acks: "all", "linger.ms": 5, ...conf }));
  p.on("delivery-report", (err, r) => out.push(err ? { error: String(err) } : { partition: r.partition, offset: r.offset, key: r.key.toString() }));
  await connected(p);
  p.setPollInterval(5);
  return p;
}

async function idempotent(topic, n) {
  n = Number(n);
  const out = [];
  const p = await producer({ "enable.idempotence": true }, out);
  for (let i = 0; i < n; i++) p.produce(topic, i % 2, Buffer.from(`v${i}`), Buffer.from(`k${i}`));
  await call(p, "flush", TIMEOUT);
  await call(p, "disconnect");
  return out;
}

async function txn(topic, txid) {
  const out = [];
  const p = await producer({ "transactional.id": txid }, out);
  await call(p, "initTransactions", TIMEOUT);
  for (const [prefix, from, commit] of [["c", 0, true], ["a", 0, false], ["c", 5, true]]) {
    await call(p, "beginTransaction");
    for (let i = from; i < from + 5; i++) p.produce(topic, 0, Buffer.from(`v-${prefix}${i}`), Buffer.from(`${prefix}${i}`));
    if (commit) await call(p, "commitTransaction", TIMEOUT);
    else {
      // Aborting purges what is still queued: flush first so the aborted records reach the log.
      await call(p, "flush", TIMEOUT);
      await call(p, "abortTransaction", TIMEOUT);
    }
  }
  await call(p, "flush", TIMEOUT);
  await call(p, "disconnect");
  return out;
}

async function ctp(src, dst, group, txid) {
  const plain = await producer({}, []);
  for (let i = 0; i < 10; i++) plain.produce(src, 0, Buffer.from(`v${i}`), Buffer.from(`i${i}`));
  await call(plain, "flush", TIMEOUT);
  await call(plain, "disconnect");
  // auto.offset.reset goes in the topic config: the addon builds the default topic config from that
  // second argument alone, so the property in the global config is silently lost (the consumer starts at the end).
  const c = watch(new Kafka.KafkaConsumer({ ...base, "group.id": group, "enable.auto.commit": false, "isolation.level": "read_committed" }, { "auto.offset.reset": "earliest" }));
  await connected(c);
  c.subscribe([src]);
  const p = await producer({ "transactional.id": txid }, []);
  await call(p, "initTransactions", TIMEOUT);
  const read = async (n) => {
    const got = [];
    const deadline = Date.now() + TIMEOUT;
    while (got.length < n && Date.now() < deadline) got.push(...(await call(c, "consume", n - got.length)));
    return got;
  };
  // null: no committed offset (the addon leaves the field out).
  const committed = async () => (await call(c, "committed", [{ topic: src, partition: 0 }], TIMEOUT))[0].offset ?? null;
  const step = async (batch, commit) => {
    await call(p, "beginTransaction");
    for (const m of batch) p.produce(dst, 0, m.value, Buffer.from("t" + m.key.toString().slice(1)));
    await call(p, "sendOffsetsToTransaction", [{ topic: src, partition: 0, offset: batch[batch.length - 1].offset + 1 }], c, TIMEOUT);
    if (commit) await call(p, "commitTransaction", TIMEOUT);
    else {
      await call(p, "flush", TIMEOUT);
      await call(p, "abortTransaction", TIMEOUT);
    }
    return committed();
  };
  const first = await read(5);
  const before = await committed();
  const afterAbort = await step(first, false);
  const afterCommit = await step(first, true);
  const second = await read(5);
  const afterSecondCommit = await step(second, true);
  await call(p, "disconnect");
  await call(c, "disconnect");
  return { consumed: [...first, ...second].map((m) => m.offset), before, afterAbort, afterCommit, afterSecondCommit };
}

async function consume(topic, isolation) {
  const c = watch(new Kafka.KafkaConsumer({ ...base, "group.id": "unused-txn-consume", "enable.auto.commit": false, "isolation.level": isolation, "enable.partition.eof": true }, {}));
  await connected(c);
  const md = await call(c, "getMetadata", { topic, timeout: TIMEOUT });
  const parts = md.topics.find((t) => t.name === topic).partitions.map((p) => p.id).sort((a, b) => a - b);
  const got = [];
  const atEnd = new Set();
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`consume ${topic} ${isolation}: no end of partition within 30 s; got ${JSON.stringify(got)}`)), TIMEOUT);
    c.on("data", (m) => {
      atEnd.delete(m.partition);
      got.push([m.partition, m.offset, m.key.toString()]);
    });
    c.on("partition.eof", (e) => {
      atEnd.add(e.partition);
      // Leave the callback before anything else touches the consumer.
      if (atEnd.size === parts.length) setImmediate(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    c.assign(parts.map((partition) => ({ topic, partition, offset: -2 })));
    c.consume();
  });
  await call(c, "disconnect");
  return got;
}

async function crashEnd(topic, txid, outcome) {
  const out = [];
  const p = await producer({ "transactional.id": txid, "transaction.timeout.ms": 120_000, "message.timeout.ms": 120_000 }, out);
  await call(p, "initTransactions", 60_000);
  const txn = async (prefix) => {
    await call(p, "beginTransaction");
    for (const part of [0, 1]) for (let i = 0; i < 3; i++) p.produce(topic, part, Buffer.from("v"), Buffer.from(`${txid}-${prefix}${i}`));
  };
  await txn("a");
  await call(p, "commitTransaction", 60_000);
  await txn("b");
  await call(p, "flush", 60_000);
  console.log(JSON.stringify({ ready: true }));
  const errors = [];
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      await call(p, outcome === "commit" ? "commitTransaction" : "abortTransaction", 60_000);
      break;
    } catch (e) {
      errors.push(String(e));
      if (!e.isRetriable || Date.now() > deadline) throw e;
    }
  }
  console.log(JSON.stringify({ ended: outcome, errors }));
  await txn("c");
  await call(p, "commitTransaction", 60_000);
  await call(p, "disconnect");
  return { done: true, delivered: out };
}

run({ idempotent, txn, ctp, consume, crash_end: crashEnd });
