// Current librdkafka (2.15, @confluentinc/kafka-javascript) under the ACLs in force.
// usage: KLITE_CLIENT_CONF=CONFIG_JSON node acl.mjs BOOTSTRAP COMMAND ARGS — prints {"result": ..., "sent": ...} (native.mjs)
//   produce TOPIC          one record, acks=all -> {"error": code name | null}
//   consume TOPIC GROUP    subscribe in GROUP, read one record, commit it -> {"error": first code name | null, "got": n}
//   topics                 metadata of all topics -> names
import { Kafka, base, run, watch } from "./native.mjs";

const codeName = (code) => Object.entries(Kafka.CODES.ERRORS).find(([, v]) => v === code)?.[0]?.replace(/^ERR_/, "") ?? String(code);

function produce(topic) {
  return new Promise((resolve, reject) => {
    const p = watch(new Kafka.Producer({ ...base, dr_cb: true, acks: "all", "message.timeout.ms": 15000 }));
    let result;
    p.on("delivery-report", (err) => {
      result = { error: err ? codeName(err.code) : null };
      p.disconnect();
    });
    p.on("disconnected", () => resolve(result));
    p.on("ready", () => {
      p.produce(topic, null, Buffer.from("v"));
      p.setPollInterval(5);
    });
    p.connect({}, (err) => err && reject(err));
  });
}

function consume(topic, group) {
  return new Promise((resolve) => {
    const c = watch(new Kafka.KafkaConsumer({ ...base, "group.id": group, "enable.auto.commit": false }, { "auto.offset.reset": "earliest" }));
    let done = false;
    const finish = (error, got) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      // Leave the librdkafka callback before disconnecting.
      setImmediate(() => c.disconnect(() => resolve({ error, got })));
    };
    const timer = setTimeout(() => finish("TIMED_OUT", 0), 20_000);
    c.on("event.error", (e) => finish(codeName(e.code), 0));
    const poll = () => {
      if (done) return;
      c.consume(1, (err, msgs) => {
        if (err) return finish(codeName(err.code), 0);
        if (msgs.length === 0) return setTimeout(poll, 100);
        try {
          c.commitMessageSync(msgs[0]);
          finish(null, 1);
        } catch (e) {
          finish(codeName(e.code), 1);
        }
      });
    };
    c.on("ready", () => {
      c.subscribe([topic]);
      poll();
    });
    c.connect();
  });
}

function topics() {
  return new Promise((resolve, reject) => {
    const p = watch(new Kafka.Producer({ ...base }));
    p.on("ready", () =>
      p.getMetadata({ timeout: 10000 }, (err, md) => {
        if (err) return reject(err);
        p.disconnect(() => resolve(md.topics.map((t) => t.name).sort()));
      }),
    );
    p.connect();
  });
}

run({ produce, consume, topics });
