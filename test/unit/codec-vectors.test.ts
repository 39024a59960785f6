// Hand-built byte vectors for flexible versions with tagged fields, and
// robustness: truncated and bit-flipped input only ever raises DecodeError.

import { describe, expect, test } from "bun:test";
import * as ApiVersionsResponse from "../../generated/ApiVersionsResponse.ts";
import * as FetchResponse from "../../generated/FetchResponse.ts";
import * as MetadataRequest from "../../generated/MetadataRequest.ts";
import * as ProduceRequest from "../../generated/ProduceRequest.ts";
import * as RequestHeader from "../../generated/RequestHeader.ts";
import { messages } from "../../generated/index.ts";
import { DecodeError, Reader } from "../../src/protocol/reader.ts";

const hex = (s: string) => Uint8Array.from(s.replace(/\s+/g, "").match(/../g)!.map((b) => parseInt(b, 16)));

describe("hand-built vectors", () => {
  test("ApiVersionsResponse v3 with tagged SupportedFeatures and FinalizedFeaturesEpoch", () => {
    const msg: ApiVersionsResponse.ApiVersionsResponseInit = {
      errorCode: 0,
      apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }],
      throttleTimeMs: 0,
      supportedFeatures: [{ name: "tv", minVersion: 0, maxVersion: 2 }],
      finalizedFeaturesEpoch: 5n,
    };
    const expected = hex(
      "0000" + // error code
        "02" + "0012" + "0000" + "0004" + "00" + // one api, empty tags
        "00000000" + // throttle
        "02" + // two tagged fields
        "00" + "09" + "02" + "03" + "7476" + "0000" + "0002" + "00" + // tag 0: [{tv,0,2}]
        "01" + "08" + "0000000000000005", // tag 1: epoch 5
    );
    expect(ApiVersionsResponse.encode(msg, 3)).toEqual(expected);
    const back = ApiVersionsResponse.decode(new Reader(expected), 3);
    expect(back.finalizedFeaturesEpoch).toBe(5n);
    expect(back.supportedFeatures).toEqual([{ name: "tv", minVersion: 0, maxVersion: 2, _unknownTaggedFields: undefined }]);
    expect(back.finalizedFeatures).toEqual([]);
    expect(back.zkMigrationReady).toBe(false);
  });

  test("unknown tagged fields survive decode and re-encode byte for byte", () => {
    // MetadataRequest v12: topics [ {id, name "a", tags{7: 0xAB}} ], allow auto, ops=false, tags{9: 0x0102}
    const bytes = hex(
      "02" + "00".repeat(16) + "02" + "61" + "01" + "07" + "01" + "ab" + "01" + "00" + "01" + "09" + "02" + "0102",
    );
    const m = MetadataRequest.decode(new Reader(bytes), 12);
    expect(m.topics![0]!.name).toBe("a");
    expect(m.topics![0]!._unknownTaggedFields).toEqual([{ tag: 7, data: hex("ab") }]);
    expect(m._unknownTaggedFields).toEqual([{ tag: 9, data: hex("0102") }]);
    expect(MetadataRequest.encode(m, 12)).toEqual(bytes);
  });

  test("request header v2 keeps the client id in classic (non-compact) form", () => {
    const bytes = hex("0003" + "000c" + "0000002a" + "0003" + "6b6361" + "00");
    const h = RequestHeader.decode(new Reader(bytes), 2);
    expect(h).toMatchObject({ requestApiKey: 3, requestApiVersion: 12, correlationId: 42, clientId: "kca" });
    expect(RequestHeader.encode(h, 2)).toEqual(bytes);
  });

  test("null records and a non-default value a version cannot carry", () => {
    const m: ProduceRequest.ProduceRequestInit = { acks: -1, timeoutMs: 1000, topicData: [{ name: "t", partitionData: [{ index: 0, records: null }] }] };
    const v3 = ProduceRequest.encode(m, 3);
    expect(ProduceRequest.decode(new Reader(v3), 3).topicData[0]!.partitionData[0]!.records).toBeNull();
    // v13 addresses topics by id; the name is ignorable, so it is dropped rather than refused.
    expect(() => ProduceRequest.encode(m, 13)).not.toThrow();
    // FetchResponse v4 cannot carry a non-default preferred read replica (v11+), and it is not ignorable.
    const f: FetchResponse.FetchResponseInit = { responses: [{ topic: "t", partitions: [{ partitionIndex: 0, preferredReadReplica: 3 }] }] };
    expect(() => FetchResponse.encode(f, 4)).toThrow(/PreferredReadReplica/);
    expect(() => FetchResponse.encode(f, 11)).not.toThrow();
  });
});

describe("robustness", () => {
  const samples: [string, number, Uint8Array][] = [];
  const produce = ProduceRequest.encode(
    { acks: -1, timeoutMs: 5, transactionalId: "tx", topicData: [{ name: "topic", partitionData: [{ index: 1, records: new Uint8Array(100).fill(7) }] }] },
    9,
  );
  samples.push(["ProduceRequest", 9, produce]);
  samples.push(["MetadataRequest", 12, MetadataRequest.encode({ topics: [{ name: "abc" }, { name: null, topicId: "0102030405060708090a0b0c0d0e0f10" }] }, 12)]);
  samples.push([
    "FetchResponse",
    16,
    FetchResponse.encode({ responses: [{ topicId: "0102030405060708090a0b0c0d0e0f10", partitions: [{ partitionIndex: 0, highWatermark: 5n, records: new Uint8Array(64) }] }], nodeEndpoints: [{ nodeId: 1, host: "h", port: 9 }] }, 16),
  ]);
  samples.push(["ApiVersionsResponse", 3, ApiVersionsResponse.encode({ apiKeys: [{ apiKey: 0, minVersion: 0, maxVersion: 13 }], supportedFeatures: [{ name: "x", minVersion: 1, maxVersion: 2 }] }, 3)]);

  const decodeWith = (name: string, v: number, b: Uint8Array) => (messages as unknown as Record<string, { decode(r: Reader, v: number): unknown }>)[name]!.decode(new Reader(b), v);

  test("every truncation throws DecodeError", () => {
    for (const [name, v, bytes] of samples) {
      for (let len = 0; len < bytes.length; len++) {
        let err: unknown = null;
        try {
          decodeWith(name, v, bytes.subarray(0, len));
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(DecodeError);
      }
    }
  });

  test("bit flips decode or throw DecodeError, and never allocate past the frame", () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
    let decoded = 0;
    let rejected = 0;
    for (const [name, v, bytes] of samples) {
      for (let i = 0; i < 3000; i++) {
        const b = bytes.slice();
        const flips = 1 + Math.floor(rand() * 3);
        for (let k = 0; k < flips; k++) b[Math.floor(rand() * b.length)]! ^= 1 << Math.floor(rand() * 8);
        try {
          const m = decodeWith(name, v, b);
          // Whatever decoded cannot hold more array slots than the frame has bytes.
          expect(countSlots(m)).toBeLessThanOrEqual(b.length);
          decoded++;
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
          rejected++;
        }
      }
    }
    expect(decoded).toBeGreaterThan(0);
    expect(rejected).toBeGreaterThan(0);
  });

  test("a huge array count is refused before anything is allocated", () => {
    // MetadataRequest v4: topics array with count 0x7fffffff and nothing after it.
    const b = hex("7fffffff");
    expect(() => decodeWith("MetadataRequest", 4, b)).toThrow(DecodeError);
    // Compact string claiming 2^31 bytes.
    expect(() => decodeWith("MetadataRequest", 12, hex("02" + "00".repeat(16) + "ffffffff07"))).toThrow(DecodeError);
  });
});

function countSlots(v: unknown): number {
  if (Array.isArray(v)) return v.length + v.reduce((n: number, x) => n + countSlots(x), 0);
  if (v && typeof v === "object" && !(v instanceof Uint8Array)) return Object.values(v).reduce((n: number, x) => n + countSlots(x), 0);
  return 0;
}
