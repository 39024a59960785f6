// Bad input over raw TCP: every case gets a Kafka error code or a clean
// disconnect of that one connection, and the broker keeps serving others.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as MetadataRequest from "../../generated/MetadataRequest.ts";
import * as MetadataResponse from "../../generated/MetadataResponse.ts";
import * as ProduceRequest from "../../generated/ProduceRequest.ts";
import * as ProduceResponse from "../../generated/ProduceResponse.ts";
import * as CreateTopicsRequest from "../../generated/CreateTopicsRequest.ts";
import * as CreateTopicsResponse from "../../generated/CreateTopicsResponse.ts";
import * as ApiVersionsResponse from "../../generated/ApiVersionsResponse.ts";
import { Reader } from "../../src/protocol/reader.ts";
import { Writer } from "../../src/protocol/writer.ts";
import { ErrorCode } from "../../src/protocol/errors.ts";
import { inProcessBroker } from "../helpers/broker.ts";
import { runOk } from "../helpers/run.ts";

let broker: Awaited<ReturnType<typeof inProcessBroker>>;
beforeAll(async () => {
  broker = await inProcessBroker({ maxRequestBytes: 1 << 20 });
});
afterAll(async () => {
  await broker.cleanup();
});

/** A raw connection that collects response frames and notices a close. */
async function connect() {
  let buf = new Uint8Array(0);
  let closed = false;
  const sock = await Bun.connect({
    hostname: "127.0.0.1",
    port: broker.port,
    socket: {
      data(_s, d) {
        const n = new Uint8Array(buf.length + d.length);
        n.set(buf);
        n.set(d, buf.length);
        buf = n;
      },
      close() {
        closed = true;
      },
      error() {
        closed = true;
      },
    },
  });
  const waitUntil = async (cond: () => boolean, ms = 5000) => {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error("timed out");
      await Bun.sleep(5);
    }
  };
  return {
    send(bytes: Uint8Array) {
      sock.write(bytes);
    },
    /** The next response frame's body after the correlation id (header v0) or its tagged section (v1). */
    async response(headerV1 = false): Promise<Reader> {
      await waitUntil(() => buf.length >= 4 && buf.length >= 4 + new DataView(buf.buffer).getInt32(0));
      const size = new DataView(buf.buffer).getInt32(0);
      const frame = buf.slice(4, 4 + size);
      buf = buf.slice(4 + size);
      const r = new Reader(frame);
      r.int32();
      if (headerV1) r.taggedFields();
      return r;
    },
    async closedByBroker() {
      await waitUntil(() => closed);
      return true;
    },
    close() {
      sock.end();
    },
  };
}

function request(apiKey: number, version: number, body: Uint8Array, flexible: boolean, correlationId = 7): Uint8Array {
  const w = Writer.alloc(4 + 2 + 2 + 4 + 2 + 4 + (flexible ? 1 : 0) + body.length);
  w.int32(w.buf.length - 4);
  w.int16(apiKey);
  w.int16(version);
  w.int32(correlationId);
  w.string("test");
  if (flexible) w.uvarint(0);
  w.rawBytes(body);
  return w.buf;
}

/** The broker still answers a well-formed request on a new connection. */
async function stillServing() {
  const c = await connect();
  c.send(request(3, 12, MetadataRequest.encode({ topics: [] }, 12), true));
  const m = MetadataResponse.decode(await c.response(true), 12);
  expect(m.brokers[0]!.port).toBe(broker.port);
  c.close();
}

describe("bad input", () => {
  test("garbage bytes close the connection", async () => {
    const c = await connect();
    c.send(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    expect(await c.closedByBroker()).toBe(true);
    await stillServing();
  });

  test("an oversize size prefix is refused before anything is buffered", async () => {
    const c = await connect();
    const w = Writer.alloc(8);
    w.int32(0x7ffffff0);
    w.int32(0);
    c.send(w.buf);
    expect(await c.closedByBroker()).toBe(true);
    const d = await connect();
    const n = Writer.alloc(4);
    n.int32(-5);
    d.send(n.buf);
    expect(await d.closedByBroker()).toBe(true);
    await stillServing();
  });

  test("a truncated request body closes the connection", async () => {
    const c = await connect();
    const body = ProduceRequest.encode({ acks: 1, timeoutMs: 1000, topicData: [{ name: "t", partitionData: [{ index: 0, records: new Uint8Array(50) }] }] }, 9);
    const full = request(0, 9, body, true);
    // Claim the full size but describe fewer bytes inside: the frame ends mid-field.
    const cut = full.slice(0, full.length - 30);
    new DataView(cut.buffer).setInt32(0, cut.length - 4);
    c.send(cut);
    expect(await c.closedByBroker()).toBe(true);
    await stillServing();
  });

  test("an unknown api key or an unsupported version closes the connection; ApiVersions answers UNSUPPORTED_VERSION with our ranges", async () => {
    const c = await connect();
    c.send(request(999, 0, new Uint8Array(0), false));
    expect(await c.closedByBroker()).toBe(true);
    const d = await connect();
    d.send(request(3, 99, new Uint8Array(0), false));
    expect(await d.closedByBroker()).toBe(true);
    const e = await connect();
    e.send(request(18, 99, new Uint8Array(8), true));
    const av = ApiVersionsResponse.decode(await e.response(false), 0);
    expect(av.errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect(av.apiKeys.find((k) => k.apiKey === 18)).toMatchObject({ minVersion: 0, maxVersion: 4 });
    e.close();
    await stillServing();
  });

  test("invalid topic names get INVALID_TOPIC_EXCEPTION from Metadata and CreateTopics", async () => {
    const c = await connect();
    const names = ["bad name", "a/b", "..", "x".repeat(250), ""];
    c.send(request(3, 12, MetadataRequest.encode({ topics: names.map((name) => ({ name })), allowAutoTopicCreation: true }, 12), true));
    const m = MetadataResponse.decode(await c.response(true), 12);
    expect(m.topics.map((t) => t.errorCode)).toEqual(names.map(() => ErrorCode.INVALID_TOPIC_EXCEPTION));
    c.send(request(19, 7, CreateTopicsRequest.encode({ topics: [{ name: "bad name", numPartitions: 1, replicationFactor: 1 }], timeoutMs: 1000 }, 7), true));
    const ct = CreateTopicsResponse.decode(await c.response(true), 7);
    expect(ct.topics[0]!.errorCode).toBe(ErrorCode.INVALID_TOPIC_EXCEPTION);
    c.close();
  });

  test("produce to a partition that does not exist, and a corrupt batch, get per-partition errors", async () => {
    await runOk(["kcat", "-b", broker.bootstrap, "-P", "-t", "exists"], { stdin: "a\n" });
    const c = await connect();
    const junk = new Uint8Array(80);
    junk[16] = 2; // magic 2, but length and CRC are wrong
    new DataView(junk.buffer).setInt32(8, 68);
    const body = ProduceRequest.encode(
      {
        acks: -1,
        timeoutMs: 1000,
        topicData: [{ name: "exists", partitionData: [{ index: 5, records: junk }, { index: 0, records: junk }] }],
      },
      9,
    );
    c.send(request(0, 9, body, true));
    const res = ProduceResponse.decode(await c.response(true), 9);
    const parts = res.responses[0]!.partitionResponses;
    expect(parts.map((p) => p.errorCode)).toEqual([ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.CORRUPT_MESSAGE]);
    c.close();
    await stillServing();
  });

  test("pipelined requests are answered in order", async () => {
    const c = await connect();
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 50; i++) frames.push(request(3, i % 2 ? 12 : 4, MetadataRequest.encode({ topics: [] }, i % 2 ? 12 : 4), i % 2 === 1, 1000 + i));
    const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
    let off = 0;
    for (const f of frames) {
      all.set(f, off);
      off += f.length;
    }
    // Split at odd places to exercise partial and coalesced reads.
    for (let i = 0; i < all.length; i += 37) c.send(all.subarray(i, i + 37));
    for (let i = 0; i < 50; i++) {
      const r = await c.response(false);
      r.pos = 0;
      expect(r.int32()).toBe(1000 + i);
    }
    c.close();
  });
});
