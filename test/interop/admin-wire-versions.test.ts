// Every advertised version of the storage admin APIs over one raw connection
// (the clients each speak only one version of them): DescribeLogDirs v1-5,
// ElectLeaders v0-2, ListConfigResources v0-1, DescribeTopicPartitions v0,
// and the requests Kafka refuses as a whole.

import { expect, test } from "bun:test";
import { withInProcessBroker } from "../helpers/broker.ts";
import { connectWire } from "../helpers/wire-client.ts";

test("storage admin APIs answer at every advertised version", () =>
  withInProcessBroker({}, async (b) => {
    b.broker.topics.create("wv", 2, {});
    const w = await connectWire(b.port);
    try {
      for (let v = 1; v <= 5; v++) {
        const r = await w.call<any>(35, v, { topics: null });
        expect([v, r.results.length, r.results[0].logDir, r.results[0].topics.map((t: any) => [t.name, t.partitions.length])]).toEqual([v, 1, b.dataDir, [["wv", 2]]]);
        // Volume sizes exist from v4; below that the field is absent and decodes to its default.
        expect(r.results[0].totalBytes > 0n).toBe(v >= 4);
      }
      for (let v = 0; v <= 2; v++) {
        const r = await w.call<any>(43, v, { electionType: 0, topicPartitions: [{ topic: "wv", partitions: [1, 5] }], timeoutMs: 1000 });
        expect(r.replicaElectionResults).toEqual([
          {
            topic: "wv",
            partitionResult: [
              { partitionId: 1, errorCode: 84, errorMessage: "Leader election not needed for topic partition." },
              { partitionId: 5, errorCode: 3, errorMessage: "No such partition as wv-5" },
            ],
          },
        ]);
      }
      expect((await w.call<any>(43, 2, { electionType: 7, topicPartitions: null, timeoutMs: 1000 })).errorCode).toBe(42); // INVALID_REQUEST
      expect((await w.call<any>(43, 1, { electionType: 1, topicPartitions: null, timeoutMs: 1000 })).replicaElectionResults).toEqual([{ topic: "wv", partitionResult: [] }]);

      expect(await w.call<any>(74, 0, {})).toMatchObject({ errorCode: 0, configResources: [] });
      expect((await w.call<any>(74, 1, { resourceTypes: [2, 4] })).configResources).toEqual([
        { resourceName: String(b.broker.nodeId), resourceType: 4 },
        { resourceName: "wv", resourceType: 2 },
      ]);
      expect((await w.call<any>(74, 1, { resourceTypes: [32, 16] })).configResources).toEqual([]);

      const dtp = await w.call<any>(75, 0, { topics: [{ name: "wv" }], responsePartitionLimit: 1, cursor: { topicName: "wv", partitionIndex: 1 } });
      expect(dtp.topics.map((t: any) => [t.name, t.partitions.map((p: any) => p.partitionIndex)])).toEqual([["wv", [1]]]);
      expect(dtp.nextCursor).toBeNull();
    } finally {
      w.close();
    }
  }));
