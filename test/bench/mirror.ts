// klite mirror throughput: two klite brokers (subprocesses, default
// durability), `klite bench produce` fills a topic on the source, then
// `klite mirror --once` copies it to the target. Prints the produce and
// consume figures (one consumer plus one producer can copy no faster than
// the slower of the two) and the mirror's MB/s (record batch bytes, wall clock of the mirror process
// including its start and topic creation) side by side. No thresholds.
//
//   bun test/bench/mirror.ts [--records N] [--record-size BYTES] [--partitions P]

import { join } from "node:path";
import { parseArgs } from "node:util";
import { ROOT, spawnBroker } from "../helpers/broker.ts";
import { KafkaClient, LATEST } from "../../src/client/client.ts";

const { values: opts } = parseArgs({
  options: {
    records: { type: "string", default: "500000" },
    "record-size": { type: "string", default: "1024" },
    partitions: { type: "string", default: "4" },
  },
});
const MAIN = join(ROOT, "src/main.ts");
const MB = 1024 * 1024;

function klite(args: string[]): string {
  const r = Bun.spawnSync([process.execPath, MAIN, ...args], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`klite ${args.join(" ")}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

async function topicBytes(bootstrap: string, topic: string): Promise<{ records: bigint }> {
  const c = new KafkaClient(bootstrap);
  try {
    const info = await c.topic(topic);
    const ends = await c.listOffsets(info, info.partitions.map((p) => p.partition), LATEST);
    return { records: [...ends.values()].reduce((a, b) => a + b, 0n) };
  } finally {
    c.close();
  }
}

const [src, dst] = await Promise.all([spawnBroker(), spawnBroker()]);
try {
  klite(["topic", "create", "bench", "-p", opts.partitions!, "-b", src.bootstrap]);
  const produced = JSON.parse(klite(["bench", "produce", "bench", "-n", opts.records!, "-s", opts["record-size"]!, "--format", "json", "-b", src.bootstrap]));
  const consumed = JSON.parse(klite(["bench", "consume", "bench", "--format", "json", "-b", src.bootstrap]));
  const started = performance.now();
  klite(["mirror", "--source", src.bootstrap, "--target", dst.bootstrap, "--topics", "bench", "--once"]);
  const seconds = (performance.now() - started) / 1000;
  const copied = await topicBytes(dst.bootstrap, "bench");
  const bytes = Number(copied.records) * Number(opts["record-size"]);
  console.log(`records ${opts.records} x ${opts["record-size"]} B, ${opts.partitions} partitions, two local klite brokers (fsync batch)`);
  console.log(`klite bench produce (source):  ${produced.mbPerSec?.toFixed?.(1) ?? JSON.stringify(produced)} MB/s`);
  console.log(`klite bench consume (source):  ${consumed.mbPerSec?.toFixed?.(1) ?? JSON.stringify(consumed)} MB/s`);
  console.log(`klite mirror --once:           ${(bytes / MB / seconds).toFixed(1)} MB/s of record values (${copied.records} records in ${seconds.toFixed(2)} s)`);
} finally {
  await Promise.all([src.cleanup(), dst.cleanup()]);
}
