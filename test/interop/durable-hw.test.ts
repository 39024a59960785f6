// With --fsync group, a long-polling Fetch is woken when produced records
// become durable (the high watermark moves after the fsync, not at the
// write), and ListOffsets latest agrees with it. The Fetch waits up to ten
// minutes: without the wakeup it would hang past the test's timeout.

import { describe, expect, test } from "bun:test";
import type * as FetchResponse from "../../generated/FetchResponse.ts";
import type * as ListOffsetsResponse from "../../generated/ListOffsetsResponse.ts";
import { withInProcessBroker } from "../helpers/broker.ts";
import { connectWire, committedValues } from "../helpers/wire-client.ts";
import { CLIENT_TEST_TIMEOUT, kcat, missing } from "../helpers/clients.ts";

describe.concurrent("durable high watermark", () => {
  for (const fsync of ["group", "never"] as const) {
    test.skipIf(missing("kcat"))(`--fsync ${fsync}: a long-polling Fetch wakes for records produced after it started`, () =>
      withInProcessBroker({ fsync }, async (b) => {
        await kcat(["-b", b.bootstrap, "-P", "-t", "hw", "-K:"], { stdin: "k0:first\n" });
        const wire = await connectWire(b.port);
        try {
          const fetching = wire.call<FetchResponse.FetchResponse>(1, 11, {
            replicaId: -1, maxWaitMs: 600_000, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0,
            topics: [{ topic: "hw", partitions: [{ partition: 0, fetchOffset: 1n, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, logStartOffset: -1n }] }],
          });
          await kcat(["-b", b.bootstrap, "-P", "-t", "hw", "-K:", "-X", "acks=all"], { stdin: "k1:a\nk2:b\nk3:c\n" });
          const p = (await fetching).responses[0]!.partitions[0]!;
          expect(p.errorCode).toBe(0);
          // Woken by the first records that became visible (kcat may send them in more than one batch).
          const got = committedValues(p.records, null);
          expect(got.length).toBeGreaterThan(0);
          expect(["a", "b", "c"].slice(0, got.length)).toEqual(got);
          expect(p.highWatermark).toBe(BigInt(1 + got.length));
          // kcat waited for acks=all: everything is visible now.
          const lo = await wire.call<ListOffsetsResponse.ListOffsetsResponse>(2, 7, {
            replicaId: -1, isolationLevel: 0,
            topics: [{ name: "hw", partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }] }],
          });
          expect(lo.topics[0]!.partitions[0]!.offset).toBe(4n);
        } finally {
          wire.close();
        }
      }), CLIENT_TEST_TIMEOUT);
  }
});
