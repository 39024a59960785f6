// Real client bytes: kcat (librdkafka 2.0.2) produces to a tiny capture
// listener that speaks just enough Kafka (ApiVersions, Metadata, Produce,
// ListOffsets, Fetch) for one topic with one partition. Every captured batch,
// in every codec, must pass validation and decode to what kcat was given, and
// our encoding of the same records must match librdkafka's byte for byte.
// The other way round, kcat consumes batches we built and compressed, with
// CRC checking on, and must print what we put in.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as ApiVersionsResponse from "../../generated/ApiVersionsResponse.ts";
import * as FetchRequest from "../../generated/FetchRequest.ts";
import * as FetchResponse from "../../generated/FetchResponse.ts";
import { requestHeaderVersion, responseHeaderVersion } from "../../generated/index.ts";
import * as ListOffsetsRequest from "../../generated/ListOffsetsRequest.ts";
import * as ListOffsetsResponse from "../../generated/ListOffsetsResponse.ts";
import * as MetadataRequest from "../../generated/MetadataRequest.ts";
import * as MetadataResponse from "../../generated/MetadataResponse.ts";
import * as ProduceRequest from "../../generated/ProduceRequest.ts";
import * as ProduceResponse from "../../generated/ProduceResponse.ts";
import * as RequestHeader from "../../generated/RequestHeader.ts";
import * as ResponseHeader from "../../generated/ResponseHeader.ts";
import { Codec, CODEC_NAMES } from "../../src/codec/compression.ts";
import { Reader } from "../../src/protocol/reader.ts";
import { validateProducedBatch } from "../../src/protocol/batch-validator.ts";
import { batchCrcMatches, batchRecordsBytes, buildBatch, decodeRecords, readBatchHeader, type KafkaRecord } from "../../src/protocol/records.ts";
import { defaultRules } from "./record-fixtures.ts";
import { FrameSplitter } from "../../src/server/frames.ts";
import { run } from "../helpers/run.ts";
import { CompressionTypes, Kafka, logLevel } from "kafkajs";

const KCAT = Bun.which("kcat");
const TOPIC = "t";

/**
 * Versions librdkafka 2.0.2 looks for before it enables message format v2 and every codec.
 * Produce is advertised from v0, as Kafka itself does (KAFKA-18659) and klite's spec does:
 * librdkafka before the fix of confluentinc/librdkafka#4956 checks codec support against
 * Produce v0 and silently sends gzip/snappy/lz4 uncompressed when Produce starts at v3.
 */
const API_RANGES: [number, number, number][] = [
  [0, 0, 7], // Produce
  [1, 4, 11], // Fetch
  [2, 1, 5], // ListOffsets
  [3, 1, 7], // Metadata
  [8, 0, 2], // OffsetCommit } advertised only so that librdkafka's feature
  [9, 0, 1], // OffsetFetch  } checks pass; never called by a plain
  [10, 0, 2], // FindCoordinator producer or an assigned consumer
  [11, 0, 0], // JoinGroup
  [12, 0, 0], // Heartbeat
  [13, 0, 0], // LeaveGroup
  [14, 0, 0], // SyncGroup
  [18, 0, 3], // ApiVersions
];

interface Capture {
  port: number;
  /** The `records` field of every partition of every Produce request, in arrival order. */
  produced: Uint8Array[];
  /** What Fetch serves: whole batches, and the offset after the last one. */
  serve(batches: Uint8Array, highWatermark: number): void;
  stop(): void;
}

function startCapture(): Capture {
  const produced: Uint8Array[] = [];
  let served: Uint8Array = new Uint8Array(0);
  let hw = 0;
  const respond = (key: number, version: number, r: Reader, port: number): Uint8Array | null => {
    switch (key) {
      case 18:
        return ApiVersionsResponse.encode({ errorCode: 0, apiKeys: API_RANGES.map(([apiKey, minVersion, maxVersion]) => ({ apiKey, minVersion, maxVersion })) }, Math.min(version, 3));
      case 3: {
        const req = MetadataRequest.decode(r, version);
        const names = req.topics === null ? [TOPIC] : req.topics.map((t) => t.name ?? TOPIC);
        return MetadataResponse.encode(
          {
            brokers: [{ nodeId: 1, host: "127.0.0.1", port }],
            clusterId: "capture",
            controllerId: 1,
            topics: names.map((name) => ({ name, partitions: [{ partitionIndex: 0, leaderId: 1, leaderEpoch: 0, replicaNodes: [1], isrNodes: [1] }] })),
          },
          version,
        );
      }
      case 0: {
        const req = ProduceRequest.decode(r, version);
        for (const t of req.topicData) for (const p of t.partitionData) if (p.records) produced.push(p.records.slice());
        if (req.acks === 0) return null;
        const partitionResponses = (t: ProduceRequest.TopicProduceData) => t.partitionData.map((p) => ({ index: p.index, errorCode: 0, baseOffset: 0n }));
        return ProduceResponse.encode({ responses: req.topicData.map((t) => ({ name: t.name, partitionResponses: partitionResponses(t) })) }, version);
      }
      case 2: {
        const req = ListOffsetsRequest.decode(r, version);
        const answer = (ts: bigint) => ({ partitionIndex: 0, errorCode: 0, timestamp: -1n, offset: ts === -2n ? 0n : BigInt(hw), leaderEpoch: version >= 4 ? 0 : -1 });
        return ListOffsetsResponse.encode({ topics: req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => answer(p.timestamp)) })) }, version);
      }
      case 1: {
        const req = FetchRequest.decode(r, version);
        const partition = (p: FetchRequest.FetchPartition) => ({
          partitionIndex: p.partition,
          errorCode: 0,
          highWatermark: BigInt(hw),
          lastStableOffset: BigInt(hw),
          logStartOffset: 0n,
          abortedTransactions: [],
          // Whole batches from the start; the client skips records below its fetch offset.
          records: Number(p.fetchOffset) < hw ? served : new Uint8Array(0),
        });
        return FetchResponse.encode({ responses: req.topics.map((t) => ({ topic: t.topic, partitions: t.partitions.map(partition) })) }, version);
      }
      default:
        throw new Error(`capture listener: unexpected api ${key} v${version}`);
    }
  };
  const server = Bun.listen<{ splitter: FrameSplitter }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        s.data = { splitter: new FrameSplitter(64 << 20) };
      },
      data(s, chunk) {
        const frames: Uint8Array[] = [];
        s.data.splitter.push(chunk.slice(), frames);
        for (const f of frames) {
          const r = new Reader(f);
          const key = r.view.getInt16(0);
          const version = r.view.getInt16(2);
          const header = RequestHeader.decode(r, requestHeaderVersion(key, version));
          let body: Uint8Array | null;
          try {
            body = respond(key, version, r, server.port);
          } catch {
            s.end();
            return;
          }
          if (body === null) continue;
          const head = ResponseHeader.encode({ correlationId: header.correlationId }, responseHeaderVersion(key, version));
          const size = new Uint8Array(4);
          new DataView(size.buffer).setInt32(0, head.length + body.length);
          s.write(Uint8Array.from([...size, ...head, ...body]));
        }
      },
    },
  });
  return {
    port: server.port,
    produced,
    serve(batches, highWatermark) {
      served = batches;
      hw = highWatermark;
    },
    stop: () => server.stop(true),
  };
}

// 300 keyed messages, repetitive enough to compress, and one without a key.
const LINES = [...Array.from({ length: 300 }, (_, i) => `k${i}:value-${i}-${"x".repeat(i % 60)}`), "no key here"];
const CODECS = [Codec.NONE, Codec.GZIP, Codec.SNAPPY, Codec.LZ4, Codec.ZSTD];
const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

describe.skipIf(!KCAT)("real client batches (kcat / librdkafka 2.0.2)", () => {
  let cap: Capture;
  beforeAll(() => {
    cap = startCapture();
  });
  afterAll(() => cap.stop());

  for (const codec of CODECS) {
    const name = CODEC_NAMES[codec];
    test(`produce with -z ${name}: CRC, validation, decoding, and byte-identical re-encoding`, async () => {
      const before = cap.produced.length;
      const res = await run(
        [KCAT!, "-P", "-b", `127.0.0.1:${cap.port}`, "-t", TOPIC, "-p", "0", "-z", name, "-K", ":", "-H", "trace=abc", "-H", "empty=", "-X", "linger.ms=200"],
        { stdin: LINES.join("\n") + "\n", timeoutMs: 30_000 },
      );
      expect(res.code).toBe(0);
      const blobs = cap.produced.slice(before);
      expect(blobs.length).toBeGreaterThan(0);
      const records: KafkaRecord[] = [];
      for (const blob of blobs) {
        // Produce carries one batch per partition, which passes klite's produce checks as is.
        for (const batch of [blob]) {
          expect(validateProducedBatch(blob, defaultRules(Date.now()))).toBe(blob);
          const h = readBatchHeader(batch);
          expect(h.codec).toBe(codec);
          expect(h.magic).toBe(2);
          expect(batchCrcMatches(batch)).toBe(true);
          const decoded = decodeRecords(batch);
          records.push(...decoded);
          // Our encoder, given the same records and header fields, writes librdkafka's bytes.
          const ours = buildBatch({
            records: decoded.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp })),
            baseOffset: h.baseOffset,
            partitionLeaderEpoch: h.partitionLeaderEpoch,
            baseTimestamp: h.baseTimestamp,
            producerId: h.producerId,
            producerEpoch: h.producerEpoch,
            baseSequence: h.baseSequence,
          });
          expect(ours.subarray(61)).toEqual(batchRecordsBytes(batch));
          if (codec === Codec.NONE) expect(ours).toEqual(batch);
        }
      }
      expect(records.map((r) => [text(r.key), text(r.value)])).toEqual(
        LINES.map((l) => {
          const at = l.indexOf(":");
          return at < 0 ? [null, l] : [l.slice(0, at), l.slice(at + 1)];
        }),
      );
      for (const r of records) expect(r.headers.map((h) => [h.key, text(h.value)])).toEqual([
        ["trace", "abc"],
        ["empty", ""],
      ]);
    });

    test(`consume our ${name} batches with CRC checks on`, async () => {
      const first = Array.from({ length: 150 }, (_, i) => ({ key: `k${i}`, value: `ours-${i}-${"y".repeat(i % 50)}`, headers: [{ key: "n", value: `${i}` }], timestamp: 1_700_000_000_000 + i }));
      const second = [{ key: null, value: "tail record" }];
      const batches = Uint8Array.from([
        ...buildBatch({ records: first, codec, baseOffset: 0, partitionLeaderEpoch: 0 }),
        ...buildBatch({ records: second, codec, baseOffset: first.length, partitionLeaderEpoch: 0 }),
      ]);
      cap.serve(batches, first.length + second.length);
      const res = await run([KCAT!, "-C", "-b", `127.0.0.1:${cap.port}`, "-t", TOPIC, "-p", "0", "-o", "beginning", "-e", "-J", "-X", "check.crcs=true"], { timeoutMs: 30_000 });
      expect(res.stderr).not.toMatch(/ERROR|CRC|corrupt/i);
      expect(res.code).toBe(0);
      const got = res.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { offset: number; key: string | null; payload: string; ts: number; headers?: string[] });
      expect(got.map((m) => m.offset)).toEqual(Array.from({ length: 151 }, (_, i) => i));
      expect(got.slice(0, 150).map((m) => [m.key, m.payload, m.ts, m.headers])).toEqual(first.map((r, i) => [r.key, r.value, r.timestamp, ["n", `${i}`]]));
      expect(got[150]!.key).toBeNull();
      expect(got[150]!.payload).toBe("tail record");
    });
  }
});

describe("real client batches (KafkaJS 2.2.4, pure JavaScript)", () => {
  test("gzip and uncompressed batches validate and decode", async () => {
    const cap = startCapture();
    const kafka = new Kafka({ clientId: "codec-test", brokers: [`127.0.0.1:${cap.port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    try {
      await producer.connect();
      const messages = Array.from({ length: 200 }, (_, i) => ({
        key: i === 7 ? null : `key-${i}`,
        value: i === 9 ? null : `kafkajs value ${i} ${"z".repeat(i % 30)}`,
        headers: { n: `${i}` },
        timestamp: `${1_700_000_000_000 + i}`,
      }));
      for (const compression of [CompressionTypes.None, CompressionTypes.GZIP]) {
        const before = cap.produced.length;
        await producer.send({ topic: TOPIC, compression, messages });
        const blobs = cap.produced.slice(before);
        expect(blobs).toHaveLength(1);
        const stored = readBatchHeader(validateProducedBatch(blobs[0]!, defaultRules(1_700_000_000_000)));
        expect(stored.codec).toBe(compression === CompressionTypes.GZIP ? Codec.GZIP : Codec.NONE);
        expect(stored.maxTimestamp).toBe(1_700_000_000_199);
        const records = decodeRecords(blobs[0]!);
        expect(records.map((r) => [text(r.key), text(r.value), r.timestamp, r.headers.map((h) => [h.key, text(h.value)])])).toEqual(
          messages.map((m, i) => [m.key, m.value, Number(m.timestamp), [["n", `${i}`]]]),
        );
      }
    } finally {
      await producer.disconnect();
      cap.stop();
    }
  });
});
