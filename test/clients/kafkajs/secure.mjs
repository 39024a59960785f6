// KafkaJS 2.2.4 over a secured listener.
// usage: node secure.mjs BOOTSTRAP CONFIG_JSON COMMAND ARGS — prints one JSON document on stdout
//   roundtrip TOPIC GROUP   produce k1..k3 (acks=-1), then consume them in consumer group GROUP
//   auth                    connect an admin client; {"error": error class name} or {"error": null}
// CONFIG_JSON: {"ssl": {"ca": PATH, "cert": PATH, "key": PATH} | true, "sasl": {...}} where
// sasl is {"mechanism": "plain"|"scram-sha-256"|"scram-sha-512", "username", "password"} or
// {"mechanism": "oauthbearer", "principal": NAME} (an unsecured JWT is made for NAME).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const { Kafka, logLevel } = require("kafkajs");

const [bootstrap, configJson, cmd, ...args] = process.argv.slice(2);
const config = JSON.parse(configJson);

function ssl(s) {
  if (!s) return undefined;
  if (s === true) return true;
  return { ca: [readFileSync(s.ca)], ...(s.cert ? { cert: readFileSync(s.cert), key: readFileSync(s.key) } : {}) };
}

function sasl(s) {
  if (!s || s.mechanism !== "oauthbearer") return s;
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  return { mechanism: "oauthbearer", oauthBearerProvider: async () => ({ value: `${b64({ alg: "none" })}.${b64({ sub: s.principal, iat: now, exp: now + 3600 })}.` }) };
}

const kafka = new Kafka({
  clientId: "klite-secure",
  brokers: [bootstrap],
  ssl: ssl(config.ssl),
  sasl: sasl(config.sasl),
  logLevel: process.env.KLITE_KAFKAJS_LOG ? logLevel.DEBUG : logLevel.NOTHING,
  retry: { retries: 2 },
  connectionTimeout: 10000,
  authenticationTimeout: 10000,
});

async function roundtrip(topic, group) {
  const p = kafka.producer({ allowAutoTopicCreation: true });
  await p.connect();
  await p.send({ topic, acks: -1, messages: [1, 2, 3].map((i) => ({ key: `k${i}`, value: `v${i}` })) });
  await p.disconnect();
  const c = kafka.consumer({ groupId: group });
  await c.connect();
  await c.subscribe({ topic, fromBeginning: true });
  const got = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`consumed only ${got.length} records in 30 s`)), 30_000);
    c.run({
      eachMessage: async ({ message }) => {
        got.push([message.key.toString(), message.value.toString()]);
        if (got.length === 3) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await c.disconnect();
  return { consumed: got };
}

async function auth() {
  const a = kafka.admin();
  try {
    await a.connect();
    await a.listTopics();
    return { error: null };
  } catch (e) {
    return { error: e.name, message: e.message };
  } finally {
    await a.disconnect().catch(() => {});
  }
}

const fns = { roundtrip, auth };
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
