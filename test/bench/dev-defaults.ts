// The KIP-848 settle time with klite's development defaults against Kafka's
// cluster defaults (heartbeat interval 5 s, session timeout 45 s): two
// @confluentinc/kafka-javascript consumers join a 4-partition topic, and the
// clock runs until each owns two partitions. Each setting on a fresh broker,
// alternating, `--runs` times. usage: bun test/bench/dev-defaults.ts [--runs 3]

import { withSpawnedBroker } from "../helpers/broker.ts";
import { nodeClient } from "../helpers/clients.ts";
import { runOk } from "../helpers/run.ts";
import { DEFAULT_OPTIONS } from "../../src/config.ts";

const runs = Number(process.argv[process.argv.indexOf("--runs") + 1] ?? 3) || 3;
const settings: [string, string[]][] = [
  [`klite defaults (heartbeat ${DEFAULT_OPTIONS.groupConsumerHeartbeatIntervalMs} ms)`, []],
  ["Kafka's defaults (heartbeat 5000 ms, session 45000 ms)", ["--group-consumer-heartbeat-interval-ms", "5000", "--group-consumer-session-timeout-ms", "45000"]],
];
const results = new Map<string, number[]>(settings.map(([name]) => [name, []]));
for (let i = 0; i < runs; i++) {
  for (const [name, args] of settings) {
    await withSpawnedBroker({ args: ["--log-level", "warn", ...args] }, async (b) => {
      await runOk([process.execPath, "src/main.ts", "topic", "create", "settle", "-p", "4", "-b", b.bootstrap]);
      const r = await nodeClient<{ ms: number }>("ckjs", "settle.mjs", b.bootstrap, ["settle", `g${i}`]);
      results.get(name)!.push(r.ms);
    });
  }
}
console.log("two KIP-848 consumers (librdkafka 2.15) until each owns 2 of 4 partitions:");
for (const [name, ms] of results) console.log(`  ${name.padEnd(58)} ${ms.map((x) => `${x} ms`).join(", ")}  (median ${ms.sort((a, b) => a - b)[Math.floor(ms.length / 2)]} ms)`);
