// Current librdkafka (2.15, @confluentinc/kafka-javascript) over a secured listener.
// usage: KLITE_CLIENT_CONF=CONFIG_JSON node secure.mjs BOOTSTRAP COMMAND ARGS — prints {"result": ..., "sent": ...} (native.mjs)
//   roundtrip TOPIC GROUP   produce k1..k3 (acks=all), then consume them in consumer group GROUP
//   auth                    metadata; {"errors": [code names of the client errors seen]}, empty on success.
//                           librdkafka tells the application of a failed authentication only in its log
//                           ("SASL authentication error: ...") and then fails the connect with a transport
//                           error; such a log line is reported as the error "SASL_AUTHENTICATION".
// CONFIG_JSON: librdkafka settings (security.protocol, sasl.*, ssl.*).
import { Kafka, base, run } from "./native.mjs";

const codeName = (code) => Object.entries(Kafka.CODES.ERRORS).find(([, v]) => v === code)?.[0] ?? String(code);

function produce(topic) {
  return new Promise((resolve, reject) => {
    const p = new Kafka.Producer({ ...base, dr_cb: true, acks: "all" });
    const offsets = [];
    p.on("event.error", reject);
    p.on("delivery-report", (err, r) => {
      offsets.push(err ? String(err) : r.offset);
      if (offsets.length === 3) p.disconnect();
    });
    p.on("disconnected", () => resolve(offsets));
    p.on("ready", () => {
      for (let i = 1; i <= 3; i++) p.produce(topic, null, Buffer.from(`v${i}`), Buffer.from(`k${i}`));
      p.setPollInterval(5);
    });
    p.connect();
  });
}

function consume(topic, group) {
  return new Promise((resolve, reject) => {
    const c = new Kafka.KafkaConsumer({ ...base, "group.id": group, "enable.auto.commit": false }, { "auto.offset.reset": "earliest" });
    const got = [];
    const timer = setTimeout(() => reject(new Error(`consumed only ${got.length} records in 30 s`)), 30_000);
    c.on("event.error", reject);
    c.on("data", (m) => {
      got.push([m.key.toString(), m.value.toString()]);
      if (got.length === 3) {
        clearTimeout(timer);
        // Leave the data callback before committing and disconnecting.
        setImmediate(() => {
          c.commitSync();
          c.disconnect(() => resolve(got));
        });
      }
    });
    c.on("ready", () => {
      c.subscribe([topic]);
      c.consume();
    });
    c.connect();
  });
}

function auth() {
  return new Promise((resolve) => {
    const a = new Kafka.Producer({ ...base, "socket.connection.setup.timeout.ms": 20000 });
    const errors = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      resolve({ errors });
    };
    // librdkafka reports the authentication error as an event, possibly after the failed connect: wait a little for it.
    const later = () => setTimeout(finish, 3000);
    a.on("event.log", (l) => {
      if (/SASL authentication error/.test(l.message) && !errors.includes("SASL_AUTHENTICATION")) {
        errors.push("SASL_AUTHENTICATION");
        finish();
      }
    });
    a.on("event.error", (e) => {
      errors.push(codeName(e.code));
      if (e.code === Kafka.CODES.ERRORS.ERR__AUTHENTICATION) finish();
      else later();
    });
    a.connect({ timeout: 20000 }, (err) => {
      if (err) {
        errors.push(codeName(err.code));
        return later();
      }
      a.getMetadata({ timeout: 10000 }, (e) => {
        if (e) errors.push(codeName(e.code));
        finish();
      });
    });
  });
}

run({
  roundtrip: async (topic, group) => ({ delivered: await produce(topic), consumed: await consume(topic, group) }),
  auth,
});
