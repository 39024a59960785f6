// Current librdkafka (@confluentinc/kafka-javascript) driver: run under node.
// usage: node core.mjs BOOTSTRAP produce|consume|admin ARGS — prints JSON.
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const Kafka = require("@confluentinc/kafka-javascript");

const [bootstrap, cmd, ...args] = process.argv.slice(2);
const base = { "bootstrap.servers": bootstrap, "broker.address.family": "v4" };

function produce(topic, n, compression) {
  return new Promise((resolve, reject) => {
    const p = new Kafka.Producer({ ...base, dr_cb: true, acks: "all", "compression.type": compression, "linger.ms": 5 });
    const out = [];
    p.on("event.error", reject);
    p.on("delivery-report", (err, r) => {
      out.push(err ? { error: String(err) } : { partition: r.partition, offset: r.offset, key: r.key.toString() });
      if (out.length === Number(n)) p.disconnect();
    });
    p.on("disconnected", () => resolve(out));
    p.on("ready", () => {
      for (let i = 0; i < Number(n); i++) {
        p.produce(topic, null, Buffer.from(`value-${i}`), Buffer.from(`k${i}`), 1_700_000_000_000 + i, undefined, [{ h: Buffer.from(String(i)) }]);
      }
      p.setPollInterval(5);
    });
    p.connect();
  });
}

function consume(topic, partition, offset, n) {
  return new Promise((resolve, reject) => {
    const c = new Kafka.KafkaConsumer({ ...base, "group.id": "unused-assign", "enable.auto.commit": false }, {});
    const got = [];
    const timer = setTimeout(() => c.disconnect(), 20000);
    c.on("event.error", reject);
    c.on("data", (m) => {
      got.push({ offset: m.offset, key: m.key?.toString() ?? null, value: m.value.toString(), headers: (m.headers ?? []).map((h) => Object.entries(h).map(([k, v]) => [k, v.toString()])[0]) });
      if (got.length === Number(n)) setImmediate(() => { clearTimeout(timer); c.disconnect(); });
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
  const a = Kafka.AdminClient.create(base);
  const call = (fn) => new Promise((res) => fn((err, v) => res(err ? { error: err.code } : (v ?? "ok"))));
  let r;
  if (action === "create") r = Object.fromEntries(await Promise.all(names.map(async (t) => [t, await call((cb) => a.createTopic({ topic: t, num_partitions: 2, replication_factor: 1 }, 10000, cb))])));
  else if (action === "delete") r = Object.fromEntries(await Promise.all(names.map(async (t) => [t, await call((cb) => a.deleteTopic(t, 10000, cb))])));
  else r = (await call((cb) => a.listTopics({ timeout: 10000 }, cb))).sort();
  a.disconnect();
  return r;
}

const fns = { produce, consume, admin };
fns[cmd](...args).then(
  (r) => { console.log(JSON.stringify(r)); process.exit(0); },
  (e) => { console.error(e); process.exit(1); },
);
