// Current librdkafka (2.15, @confluentinc/kafka-javascript native API) against
// klite's produce checks and Fetch error answers. Run under node from test/clients.
// usage: node produce-checks.mjs BOOTSTRAP COMMAND ARGS — prints {result, sent} as JSON.
//
//   produce TOPIC KEYED...   one batch (linger 200 ms) whose record i has key k<i>
//                            when KEYED[i] is "1" and no key when "0"; result: per
//                            record {code, message} of its delivery report
//                            (code 0 and offset when delivered)
//   reset TOPIC GROUP RESET COMMITTED N
//                            commits offset COMMITTED (out of range) for GROUP on
//                            partition 0, then a subscriber with
//                            auto.offset.reset=RESET reads: for `earliest` the
//                            first N records; for `latest` it waits until it
//                            reaches the end of the partition (so its offset was
//                            reset), produces N records and
//                            reads them. result: {records: [{offset, value}],
//                            position, protocolErrors: log lines that report a
//                            parse failure or a bad MessageSetSize}
import { Kafka, base, run, watch } from "./native.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function produceBatch(p, topic, keyed) {
  return new Promise((resolve, reject) => {
    const out = new Array(keyed.length);
    let left = keyed.length;
    p.on("event.error", reject);
    p.on("delivery-report", (err, r) => {
      const i = Number(r.opaque);
      out[i] = err ? { code: err.code, message: err.message } : { code: 0, offset: r.offset };
      if (--left === 0) resolve(out);
    });
    keyed.forEach((k, i) => p.produce(topic, 0, Buffer.from(`value-${i}`), k === "1" ? Buffer.from(`k${i}`) : null, Date.now(), i));
  });
}

async function connect(client) {
  await new Promise((res, rej) => {
    client.once("ready", res);
    client.connect({}, (e) => e && rej(e));
  });
  return client;
}

async function produce(topic, ...keyed) {
  const p = await connect(watch(new Kafka.Producer({ ...base, dr_cb: true, acks: "all", "linger.ms": 200, "batch.num.messages": 10000 })));
  p.setPollInterval(5);
  try {
    return await produceBatch(p, topic, keyed);
  } finally {
    await new Promise((r) => p.disconnect(r));
  }
}

async function reset(topic, group, resetTo, committed, n) {
  n = Number(n);
  const protocolErrors = [];
  const logs = (client) =>
    watch(client).on("event.log", (l) => {
      if (/parse failure|MessageSetSize|PROTOERR/i.test(l.message)) protocolErrors.push(l.message);
    });
  const conf = { ...base, debug: "protocol,fetch", "group.id": group, "enable.auto.commit": false, "enable.partition.eof": true };
  // A topic property: the addon's (empty) topic configuration would override it in the global one.
  const topicConf = { "auto.offset.reset": resetTo };

  // The committed offset, far beyond the end of the log.
  const setter = await connect(logs(new Kafka.KafkaConsumer(conf, topicConf)));
  setter.assign([{ topic, partition: 0, offset: 0 }]);
  setter.commitSync([{ topic, partition: 0, offset: Number(committed) }]);
  await new Promise((r) => setter.disconnect(r));

  const c = await connect(logs(new Kafka.KafkaConsumer(conf, topicConf)));
  const records = [];
  c.on("data", (m) => records.push({ offset: m.offset, value: m.value?.toString() ?? null }));
  // End of the partition reached: the consumer fetches at the end of the log, so its offset was reset.
  let atEnd = false;
  c.on("partition.eof", (e) => (atEnd ||= e.offset >= 0 && e.offset < Number(committed)));
  c.subscribe([topic]);
  c.setDefaultConsumeTimeout(100);
  c.consume();
  const deadline = Date.now() + 30_000;
  const position = () => {
    try {
      return c.position([{ topic, partition: 0 }])[0]?.offset ?? -1001;
    } catch {
      return -1001;
    }
  };
  let producer = null;
  if (resetTo === "latest") {
    // Records produced before the reset would be skipped by it: wait for the end of the partition first.
    while (Date.now() < deadline && !atEnd) await sleep(50);
    producer = await connect(watch(new Kafka.Producer({ ...base, dr_cb: true, acks: "all", "linger.ms": 0 })));
    producer.setPollInterval(5);
    await produceBatch(producer, topic, Array(n).fill("1"));
  }
  while (Date.now() < deadline && records.length < n) await sleep(50);
  const pos = position();
  if (producer) await new Promise((r) => producer.disconnect(r));
  await new Promise((r) => c.disconnect(r));
  return { records, position: pos, protocolErrors };
}

run({ produce, reset });
