// Many large produce requests written at once on one connection, with group
// fsync so that answers wait for the disk. Reading pauses while 64 requests
// are in hand, and each produce frame's buffer is reused as soon as its
// records are written, before the fsync. Every request must still be
// answered, in order, with the offsets of its batches, and the log must hold
// exactly what was sent: a buffer reused too early would show in the bytes.

import { expect, test } from "bun:test";
import * as ProduceRequest from "../../generated/ProduceRequest.ts";
import * as ProduceResponse from "../../generated/ProduceResponse.ts";
import * as RequestHeader from "../../generated/RequestHeader.ts";
import { requestHeaderVersion } from "../../generated/index.ts";
import { Reader } from "../../src/protocol/reader.ts";
import { batchCrcMatches, buildBatch, decodeRecords, readBatchHeader } from "../../src/protocol/records.ts";
import type * as FetchResponse from "../../generated/FetchResponse.ts";
import { connectWire } from "../helpers/wire-client.ts";
import { withInProcessBroker } from "../helpers/broker.ts";
import { frameReader } from "../helpers/frames.ts";
import { waitFor } from "../helpers/run.ts";

const REQUESTS = 60;
const RECORDS = 90;
const VALUE = 10_000; // ~0.9 MB per request (under max.message.bytes), ~54 MB in all

test("60 pipelined 0.9 MB produce requests are all answered in order with contiguous offsets", () =>
  withInProcessBroker({ fsync: "group" }, async (b) => {
    b.broker.topics.create("pp", 1, {});
    const frames: Uint8Array[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      // Every request's values differ, so a frame buffer reused too early would show in the log.
      const value = new Uint8Array(VALUE).fill(i + 1);
      const records = buildBatch({ records: Array.from({ length: RECORDS }, (_, j) => ({ key: `${i}-${j}`, value })) });
      const header = RequestHeader.encode({ requestApiKey: 0, requestApiVersion: 9, correlationId: i, clientId: "pp" }, requestHeaderVersion(0, 9));
      const body = ProduceRequest.encode({ transactionalId: null, acks: -1, timeoutMs: 30_000, topicData: [{ name: "pp", partitionData: [{ index: 0, records }] }] }, 9);
      const f = new Uint8Array(4 + header.length + body.length);
      new DataView(f.buffer).setInt32(0, header.length + body.length);
      f.set(header, 4);
      f.set(body, 4 + header.length);
      frames.push(f);
    }
    const answers: { correlationId: number; errorCode: number; baseOffset: bigint }[] = [];
    const onData = frameReader((frame) => {
      const r = new Reader(frame);
      const correlationId = r.int32();
      r.taggedFields();
      const p = ProduceResponse.decode(r, 9).responses[0]!.partitionResponses[0]!;
      answers.push({ correlationId, errorCode: p.errorCode, baseOffset: p.baseOffset });
    });
    const sock = await Bun.connect({
      hostname: "127.0.0.1",
      port: b.port,
      socket: {
        data(_s, d) {
          onData(d);
        },
      },
    });
    // Write everything at once; Bun queues what the socket does not take yet.
    let pending = frames.slice();
    const pump = () => {
      while (pending.length) {
        const f = pending[0]!;
        const n = sock.write(f);
        if (n < f.length) {
          pending[0] = f.subarray(Math.max(0, n));
          return;
        }
        pending.shift();
      }
    };
    const timer = setInterval(pump, 1);
    pump();
    await waitFor(() => answers.length === REQUESTS, 60_000, "all answers");
    clearInterval(timer);
    sock.end();
    expect(answers.map((a) => a.correlationId)).toEqual(frames.map((_, i) => i));
    expect(answers.every((a) => a.errorCode === 0)).toBe(true);
    expect(answers.map((a) => Number(a.baseOffset))).toEqual(frames.map((_, i) => i * RECORDS));
    expect(b.broker.topics.get("pp")!.partitions[0]!.log.logEndOffset).toBe(REQUESTS * RECORDS);

    // Read it all back and compare every record.
    const wire = await connectWire(b.port);
    try {
      let offset = 0;
      while (offset < REQUESTS * RECORDS) {
        const f = await wire.call<FetchResponse.FetchResponse>(1, 11, {
          replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 8 << 20, isolationLevel: 0,
          topics: [{ topic: "pp", partitions: [{ partition: 0, fetchOffset: BigInt(offset), partitionMaxBytes: 8 << 20, currentLeaderEpoch: -1, logStartOffset: -1n }] }],
        });
        const records = f.responses[0]!.partitions[0]!.records!;
        expect(records.length).toBeGreaterThan(0);
        for (let pos = 0; pos < records.length; pos += readBatchHeader(records, pos).sizeInBytes) {
          const batch = records.subarray(pos, pos + readBatchHeader(records, pos).sizeInBytes);
          expect(batchCrcMatches(batch)).toBe(true);
          for (const r of decodeRecords(batch)) {
            const i = Math.floor(r.offset / RECORDS);
            expect(new TextDecoder().decode(r.key!)).toBe(`${i}-${r.offset % RECORDS}`);
            expect(r.value!.length).toBe(VALUE);
            expect(r.value!.every((x) => x === i + 1)).toBe(true);
            offset = r.offset + 1;
          }
        }
      }
    } finally {
      wire.close();
    }
  }), 120_000);
