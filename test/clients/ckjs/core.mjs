// Current librdkafka (2.15, through @confluentinc/kafka-javascript's
// node-rdkafka-compatible API) driver for klite's interop tests. Native addon:
// run under node from test/clients, never under Bun.
// usage: node core.mjs BOOTSTRAP COMMAND ARGS — prints one JSON document on stdout:
//   { "result": ..., "sent": { "<Api>": highest request version sent, ... } }
// "sent" comes from librdkafka's protocol debug log, so tests can check that
// the newest versions (Metadata v13, Fetch with topic ids, ...) were exercised.
//
//   produce TOPIC N CODEC [PARTITIONS]   acks=all; record i: key k<i>, value value-<i>,
//                                        header h=<i>, timestamp 1_700_000_000_000+i
//   consume TOPIC PARTITION OFFSET N     assign() at OFFSET; stops after N records or 20 s
//   admin create|delete|list NAMES...
//
// Extra librdkafka settings: KLITE_CLIENT_CONF='{"debug": "protocol,broker"}';
// KLITE_CLIENT_LOG=1 copies librdkafka's log to stderr.
import { Kafka, base, onLog, watch, run } from "./native.mjs";

function produce(topic, n, compression, partitions = "1") {
  n = Number(n);
  return new Promise((resolve, reject) => {
    const p = watch(new Kafka.Producer({ ...base, dr_cb: true, acks: "all", "compression.type": compression, "linger.ms": 5 }));
    const out = [];
    p.on("event.error", reject);
    p.on("delivery-report", (err, r) => {
      out.push(err ? { error: String(err) } : { partition: r.partition, offset: r.offset, key: r.key.toString() });
      if (out.length === n) p.disconnect();
    });
    p.on("disconnected", () => resolve(out));
    p.on("ready", () => {
      for (let i = 0; i < n; i++) {
        p.produce(topic, i % Number(partitions), Buffer.from(`value-${i}`), Buffer.from(`k${i}`), 1_700_000_000_000 + i, undefined, [{ h: Buffer.from(String(i)) }]);
      }
      p.setPollInterval(5);
    });
    p.connect();
  });
}

function consume(topic, partition, offset, n) {
  n = Number(n);
  return new Promise((resolve, reject) => {
    const c = watch(new Kafka.KafkaConsumer({ ...base, "group.id": "unused-assign", "enable.auto.commit": false }, {}));
    const got = [];
    const timer = setTimeout(() => c.disconnect(), 20_000);
    c.on("event.error", reject);
    c.on("data", (m) => {
      got.push({
        offset: m.offset,
        key: m.key?.toString() ?? null,
        value: m.value?.toString() ?? null,
        headers: (m.headers ?? []).map((h) => Object.entries(h).map(([k, v]) => [k, v.toString()])[0]),
        timestamp: m.timestamp,
      });
      // Never disconnect from inside the data callback (it can crash the addon): leave it first.
      if (got.length === n) setImmediate(() => {
        clearTimeout(timer);
        c.disconnect();
      });
    });
    c.on("disconnected", () => resolve(got));
    c.on("ready", () => {
      c.assign([{ topic, partition: Number(partition), offset: Number(offset) }]);
      c.consume();
    });
    c.connect();
  });
}

async function admin(action, ...names) {
  // create() connects at once: the log handler must come with it.
  const a = Kafka.AdminClient.create(base, { "event.log": onLog });
  const call = (fn) => new Promise((res) => fn((err, v) => res(err ? { error: err.code } : (v ?? "ok"))));
  let r;
  if (action === "create") r = Object.fromEntries(await Promise.all(names.map(async (t) => [t, await call((cb) => a.createTopic({ topic: t, num_partitions: 2, replication_factor: 1 }, 10000, cb))])));
  else if (action === "delete") r = Object.fromEntries(await Promise.all(names.map(async (t) => [t, await call((cb) => a.deleteTopic(t, 10000, cb))])));
  else r = (await call((cb) => a.listTopics({ timeout: 10000 }, cb))).sort();
  a.disconnect();
  return r;
}

run({ produce, consume, admin });
