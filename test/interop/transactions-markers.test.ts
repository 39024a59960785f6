// WriteTxnMarkers (API 27) as kafka-transactions.sh abort uses it: a
// confluent-kafka-python producer leaves a transaction open (the last stable
// offset is held at its first record), an operator finds it with
// DescribeProducers and aborts it with a hand-built WriteTxnMarkers request
// over TCP. read_committed consumers (librdkafka 2.0.2 and 2.15) then read past
// it and never see its records; Kafka's per-partition errors come back for an
// unknown topic or partition, an epoch that does not move forward
// (transactions v2), a stale coordinator epoch and a malformed producer id.

import { describe, expect, test } from "bun:test";
import type * as DescribeProducersResponse from "../../generated/DescribeProducersResponse.ts";
import type * as WriteTxnMarkersResponse from "../../generated/WriteTxnMarkersResponse.ts";
import { ErrorCode } from "../../src/protocol/errors.ts";
import { inProcessBroker } from "../helpers/broker.ts";
import { CLIENT_TEST_TIMEOUT, missing, nodeClient, py as pyScript } from "../helpers/clients.ts";
import { Holder } from "../helpers/txn-clients.ts";
import { connectWire } from "../helpers/wire-client.ts";

const py = <T = any>(bootstrap: string, ...args: string[]) => pyScript<T>("txn.py", bootstrap, args);
type Rec = [number, number, string];
const keys = (rs: Rec[]) => rs.map((r) => r[2]);

describe("WriteTxnMarkers", () => {
  test.skipIf(missing("python", "ckjs"))("an operator aborts a hanging transaction: read_committed consumers move past it; Kafka's errors for bad markers", async () => {
    const b = await inProcessBroker();
    // txn.py hold: commits hx-c0..c4 (offsets 0-4, marker 5), then leaves hx-o0..o4 (6-10) open and waits.
    const holder = Holder.start(b.bootstrap, "hang", 0, "hx", 600_000, "hg");
    const wire = await connectWire(b.port);
    try {
      await py(b.bootstrap, "create", "hang", "1");
      expect((await holder.ready()).ready).toBe(true);
      expect(await py(b.bootstrap, "watermarks", "hang", "0")).toEqual({ read_committed: 6, read_uncommitted: 11 });

      // What kafka-transactions.sh find-hanging / abort look at first.
      const described = await wire.call<DescribeProducersResponse.DescribeProducersResponse>(61, 0, { topics: [{ name: "hang", partitionIndexes: [0] }] });
      const hanging = described.topics[0]!.partitions[0]!.activeProducers.find((p) => Number(p.currentTxnStartOffset) === 6)!;
      expect(hanging).toBeDefined();

      const marker = (o: { producerId?: bigint; producerEpoch?: number; coordinatorEpoch?: number; transactionVersion?: number; topics?: { name: string; partitionIndexes: number[] }[] }) => ({
        producerId: hanging.producerId,
        producerEpoch: hanging.producerEpoch,
        transactionResult: false,
        coordinatorEpoch: hanging.coordinatorEpoch,
        transactionVersion: 0,
        topics: [{ name: "hang", partitionIndexes: [0] }],
        ...o,
      });
      const codes = (r: WriteTxnMarkersResponse.WriteTxnMarkersResponse) => r.markers.map((m) => m.topics.flatMap((t) => t.partitions.map((p) => p.errorCode)));

      const refused = await wire.call<WriteTxnMarkersResponse.WriteTxnMarkersResponse>(27, 2, {
        markers: [
          marker({ topics: [{ name: "nope", partitionIndexes: [0] }, { name: "hang", partitionIndexes: [7] }] }),
          // Transactions v2 markers must carry a bumped epoch.
          marker({ transactionVersion: 2 }),
          marker({ coordinatorEpoch: hanging.coordinatorEpoch - 1 }),
          marker({ producerId: -1n }),
        ],
      });
      expect(codes(refused)).toEqual([
        [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
        [ErrorCode.INVALID_PRODUCER_EPOCH],
        [ErrorCode.TRANSACTION_COORDINATOR_FENCED],
        [ErrorCode.INVALID_REQUEST],
      ]);
      // None of them wrote anything.
      expect(await py(b.bootstrap, "watermarks", "hang", "0")).toEqual({ read_committed: 6, read_uncommitted: 11 });

      const aborted = await wire.call<WriteTxnMarkersResponse.WriteTxnMarkersResponse>(27, 1, { markers: [marker({})] });
      expect(codes(aborted)).toEqual([[0]]);
      expect(aborted.markers[0]!.producerId).toBe(hanging.producerId);
      // The abort marker is offset 11: the last stable offset is free.
      expect(await py(b.bootstrap, "watermarks", "hang", "0")).toEqual({ read_committed: 12, read_uncommitted: 12 });
      const [pySeen, ckSeen] = await Promise.all([
        py<Rec[]>(b.bootstrap, "consume", "hang", "read_committed"),
        nodeClient<{ result: Rec[] }>("ckjs", "txn.mjs", b.bootstrap, ["consume", "hang", "read_committed"]),
      ]);
      const committed = ["hx-c0", "hx-c1", "hx-c2", "hx-c3", "hx-c4"];
      expect(keys(pySeen)).toEqual(committed);
      expect(keys(ckSeen.result)).toEqual(committed);
      const after = await wire.call<DescribeProducersResponse.DescribeProducersResponse>(61, 0, { topics: [{ name: "hang", partitionIndexes: [0] }] });
      expect(after.topics[0]!.partitions[0]!.activeProducers.map((p) => Number(p.currentTxnStartOffset))).toEqual([-1]);

      // The producer itself, still alive, aborts (its coordinator writes a second marker, as Kafka's would) and commits another transaction.
      expect((await holder.abortAndGoOn()).delivered.length).toBe(5);
      const later = await py<Rec[]>(b.bootstrap, "consume", "hang", "read_committed");
      expect(keys(later)).toEqual([...committed, "hx-n0", "hx-n1", "hx-n2", "hx-n3", "hx-n4"]);
    } finally {
      wire.close();
      await holder.kill9();
      await b.cleanup();
    }
  }, CLIENT_TEST_TIMEOUT);
});
