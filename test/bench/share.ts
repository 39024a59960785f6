// Share groups (KIP-932): records/s delivered and acknowledged to 1, 2 and 4
// share consumers (librdkafka 2.15, test/clients/c/share-consumer.c, implicit
// acknowledgement) on one partition, against a classic consumer (kcat,
// librdkafka 2.0.2, reading from the beginning to the end) on the same data,
// in the same run, against one spawned broker. Each figure is N records over
// the wall time from the consumer's start to its last record, so group join
// and process start are included alike; the share runs also include the
// acknowledgements of every record (durable before the next fetch is
// answered). No thresholds.
//
//   bun test/bench/share.ts [--records N] [--fsync group|never] [--batch RECORDS]
//
// --batch sets the producer's batch.num.messages (default 10000, librdkafka's):
// a share-partition takes no new batch once group.share.partition.max.record.locks
// (2000) records are in flight, so with large batches one batch at a time is out
// and more consumers on one partition cannot add much.

import { parseArgs } from "node:util";
import { spawnBroker } from "../helpers/broker.ts";
import { kcat } from "../helpers/clients.ts";
import { run, waitFor } from "../helpers/run.ts";
import { shareConsumer } from "../helpers/share-consumer.ts";
import { connectWire } from "../helpers/wire-client.ts";

const { values: opts } = parseArgs({ options: { records: { type: "string", default: "200000" }, fsync: { type: "string", default: "group" }, batch: { type: "string", default: "10000" } } });
const N = Number(opts.records);

const broker = await spawnBroker({ args: ["--log-level", "warn", "--fsync", opts.fsync!] });
console.log(`${N} records of 100 bytes in producer batches of up to ${opts.batch}, one partition, --fsync ${opts.fsync}`);
try {
  const value = "x".repeat(100);
  await kcat(["-b", broker.bootstrap, "-P", "-t", "bench", "-X", `batch.num.messages=${opts.batch}`], { stdin: Array.from({ length: N }, () => value).join("\n") + "\n", timeoutMs: 300_000 });

  const rate = (ms: number) => `${Math.round((N / ms) * 1000).toLocaleString("en-US")} records/s (${(ms / 1000).toFixed(2)} s)`;

  let t = performance.now();
  const classic = await run(["kcat", "-b", broker.bootstrap, "-C", "-t", "bench", "-o", "beginning", "-e", "-q", "-f", "%o\n"], { timeoutMs: 300_000 });
  const got = classic.stdout.split("\n").filter(Boolean).length;
  if (got !== N) throw new Error(`kcat read ${got} records, expected ${N}`);
  console.log(`classic consumer (kcat, 1):   ${rate(performance.now() - t)}`);

  for (const consumers of [1, 2, 4]) {
    const group = `bench-${consumers}`;
    const c = await connectWire(broker.port);
    const r = await c.call<{ responses: { errorCode: number }[] }>(44, 1, {
      resources: [{ resourceType: 32, resourceName: group, configs: [{ name: "share.auto.offset.reset", configOperation: 0, value: "earliest" }] }],
      validateOnly: false,
    });
    c.close();
    if (r.responses[0]!.errorCode !== 0) throw new Error("group config refused");
    t = performance.now();
    const cs = Array.from({ length: consumers }, () => shareConsumer(broker.bootstrap, group, "bench", "count"));
    // Every first delivery is a different record: all N are in once the first deliveries add up to N.
    await waitFor(() => cs.reduce((n, x) => n + x.counted.first, 0) >= N, 600_000, `${N} records at ${consumers} share consumers`);
    const ms = performance.now() - t;
    await Promise.all(cs.map((x) => x.stop()));
    const redelivered = cs.reduce((n, x) => n + x.counted.n - x.counted.first, 0);
    console.log(`share consumers (${consumers}):          ${rate(ms)}${redelivered ? `, ${redelivered} redeliveries` : ""}`);
  }
} finally {
  await broker.cleanup();
}
