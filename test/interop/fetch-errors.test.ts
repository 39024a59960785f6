// A Fetch answer for a partition that carries an error still carries records,
// empty, as Kafka's does: librdkafka 2.15 reads null records as a protocol
// parse failure ("invalid MessageSetSize -1"), never sees the error and never
// resets its offset. Checked with the current librdkafka consumer starting
// from an out-of-range committed offset, and on the wire at every Fetch
// encoding (v4-v11 int32 length, v12+ compact length).

import { describe, expect, test } from "bun:test";
import type * as FetchResponse from "../../generated/FetchResponse.ts";
import { ErrorCode } from "../../src/protocol/errors.ts";
import { withInProcessBroker } from "../helpers/broker.ts";
import { CLIENT_TEST_TIMEOUT, kcat, missing, nodeClient } from "../helpers/clients.ts";
import { connectWire } from "../helpers/wire-client.ts";

type Reset = { result: { records: { offset: number; value: string }[]; position: number; protocolErrors: string[] } };
const reset = (bootstrap: string, topic: string, group: string, to: "earliest" | "latest", committed: number, n: number) =>
  nodeClient<Reset>("ckjs", "produce-checks.mjs", bootstrap, ["reset", topic, group, to, String(committed), String(n)]);

describe.concurrent("auto.offset.reset from an out-of-range committed offset, current librdkafka", () => {
  test.skipIf(missing("ckjs", "kcat"))("earliest: reads from the log start, no protocol error", () =>
    withInProcessBroker({}, async (b) => {
      await kcat(["-b", b.bootstrap, "-P", "-t", "reset-e", "-K:"], { stdin: "a:1\nb:2\nc:3\n" });
      const { result } = await reset(b.bootstrap, "reset-e", "g-earliest", "earliest", 1000, 3);
      expect(result.protocolErrors).toEqual([]);
      expect(result.records).toEqual([
        { offset: 0, value: "1" },
        { offset: 1, value: "2" },
        { offset: 2, value: "3" },
      ]);
    }),
    CLIENT_TEST_TIMEOUT,
  );

  test.skipIf(missing("ckjs", "kcat"))("latest: moves to the end, then reads what is produced after, no protocol error", () =>
    withInProcessBroker({}, async (b) => {
      await kcat(["-b", b.bootstrap, "-P", "-t", "reset-l", "-K:"], { stdin: "a:1\nb:2\nc:3\n" });
      const { result } = await reset(b.bootstrap, "reset-l", "g-latest", "latest", 1000, 2);
      expect(result.protocolErrors).toEqual([]);
      expect(result.records).toEqual([
        { offset: 3, value: "value-0" },
        { offset: 4, value: "value-1" },
      ]);
      expect(result.position).toBe(5);
    }),
    CLIENT_TEST_TIMEOUT,
  );
});

test("every Fetch version: error partitions carry empty records, never null", () =>
  withInProcessBroker({}, async (b) => {
    b.broker.topics.create("fe", 1, {});
    const topicId = b.broker.topics.get("fe")!.id;
    const c = await connectWire(b.port);
    try {
      for (let v = 4; v <= 18; v++) {
        const part = (partition: number, fetchOffset: bigint) => ({ partition, fetchOffset, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, logStartOffset: -1n, lastFetchedEpoch: -1 });
        const f = await c.call<FetchResponse.FetchResponse>(1, v, {
          replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
          topics: [
            { topic: "fe", topicId, partitions: [part(0, 99n), part(7, 0n)] },
            { topic: "nope", topicId: "0123456789abcdef0123456789abcdef", partitions: [part(0, 0n)] },
          ],
          forgottenTopicsData: [], rackId: "",
        });
        const parts = f.responses.flatMap((t) => t.partitions);
        expect(parts.map((p) => p.errorCode)).toEqual([
          ErrorCode.OFFSET_OUT_OF_RANGE,
          ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          v >= 13 ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        ]);
        for (const p of parts) {
          expect(p.records).not.toBeNull();
          expect(p.records!.length).toBe(0);
        }
      }
    } finally {
      c.close();
    }
  }));
