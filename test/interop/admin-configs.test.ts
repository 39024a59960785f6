// Admin APIs beyond topic create/delete, from real clients: describe and alter
// topic configs, grow partitions, describe the broker's settings.

import { expect, test } from "bun:test";
import { join } from "node:path";
import { inProcessBroker, ROOT } from "../helpers/broker.ts";
import { runOk } from "../helpers/run.ts";

test("confluent-kafka-python: describe/alter configs, create partitions, broker configs", async () => {
  const b = await inProcessBroker();
  try {
    const out = JSON.parse(await runOk(["/usr/bin/python3", join(ROOT, "test/clients/py/admin_configs.py"), b.bootstrap, "cfg"]));
    expect(out).toEqual({
      retention_before: ["604800000", 5], // DEFAULT_CONFIG
      retention_after: ["12345", 1], // DYNAMIC_TOPIC_CONFIG
      bad_config: "INVALID_CONFIG",
      partitions: 4,
      shrink: "INVALID_PARTITIONS",
      broker_num_partitions: "1",
    });
    // The override survives a restart of the registry (persisted with the topic).
    expect(b.broker.topics.get("cfg")!.configs).toEqual({ "retention.ms": "12345", "cleanup.policy": "delete" });
  } finally {
    await b.cleanup();
  }
});
