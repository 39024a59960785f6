// What the scripts that use the native (node-rdkafka style) API of
// @confluentinc/kafka-javascript share: the addon, the command line
// (BOOTSTRAP COMMAND ARGS...), base settings, and a record of the highest
// version of each request the client sent (read from librdkafka's protocol log).
//
// Extra librdkafka settings: KLITE_CLIENT_CONF='{"debug": "protocol,eos"}';
// KLITE_CLIENT_LOG=1 copies librdkafka's log to stderr.
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
export const Kafka = require("@confluentinc/kafka-javascript");

export const [bootstrap, cmd, ...args] = process.argv.slice(2);
const extra = JSON.parse(process.env.KLITE_CLIENT_CONF ?? "{}");
export const base = { "bootstrap.servers": bootstrap, debug: "protocol", event_cb: true, ...extra };

export const sent = {};
/** librdkafka log callback (for clients configured with it, like the admin client). */
export function onLog(l) {
  const m = /Sent (\w+)Request \(v(\d+)/.exec(l.message);
  if (m) sent[m[1]] = Math.max(sent[m[1]] ?? -1, Number(m[2]));
  if (process.env.KLITE_CLIENT_LOG) console.error(l.fac, l.message);
}

/** Records what `client` sends; returns it. */
export function watch(client) {
  client.on("event.log", onLog);
  return client;
}

/** Runs the command named on the command line and prints {result, sent} as JSON. */
export function run(fns) {
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
}
