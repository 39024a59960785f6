// Leader epochs through a power cut (KIP-101/KIP-320), with real clients.
// With --fsync never, records are acknowledged and read before any fsync; a
// power cut (test/helpers/crash-sim.ts) takes them back, and the offsets are
// handed out again to new records. The restarted broker starts a new leader
// epoch at the surviving end; the current librdkafka, which had read past it,
// sees the epoch rise, asks OffsetForLeaderEpoch where its epoch now ends,
// and moves back there: it reads the new records at the reused offsets
// instead of waiting at its old position and skipping them. Older clients
// (librdkafka 2.0.2 in Python, KafkaJS) read the log as before.

import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { crashSim } from "../helpers/crash-sim.ts";
import type { SpawnedBroker } from "../helpers/broker.ts";
import { CLIENT_TEST_TIMEOUT, CLIENTS, missing, nodeClient, py } from "../helpers/clients.ts";
import { collectJsonLines, waitFor } from "../helpers/run.ts";
import { connectWire } from "../helpers/wire-client.ts";
import type { MetadataResponse } from "../../generated/MetadataResponse.ts";

type Seen = { offset: number; value: string; leaderEpoch: number | null };

function ckjsStream(
  bootstrap: string,
  topic: string,
  conf: Record<string, string | number> = {},
  topicConf: Record<string, string> = {},
): { proc: Subprocess<"ignore", "pipe", "pipe">; seen: Seen[]; log: string[]; ended: Promise<void> } {
  const proc = Bun.spawn(["node", join(CLIENTS, "ckjs/stream.mjs"), bootstrap, "consume", topic, "0"], {
    cwd: CLIENTS,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    // Reconnects 1 s apart: the new records are in before it is back, so without epochs it would skip them.
    env: {
      ...process.env,
      KLITE_TOPIC_CONF: JSON.stringify(topicConf),
      KLITE_CLIENT_CONF: JSON.stringify({ "reconnect.backoff.ms": 1000, "reconnect.backoff.max.ms": 1000, ...conf }),
    },
  });
  const seen: Seen[] = [];
  const log: string[] = [];
  const lines = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr) log.push(...decoder.decode(chunk, { stream: true }).split("\n"));
  })();
  return { proc, seen, log, ended: Promise.all([collectJsonLines(proc.stdout, seen), lines]).then(() => {}) };
}

async function produceValues(bootstrap: string, topic: string, values: string[]): Promise<void> {
  const r = await py<{ error?: string }[]>("core.py", bootstrap, ["produce_values", topic, "0", ...values]);
  expect(r.filter((x) => x.error)).toEqual([]);
}

/**
 * 100 durable records, 100 more only in the page cache that the consumer
 * reads, a power cut that takes those, a restart (epoch 1 from offset 100)
 * and 150 new records at offsets 100..249; `check` runs while the consumer
 * still runs, with the broker up.
 */
async function truncatedUnderConsumer(
  topicConf: Record<string, string>,
  check: (b: SpawnedBroker, consumer: ReturnType<typeof ckjsStream>, fresh: string[]) => Promise<void>,
) {
  const sim = crashSim();
  const topic = "epochs";
  let b: SpawnedBroker = await sim.spawn({ args: ["--fsync", "never", "--default-partitions", "1"] });
  let consumer: ReturnType<typeof ckjsStream> | undefined;
  try {
    // 100 records made durable by a clean restart (epoch 0 goes on), then 100 that only reach the page cache.
    await produceValues(
      b.bootstrap,
      topic,
      Array.from({ length: 100 }, (_, i) => `durable-${i}`),
    );
    expect(await b.stop()).toBe(0);
    b = await sim.spawn({ port: b.port, args: ["--fsync", "never"] });
    await produceValues(
      b.bootstrap,
      topic,
      Array.from({ length: 100 }, (_, i) => `lost-${i}`),
    );
    consumer = ckjsStream(b.bootstrap, topic, {}, topicConf);
    await waitFor(() => consumer!.seen.length >= 200, 60_000, "the consumer read all 200 records");
    expect(consumer.seen.at(-1)).toMatchObject({ offset: 199, value: "lost-99" });

    await b.kill9();
    const cut = sim.powerCut({ torn: "drop" });
    expect(cut.bytesAfter).toBeLessThan(cut.bytesBefore);
    b = await sim.spawn({ port: b.port, args: ["--fsync", "never"] });
    // The log ends at 100 again, under a new epoch; 150 new records take offsets 100..249.
    const wire = await connectWire(b.port);
    try {
      const md = await wire.call<MetadataResponse>(3, 12, { topics: [{ name: topic }], allowAutoTopicCreation: false });
      expect(md.topics[0]!.partitions[0]!.leaderEpoch).toBe(1);
    } finally {
      wire.close();
    }
    expect(b.stderr()).toContain("leader epoch 1 starts at offset 100");
    const fresh = Array.from({ length: 150 }, (_, i) => `after-${i}`);
    await produceValues(b.bootstrap, topic, fresh);
    await check(b, consumer, fresh);
  } finally {
    consumer?.proc.kill(9);
    await b.cleanup();
    sim.cleanup();
  }
}

describe("leader epochs", () => {
  test.skipIf(missing("ckjs", "python", "kafkajs"))(
    "after a power cut took records it had read, the current librdkafka detects the truncation and reads the new records at the reused offsets; older clients read on",
    () =>
      truncatedUnderConsumer({}, async (b, consumer, fresh) => {
        const topic = "epochs";

        await waitFor(() => consumer!.seen.some((s) => s.value === "after-149"), 60_000, "the consumer read the last new record");
        const after = consumer.seen.filter((s) => s.value.startsWith("after-"));
        expect(after.map((s) => s.value)).toEqual(fresh);
        expect(after[0]).toMatchObject({ offset: 100 });
        const log = consumer.log.join("\n");
        expect(log).toMatch(/Sent OffsetForLeaderEpochRequest/);
        expect(log).toMatch(/epoch updated from metadata|FENCED_LEADER_EPOCH/);
        console.log(
          "librdkafka 2.15 debug log around the truncation:\n" +
            consumer.log
              .filter((l) => /OffsetForLeaderEpoch|VALIDATE|OFFSETVALID|truncat|seek|FENCED|epoch 0 -> |Epoch 1/i.test(l))
              .slice(0, 30)
              .join("\n"),
        );

        // Old clients, which send no epochs (or -1), read the whole log as it now is.
        const want = [...Array.from({ length: 100 }, (_, i) => `durable-${i}`), ...fresh];
        const pyGot = await py<{ offset: number; value: string }[]>("core.py", b.bootstrap, ["consume", topic, "0", "0", "250"]);
        expect(pyGot.map((m) => m.value)).toEqual(want);
        const kjs = await nodeClient<{ offset: number; value: string }[]>("kafkajs", "core.mjs", b.bootstrap, ["consume", topic, "250", "0", "0"]);
        expect(kjs.map((m) => m.value)).toEqual(want);
      }),
    CLIENT_TEST_TIMEOUT,
  );

  test.skipIf(missing("ckjs", "python"))(
    "with auto.offset.reset=error the current librdkafka reports the truncation to the application instead",
    () =>
      truncatedUnderConsumer({ "auto.offset.reset": "error" }, async (_b, consumer) => {
        await waitFor(() => consumer.log.some((l) => /log truncation detected/i.test(l)), 30_000, "librdkafka to report the truncation").catch((e) => {
          console.log(
            consumer.log
              .filter((l) => /VALIDATE|OFFSET|truncat|ERROR|Seek/i.test(l))
              .slice(-30)
              .join("\n"),
          );
          throw e;
        });
        const line = consumer.log.find((l) => /log truncation detected/i.test(l))!;
        console.log(line);
        expect(line).toMatch(/truncation detected at offset 200 \(leader epoch 0\): broker end offset is 100/);
        // Reset to INVALID: it does not go on reading (the new records were written before this check).
        expect(consumer.seen.filter((s) => s.value.startsWith("after-"))).toEqual([]);
      }),
    CLIENT_TEST_TIMEOUT,
  );
});
