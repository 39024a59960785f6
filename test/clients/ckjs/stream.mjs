// Current librdkafka (2.15) consumer that runs until killed, for tests that
// restart the broker under it: usage `node stream.mjs BOOTSTRAP consume TOPIC PARTITION`.
// assign()s the partition from offset 0 and prints one JSON line per record
// ({offset, value, leaderEpoch}) on stdout; librdkafka's log (debug
// protocol,consumer,fetch plus KLITE_CLIENT_CONF) goes to stderr, one line per entry.
import { Kafka, base } from "./native.mjs";

const [bootstrap, , topic, partition] = process.argv.slice(2);
const c = new Kafka.KafkaConsumer(
  {
    ...base,
    "bootstrap.servers": bootstrap,
    debug: base.debug === "protocol" ? "protocol,consumer,fetch,topic,metadata" : base.debug,
    "group.id": "klite-stream",
    "enable.auto.commit": false,
    "fetch.wait.max.ms": 50,
  },
  // Topic-level settings (auto.offset.reset) go here, where librdkafka reads them for assigned partitions.
  JSON.parse(process.env.KLITE_TOPIC_CONF ?? "{}"),
);
c.on("event.log", (l) => console.error(`${l.fac} ${l.message}`));
c.on("event.error", (e) => console.error(`ERROR ${e.code} ${e.message}`));
c.on("data", (m) => {
  console.log(JSON.stringify({ offset: m.offset, value: m.value?.toString() ?? null, leaderEpoch: m.leaderEpoch ?? null }));
});
c.on("ready", () => {
  c.assign([{ topic, partition: Number(partition), offset: 0 }]);
  c.consume();
});
c.connect();
