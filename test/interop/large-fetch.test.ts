// Fetch responses of many megabytes, where record sections go to the socket
// by reference (mmapped sealed segments, freshly read active segments) and
// the socket drains across many writes. kcat must read back exactly what it
// wrote, in order, from a log with several sealed segments per partition.

import { expect, test } from "bun:test";
import { withInProcessBroker } from "../helpers/broker.ts";
import { CLIENT_TEST_TIMEOUT, kcat, missing } from "../helpers/clients.ts";

test.skipIf(missing("kcat"))(
  "kcat reads back 6 MB across sealed and active segments byte-identical",
  () =>
    withInProcessBroker({ segmentBytes: 1 << 20, defaultPartitions: 2 }, async (b) => {
      const lines: string[] = [];
      for (let i = 0; i < 6000; i++) lines.push(`${String(i).padStart(6, "0")}:${"abcdefghij".repeat(100).slice(i % 10)}${i % 7}`);
      await kcat(["-b", b.bootstrap, "-P", "-t", "big", "-K:", "-X", "linger.ms=50", "-X", "batch.size=1000000"], {
        stdin: lines.map((l) => `${l.slice(0, 6)}${l.slice(6)}`).join("\n") + "\n",
      });
      const sealed = [0, 1].map((p) => b.broker.topics.get("big")!.partitions[p]!.log.segmentCount);
      expect(Math.min(...sealed)).toBeGreaterThan(1);
      const out = await kcat(["-b", b.bootstrap, "-C", "-t", "big", "-e", "-f", "%p %o %k:%s\\n", "-X", "fetch.max.bytes=52428800", "-X", "max.partition.fetch.bytes=10485760"]);
      const got = out.trim().split("\n");
      expect(got.length).toBe(lines.length);
      const byPartition = new Map<string, string[]>();
      for (const g of got) {
        const [p, o, rest] = g.split(" ", 3) as [string, string, string];
        const list = byPartition.get(p) ?? [];
        expect(Number(o)).toBe(list.length);
        list.push(rest);
        byPartition.set(p, list);
      }
      expect([...byPartition.values()].flat().sort()).toEqual([...lines].sort());
    }),
  CLIENT_TEST_TIMEOUT,
);
