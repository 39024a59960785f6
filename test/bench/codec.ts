// Protocol codec benchmark: klite's generated codecs (and its RecordBatch v2
// reader/writer) against the protocol layers of KafkaJS and @platformatic/kafka,
// loaded by path into this same Bun process.
//
// Usage: bun test/bench/codec.ts [--time=1000] [--runs=3] [--records=16] [--value=1024]
//                                [--headers=0] [--only=produce,fetch,metadata]
//
// Each measurement: a warm-up, then `runs` runs of about `time` ms; the median
// run's ops/s is reported. MB/s counts the wire bytes of the message produced
// (encode) or consumed (decode) at that side's version, MB = 10^6 bytes.
// Every side's output is checked before anything is timed: produce requests
// are decoded back with klite and their records compared with the input, and
// fetch/metadata responses built once with klite's encoders are decoded by
// each peer and compared field by field.

import { createRequire } from "node:module";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import * as FetchResponse from "../../generated/FetchResponse.ts";
import * as MetadataRequest from "../../generated/MetadataRequest.ts";
import * as MetadataResponse from "../../generated/MetadataResponse.ts";
import * as ProduceRequest from "../../generated/ProduceRequest.ts";
import { Reader } from "../../src/protocol/reader.ts";
import { buildBatch, decodeRecords, readBatchHeader, type KafkaRecord, type RecordInit } from "../../src/protocol/records.ts";

// ---------------------------------------------------------------- options

function opt(name: string, dflt: number): number {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.slice(name.length + 3)) : dflt;
}
const TIME_MS = opt("time", 1000);
const RUNS = opt("runs", 3);
const WARMUP_MS = Math.min(500, Math.max(100, TIME_MS / 2));
const PARTITIONS = 10;
const RECORDS = opt("records", 16);
const VALUE_BYTES = opt("value", 1024);
const HEADERS = opt("headers", 0);
const ONLY = (process.argv.find((x) => x.startsWith("--only="))?.slice(7) ?? "produce,fetch,metadata").split(",");

// ---------------------------------------------------------------- peers, by path

const ROOT = join(import.meta.dir, "../..");
const NM = join(ROOT, "node_modules");
const require = createRequire(import.meta.url);

// KafkaJS ships no types for its protocol internals: the shapes we use, declared here.
interface KjsEncoder {
  buffer: Buffer;
  writeString(s: string | null): KjsEncoder;
  writeInt16(v: number): KjsEncoder;
  writeInt32(v: number): KjsEncoder;
  writeBuffer(b: Buffer): KjsEncoder;
  writeArray(a: unknown[]): KjsEncoder;
}
interface KjsRequest {
  apiVersion: number;
  encode(): Promise<KjsEncoder>;
}
interface KjsMessage {
  key: Buffer;
  value: Buffer;
  timestamp: number;
  headers?: Record<string, Buffer>;
}
interface KjsRecord {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer>;
}
interface KjsFetchResponse {
  responses: { topicName: string; partitions: { partition: number; highWatermark: string; messages: KjsRecord[] }[] }[];
}
interface KjsMetadataResponse {
  brokers: { nodeId: number; host: string; port: number; rack: string | null }[];
  clusterId: string;
  controllerId: number;
  topicMetadata: { topic: string; partitionMetadata: { partitionId: number; leader: number; replicas: number[]; isr: number[] }[] }[];
}
type KjsProduce = (a: { acks: number; timeout: number; compression: number; topicData: { topic: string; partitions: { partition: number; messages: KjsMessage[] }[] }[] }) => KjsRequest;
type KjsMetadata = (a: { topics: string[]; allowAutoTopicCreation: boolean }) => KjsRequest;
interface KjsDecoder<T> {
  decode(b: Buffer): Promise<T>;
}

const kjs = {
  version: (require(join(NM, "kafkajs/package.json")) as { version: string }).version,
  Encoder: require(join(NM, "kafkajs/src/protocol/encoder.js")) as new () => KjsEncoder,
  produceV7: require(join(NM, "kafkajs/src/protocol/requests/produce/v7/request.js")) as KjsProduce,
  fetchV11: require(join(NM, "kafkajs/src/protocol/requests/fetch/v11/response.js")) as KjsDecoder<KjsFetchResponse>,
  metadataV6: require(join(NM, "kafkajs/src/protocol/requests/metadata/v6/request.js")) as KjsMetadata,
  metadataV6Response: require(join(NM, "kafkajs/src/protocol/requests/metadata/v6/response.js")) as KjsDecoder<KjsMetadataResponse>,
};

// @platformatic/kafka is ESM with declarations; its package exports hide these files, so they are loaded by path.
interface PltWriter {
  buffer: Buffer;
  appendString(s: string | null | undefined): PltWriter;
  appendInt16(v: number): PltWriter;
  appendInt32(v: number): PltWriter;
  appendUnsignedVarInt(v: number): PltWriter;
  append(b: Buffer): PltWriter;
  appendArray<T>(a: T[], f: (w: PltWriter, e: T) => void): PltWriter;
  appendTaggedFields(): PltWriter;
}
interface PltMessage {
  topic: string;
  partition: number;
  key: Buffer;
  value: Buffer;
  timestamp: bigint;
  headers?: Map<Buffer, Buffer>;
}
interface PltRecord {
  timestampDelta: bigint;
  offsetDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: [Buffer, Buffer][];
}
interface PltBatch {
  firstOffset: bigint;
  firstTimestamp: bigint;
  records: PltRecord[];
}
interface PltFetchResponse {
  responses: { topicId: string; partitions: { partitionIndex: number; highWatermark: bigint; records: PltBatch[] | null }[] }[];
}
interface PltMetadataResponse {
  brokers: { nodeId: number; host: string; port: number; rack: string | null }[];
  clusterId: string | null;
  controllerId: number;
  topics: { name: string | null; topicId: string; partitions: { partitionIndex: number; leaderId: number; replicaNodes: number[]; isrNodes: number[] }[] }[];
}
type PltParse<T> = (correlationId: number, apiKey: number, apiVersion: number, reader: unknown) => T;
const PLT = join(NM, "@platformatic/kafka/dist");
const pltMods = {
  writer: (await import(join(PLT, "protocol/writer.js"))) as { Writer: { create(): PltWriter } },
  reader: (await import(join(PLT, "protocol/reader.js"))) as { Reader: { from(b: Buffer): unknown } },
  produce: (await import(join(PLT, "apis/producer/produce-v11.js"))) as {
    createRequest(acks: number, timeout: number, messages: PltMessage[], options: { producerId?: bigint }): PltWriter;
  },
  fetch: (await import(join(PLT, "apis/consumer/fetch-v17.js"))) as { parseResponse: PltParse<PltFetchResponse> },
  metadata: (await import(join(PLT, "apis/metadata/metadata-v12.js"))) as {
    createRequest(topics: string[], allowAutoTopicCreation: boolean, includeTopicAuthorizedOperations: boolean): PltWriter;
    parseResponse: PltParse<PltMetadataResponse>;
  },
};
const plt = {
  version: (require(join(NM, "@platformatic/kafka/package.json")) as { version: string }).version,
  Writer: pltMods.writer.Writer,
  Reader: pltMods.reader.Reader,
  ...pltMods,
};

// ---------------------------------------------------------------- harness

let sink: unknown = null;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function gc(): void {
  Bun.gc(true);
}

/** ops/s, median of RUNS timed runs after a warm-up; checks the clock every ~1 ms of work. */
function timeSync(fn: () => unknown): number {
  gc();
  let n = 0;
  const w0 = performance.now();
  while (performance.now() - w0 < WARMUP_MS) {
    sink = fn();
    n++;
  }
  const step = Math.max(1, Math.round(n / WARMUP_MS));
  const rates: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    gc();
    let ops = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < TIME_MS) {
      for (let i = 0; i < step; i++) sink = fn();
      ops += step;
      t = performance.now();
    }
    rates.push((ops * 1000) / (t - t0));
  }
  return median(rates);
}

async function timeAsync(fn: () => Promise<unknown>): Promise<number> {
  gc();
  let n = 0;
  const w0 = performance.now();
  while (performance.now() - w0 < WARMUP_MS) {
    sink = await fn();
    n++;
  }
  const step = Math.max(1, Math.round(n / WARMUP_MS));
  const rates: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    gc();
    let ops = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < TIME_MS) {
      for (let i = 0; i < step; i++) sink = await fn();
      ops += step;
      t = performance.now();
    }
    rates.push((ops * 1000) / (t - t0));
  }
  return median(rates);
}

type Side = "klite" | "KafkaJS" | "platformatic";
interface Row {
  side: Side;
  version: number;
  variant: string;
  ops: number;
  bytes: number;
}
interface CaseResult {
  title: string;
  does: string[];
  rows: Row[];
  /** Pairs for the ratio column: [klite row, peer row]. */
  compare: [Row, Row][];
}
const results: CaseResult[] = [];

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`verification failed: ${what}`);
}
function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

// ---------------------------------------------------------------- data

const TOPIC = "bench-topic";
const TOPIC_ID = "6b1c3e0f9a2d4c51b7e8f0a1d2c3b4a5";
const TOPIC_ID_DASHED = `${TOPIC_ID.slice(0, 8)}-${TOPIC_ID.slice(8, 12)}-${TOPIC_ID.slice(12, 16)}-${TOPIC_ID.slice(16, 20)}-${TOPIC_ID.slice(20)}`;
const T0 = 1_700_000_000_000;
const enc = new TextEncoder();

interface SourceRecord {
  key: Buffer;
  value: Buffer;
  timestamp: number;
  headers: { key: string; value: Buffer }[];
}

// Values are pseudo-random bytes so nothing compresses or short-circuits on zeros.
let seed = 42;
function randomBytes(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    b[i] = seed >>> 24;
  }
  return b;
}

const source: SourceRecord[][] = [];
for (let p = 0; p < PARTITIONS; p++) {
  const recs: SourceRecord[] = [];
  for (let i = 0; i < RECORDS; i++) {
    const headers = [];
    for (let h = 0; h < HEADERS; h++) headers.push({ key: `h${h}`, value: Buffer.from(`header-value-${h}`) });
    recs.push({ key: Buffer.from(`key-${p}-${String(i).padStart(6, "0")}`), value: randomBytes(VALUE_BYTES), timestamp: T0 + i, headers });
  }
  source.push(recs);
}
const recordBytes = source[0]!.reduce((n, r) => n + r.key.length + r.value.length, 0);

// Each side's own input shape, built once: conversions are not part of the timing.
const kliteRecords: RecordInit[][] = source.map((recs) =>
  recs.map((r) => (HEADERS ? { key: r.key, value: r.value, timestamp: r.timestamp, headers: r.headers } : { key: r.key, value: r.value, timestamp: r.timestamp })),
);
const kjsTopicData = [
  {
    topic: TOPIC,
    partitions: source.map((recs, p) => ({
      partition: p,
      messages: recs.map((r): KjsMessage => {
        const m: KjsMessage = { key: r.key, value: r.value, timestamp: r.timestamp };
        if (HEADERS) m.headers = Object.fromEntries(r.headers.map((h) => [h.key, h.value]));
        return m;
      }),
    })),
  },
];
const pltMessages: PltMessage[] = source.flatMap((recs, p) =>
  recs.map((r): PltMessage => {
    const m: PltMessage = { topic: TOPIC, partition: p, key: r.key, value: r.value, timestamp: BigInt(r.timestamp) };
    if (HEADERS) m.headers = new Map(r.headers.map((h) => [Buffer.from(h.key), h.value]));
    return m;
  }),
);

/** All records of a records blob (one or more whole batches), with klite's RecordBatch reader. */
function kliteParseRecords(blob: Uint8Array): KafkaRecord[] {
  const out: KafkaRecord[] = [];
  let pos = 0;
  while (pos < blob.length) {
    const size = readBatchHeader(blob, pos).sizeInBytes;
    const recs = decodeRecords(blob.subarray(pos, pos + size));
    for (let i = 0; i < recs.length; i++) out.push(recs[i]!);
    pos += size;
  }
  return out;
}

function checkRecords(got: KafkaRecord[], want: SourceRecord[], baseOffset: number, what: string): void {
  check(got.length === want.length, `${what}: ${got.length} records, want ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    check(g.offset === baseOffset + i, `${what}: record ${i} offset ${g.offset}`);
    check(g.timestamp === w.timestamp, `${what}: record ${i} timestamp ${g.timestamp}`);
    check(sameBytes(g.key, w.key) && sameBytes(g.value, w.value), `${what}: record ${i} key/value`);
    check(g.headers.length === w.headers.length, `${what}: record ${i} header count`);
    for (let h = 0; h < w.headers.length; h++) {
      check(g.headers[h]!.key === w.headers[h]!.key && sameBytes(g.headers[h]!.value, w.headers[h]!.value), `${what}: record ${i} header ${h}`);
    }
  }
}

/** Decodes a produce request body with klite and checks every partition's records against the source. */
function verifyProduce(body: Uint8Array, version: number, what: string): void {
  const req = ProduceRequest.decode(new Reader(body), version);
  const r = new Reader(body);
  ProduceRequest.decode(r, version);
  check(r.remaining === 0, `${what}: ${r.remaining} trailing bytes`);
  check(req.topicData.length === 1, `${what}: topic count`);
  const t = req.topicData[0]!;
  check(version >= 13 ? t.topicId === TOPIC_ID : t.name === TOPIC, `${what}: topic`);
  check(t.partitionData.length === PARTITIONS, `${what}: partition count`);
  for (const pd of t.partitionData) checkRecords(kliteParseRecords(pd.records!), source[pd.index]!, 0, `${what} p${pd.index}`);
}

// ---------------------------------------------------------------- case 1: produce request encode

const PRODUCE_NEWEST = ProduceRequest.meta.validVersions.max;
const KJS_PRODUCE = 7;
const PLT_PRODUCE = 11;

function kliteProduceRequest(batches: Uint8Array[]): ProduceRequest.ProduceRequestInit {
  return {
    transactionalId: null,
    acks: -1,
    timeoutMs: 30000,
    topicData: [{ name: TOPIC, topicId: TOPIC_ID, partitionData: batches.map((b, p) => ({ index: p, records: b })) }],
  };
}
function kliteBuildBatches(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let p = 0; p < PARTITIONS; p++) out.push(buildBatch({ records: kliteRecords[p]!, producerId: -1, producerEpoch: -1, baseSequence: -1 }));
  return out;
}
const kliteProduceBuilt = (v: number) => () => ProduceRequest.encode(kliteProduceRequest(kliteBuildBatches()), v);

async function caseProduce(): Promise<void> {
  const prebuilt = kliteBuildBatches();
  const prebuiltBuf = prebuilt.map((b) => Buffer.from(b.buffer, b.byteOffset, b.length));

  // (a) request encoding around pre-built batches.
  // As sent: the request's own bytes in one buffer, each batch referenced for a gathered write (writev).
  const kliteA = (v: number) => () => ProduceRequest.encodeChunks(kliteProduceRequest(prebuilt), v, 0);
  // One contiguous buffer, each batch copied in.
  const kliteCopy = (v: number) => () => ProduceRequest.encode(kliteProduceRequest(prebuilt), v);
  const chunkBytes = (chunks: Uint8Array[]): number => chunks.reduce((n, c) => n + c.length, 0);
  // Neither peer's produce API accepts pre-built batches; these mirror each peer's own
  // produce request code with its own writer, the batch-building step left out.
  const kjsA = (): Buffer =>
    new kjs.Encoder()
      .writeString(null)
      .writeInt16(-1)
      .writeInt32(30000)
      .writeArray([new kjs.Encoder().writeString(TOPIC).writeArray(prebuiltBuf.map((b, p) => new kjs.Encoder().writeInt32(p).writeInt32(b.length).writeBuffer(b)))]).buffer;
  const pltA = (): Buffer =>
    plt.Writer.create()
      .appendString(null)
      .appendInt16(-1)
      .appendInt32(30000)
      .appendArray([TOPIC], (w, topic) => {
        w.appendString(topic).appendArray(prebuiltBuf, (w, b) => {
          w.appendInt32(prebuiltBuf.indexOf(b)).appendUnsignedVarInt(b.length + 1).append(b);
        });
      })
      .appendTaggedFields().buffer;

  // (b) records → batch → request, as a producer does.
  const kjsB = async (): Promise<Buffer> => (await kjs.produceV7({ acks: -1, timeout: 30000, compression: 0, topicData: kjsTopicData }).encode()).buffer;
  const pltB = (): Buffer => plt.produce.createRequest(-1, 30000, pltMessages, { producerId: -1n }).buffer;

  // Verify every side's output before timing.
  for (const v of [KJS_PRODUCE, PLT_PRODUCE, PRODUCE_NEWEST]) {
    const chunks = kliteA(v)();
    check(chunks.filter((c) => prebuilt.includes(c)).length === PARTITIONS, `klite chunks v${v}: every batch referenced, not copied`);
    verifyProduce(Buffer.concat(chunks), v, `klite prebuilt chunks v${v}`);
    verifyProduce(kliteCopy(v)(), v, `klite prebuilt v${v}`);
    verifyProduce(kliteProduceBuilt(v)(), v, `klite built v${v}`);
  }
  verifyProduce(kjsA(), KJS_PRODUCE, "KafkaJS writer, pre-built batches");
  verifyProduce(pltA(), PLT_PRODUCE, "platformatic writer, pre-built batches");
  verifyProduce(await kjsB(), KJS_PRODUCE, "KafkaJS produce v7");
  verifyProduce(pltB(), PLT_PRODUCE, "platformatic produce v11");

  const row = (side: Side, version: number, variant: string, ops: number, bytes: number): Row => ({ side, version, variant, ops, bytes });
  const size = (f: () => Uint8Array) => f().length;
  const asyncSize = async (f: () => Promise<Uint8Array>) => (await f()).length;

  {
    const r = {
      kjs: row("KafkaJS", KJS_PRODUCE, "its Encoder, batches given", timeSync(kjsA), size(kjsA)),
      kAtKjs: row("klite", KJS_PRODUCE, "", timeSync(kliteA(KJS_PRODUCE)), chunkBytes(kliteA(KJS_PRODUCE)())),
      plt: row("platformatic", PLT_PRODUCE, "its Writer, batches given", timeSync(pltA), size(pltA)),
      kAtPlt: row("klite", PLT_PRODUCE, "", timeSync(kliteA(PLT_PRODUCE)), chunkBytes(kliteA(PLT_PRODUCE)())),
      kNew: row("klite", PRODUCE_NEWEST, "newest", timeSync(kliteA(PRODUCE_NEWEST)), chunkBytes(kliteA(PRODUCE_NEWEST)())),
      kCopy: row("klite", PLT_PRODUCE, "one buffer (batches copied)", timeSync(kliteCopy(PLT_PRODUCE)), size(kliteCopy(PLT_PRODUCE))),
    };
    results.push({
      title: `1a. ProduceRequest encode, pre-built batches (${PARTITIONS} partitions × ${RECORDS} records × ${VALUE_BYTES} B values)`,
      does: [
        "klite: ProduceRequest.encodeChunks(msg, v, 0) with each partition's `records` a pre-built RecordBatch (Uint8Array): size, one allocation for the request's own bytes, each batch referenced (chunks for a gathered socket write). Last row: encode() into one buffer, batches copied.",
        "KafkaJS / platformatic: their produce request code only takes messages, so this mirrors it with their own Encoder / Writer and the batch step removed, ending in one contiguous Buffer (`.buffer`) as sent.",
      ],
      rows: [r.kjs, r.kAtKjs, r.plt, r.kAtPlt, r.kNew, r.kCopy],
      compare: [
        [r.kAtKjs, r.kjs],
        [r.kNew, r.kjs],
        [r.kAtPlt, r.plt],
        [r.kNew, r.plt],
        [r.kCopy, r.plt],
      ],
    });
  }
  {
    const r = {
      kjs: row("KafkaJS", KJS_PRODUCE, "produce v7 request", await timeAsync(kjsB), await asyncSize(kjsB)),
      kAtKjs: row("klite", KJS_PRODUCE, "", timeSync(kliteProduceBuilt(KJS_PRODUCE)), size(kliteProduceBuilt(KJS_PRODUCE))),
      plt: row("platformatic", PLT_PRODUCE, "produce v11 createRequest", timeSync(pltB), size(pltB)),
      kAtPlt: row("klite", PLT_PRODUCE, "", timeSync(kliteProduceBuilt(PLT_PRODUCE)), size(kliteProduceBuilt(PLT_PRODUCE))),
      kNew: row("klite", PRODUCE_NEWEST, "newest", timeSync(kliteProduceBuilt(PRODUCE_NEWEST)), size(kliteProduceBuilt(PRODUCE_NEWEST))),
    };
    results.push({
      title: `1b. ProduceRequest encode, records → batch → request (${PARTITIONS} × ${RECORDS} records × ${VALUE_BYTES} B)`,
      does: [
        "klite: buildBatch({records}) per partition (record framing, CRC-32C, uncompressed), then ProduceRequest.encode.",
        "KafkaJS: produce/v7 request({topicData: messages}).encode(): Record + RecordBatch encoders (CRC-32C), then `.buffer`.",
        "platformatic: produce-v11 createRequest(acks, timeout, messages): groups by topic/partition, createRecordsBatch (CRC-32C), then `.buffer`.",
      ],
      rows: [r.kjs, r.kAtKjs, r.plt, r.kAtPlt, r.kNew],
      compare: [
        [r.kAtKjs, r.kjs],
        [r.kNew, r.kjs],
        [r.kAtPlt, r.plt],
        [r.kNew, r.plt],
      ],
    });
  }
}

// ---------------------------------------------------------------- case 2: fetch response decode

const FETCH_NEWEST = FetchResponse.meta.validVersions.max;
const KJS_FETCH = 11;
const PLT_FETCH = 17;
const BASE_OFFSET = (p: number) => 1_000_000 + p * 1000;

async function caseFetch(): Promise<void> {
  // As a broker returns them: batches with their log offsets.
  const batches = source.map((_, p) => buildBatch({ records: kliteRecords[p]!, baseOffset: BASE_OFFSET(p), partitionLeaderEpoch: 0 }));
  const response = (v: number): Uint8Array =>
    FetchResponse.encode(
      {
        throttleTimeMs: 0,
        errorCode: 0,
        sessionId: 0,
        responses: [
          {
            topic: TOPIC,
            topicId: TOPIC_ID,
            partitions: batches.map((b, p) => ({
              partitionIndex: p,
              errorCode: 0,
              highWatermark: BigInt(BASE_OFFSET(p) + RECORDS),
              lastStableOffset: BigInt(BASE_OFFSET(p) + RECORDS),
              logStartOffset: 0n,
              abortedTransactions: [],
              preferredReadReplica: -1,
              records: b,
            })),
          },
        ],
      },
      v,
    );
  const bytes = new Map<number, Buffer>();
  for (const v of [KJS_FETCH, PLT_FETCH, FETCH_NEWEST]) {
    const b = response(v);
    bytes.set(v, Buffer.from(b.buffer, b.byteOffset, b.length));
  }
  const at = (v: number): Buffer => bytes.get(v)!;

  const kliteZero = (v: number) => () => FetchResponse.decode(new Reader(at(v)), v);
  const kliteParsed = (v: number) => () => {
    const res = FetchResponse.decode(new Reader(at(v)), v);
    const records: KafkaRecord[][] = [];
    for (const t of res.responses) for (const p of t.partitions) records.push(p.records ? kliteParseRecords(p.records) : []);
    return { res, records };
  };
  const kjsDecode = () => kjs.fetchV11.decode(at(KJS_FETCH));
  const pltDecode = () => plt.fetch.parseResponse(0, 1, PLT_FETCH, plt.Reader.from(at(PLT_FETCH)));

  // Verify: every side sees every record of every partition.
  for (const v of [KJS_FETCH, PLT_FETCH, FETCH_NEWEST]) {
    const { res, records } = kliteParsed(v)();
    check(res.responses[0]!.partitions.length === PARTITIONS, `klite v${v} partitions`);
    records.forEach((recs, p) => checkRecords(recs, source[p]!, BASE_OFFSET(p), `klite fetch v${v} p${p}`));
  }
  {
    const res = await kjsDecode();
    check(res.responses.length === 1 && res.responses[0]!.topicName === TOPIC, "KafkaJS topic");
    const parts = res.responses[0]!.partitions;
    check(parts.length === PARTITIONS, "KafkaJS partition count");
    for (const part of parts) {
      const want = source[part.partition]!;
      check(part.highWatermark === String(BASE_OFFSET(part.partition) + RECORDS), "KafkaJS high watermark");
      check(part.messages.length === want.length, `KafkaJS p${part.partition}: ${part.messages.length} records`);
      part.messages.forEach((m, i) => {
        check(m.offset === String(BASE_OFFSET(part.partition) + i) && m.timestamp === String(want[i]!.timestamp), `KafkaJS p${part.partition} record ${i} offset/timestamp`);
        check(sameBytes(m.key, want[i]!.key) && sameBytes(m.value, want[i]!.value), `KafkaJS p${part.partition} record ${i} key/value`);
        check(Object.keys(m.headers).length === want[i]!.headers.length, `KafkaJS p${part.partition} record ${i} headers`);
      });
    }
  }
  {
    const res = pltDecode();
    check(res.responses.length === 1 && res.responses[0]!.topicId.replaceAll("-", "") === TOPIC_ID, `platformatic topic id ${res.responses[0]?.topicId}`);
    const parts = res.responses[0]!.partitions;
    check(parts.length === PARTITIONS, "platformatic partition count");
    for (const part of parts) {
      const want = source[part.partitionIndex]!;
      check(part.highWatermark === BigInt(BASE_OFFSET(part.partitionIndex) + RECORDS), "platformatic high watermark");
      const recs = (part.records ?? []).flatMap((b) => b.records.map((r) => ({ r, b })));
      check(recs.length === want.length, `platformatic p${part.partitionIndex}: ${recs.length} records`);
      recs.forEach(({ r, b }, i) => {
        check(b.firstOffset + BigInt(r.offsetDelta) === BigInt(BASE_OFFSET(part.partitionIndex) + i), `platformatic p${part.partitionIndex} record ${i} offset`);
        check(b.firstTimestamp + r.timestampDelta === BigInt(want[i]!.timestamp), `platformatic p${part.partitionIndex} record ${i} timestamp`);
        check(sameBytes(r.key, want[i]!.key) && sameBytes(r.value, want[i]!.value), `platformatic p${part.partitionIndex} record ${i} key/value`);
        check(r.headers.length === want[i]!.headers.length, `platformatic p${part.partitionIndex} record ${i} headers`);
      });
    }
  }

  const row = (side: Side, version: number, variant: string, ops: number): Row => ({ side, version, variant, ops, bytes: at(version).length });
  const r = {
    kjs: row("KafkaJS", KJS_FETCH, "records parsed", await timeAsync(kjsDecode)),
    kAtKjs: row("klite", KJS_FETCH, "records parsed", timeSync(kliteParsed(KJS_FETCH))),
    kAtKjsZ: row("klite", KJS_FETCH, "zero-copy", timeSync(kliteZero(KJS_FETCH))),
    plt: row("platformatic", PLT_FETCH, "records parsed", timeSync(pltDecode)),
    kAtPlt: row("klite", PLT_FETCH, "records parsed", timeSync(kliteParsed(PLT_FETCH))),
    kAtPltZ: row("klite", PLT_FETCH, "zero-copy", timeSync(kliteZero(PLT_FETCH))),
    kNew: row("klite", FETCH_NEWEST, "records parsed, newest", timeSync(kliteParsed(FETCH_NEWEST))),
    kNewZ: row("klite", FETCH_NEWEST, "zero-copy, newest", timeSync(kliteZero(FETCH_NEWEST))),
  };
  results.push({
    title: `2. FetchResponse decode (${PARTITIONS} partitions × ${RECORDS} records × ${VALUE_BYTES} B values, one batch each)`,
    does: [
      "Response bytes built once with klite's encoder at each version; every side's decode checked record by record first.",
      "klite records parsed: FetchResponse.decode, then per partition decodeRecords(batch) (KafkaRecord: offset, timestamp, key/value views, headers).",
      "klite zero-copy: FetchResponse.decode only; `records` stays a view of the input (what the broker and a lazy client need).",
      "KafkaJS: fetch/v11 response.decode(buffer) (async): decodes every record (offsets/timestamps as strings via Long, key/value slices, headers object).",
      "platformatic: fetch-v17 parseResponse(Reader.from(buffer)): reads every record (bigint deltas, key/value slices, headers).",
    ],
    rows: [r.kjs, r.kAtKjs, r.kAtKjsZ, r.plt, r.kAtPlt, r.kAtPltZ, r.kNew, r.kNewZ],
    compare: [
      [r.kAtKjs, r.kjs],
      [r.kNew, r.kjs],
      [r.kAtPlt, r.plt],
      [r.kNew, r.plt],
      [r.kAtKjsZ, r.kjs],
      [r.kNewZ, r.plt],
    ],
  });
}

// ---------------------------------------------------------------- case 3: metadata

const META_NEWEST = MetadataRequest.meta.validVersions.max;
const KJS_META = 6;
const PLT_META = 12;
const META_TOPICS = ["orders", "payments", "shipments"];

async function caseMetadata(): Promise<void> {
  const kliteReq = (v: number) => () =>
    MetadataRequest.encode({ topics: META_TOPICS.map((name) => ({ name })), allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false }, v);
  const kjsReq = async (): Promise<Buffer> => (await kjs.metadataV6({ topics: META_TOPICS, allowAutoTopicCreation: true }).encode()).buffer;
  const pltReq = (): Buffer => plt.metadata.createRequest(META_TOPICS, true, false).buffer;

  // Each peer's request must say what klite's says at that version.
  for (const [bytes, v, who] of [
    [await kjsReq(), KJS_META, "KafkaJS"],
    [pltReq(), PLT_META, "platformatic"],
  ] as const) {
    const got = MetadataRequest.decode(new Reader(bytes), v);
    check(JSON.stringify(got.topics?.map((t) => t.name)) === JSON.stringify(META_TOPICS) && got.allowAutoTopicCreation, `${who} metadata request`);
    check(sameBytes(bytes, kliteReq(v)()), `${who} metadata request bytes equal klite's at v${v}`);
  }

  const topicIds = META_TOPICS.map((_, i) => TOPIC_ID.slice(0, 30) + String(i).padStart(2, "0"));
  const metaResponse = (v: number): Buffer => {
    const b = MetadataResponse.encode(
      {
        throttleTimeMs: 0,
        brokers: [{ nodeId: 1, host: "localhost", port: 9092, rack: null }],
        clusterId: "klite-bench-cluster",
        controllerId: 1,
        topics: META_TOPICS.map((name, i) => ({
          errorCode: 0,
          name,
          topicId: topicIds[i],
          isInternal: false,
          partitions: [0, 1, 2].map((p) => ({ errorCode: 0, partitionIndex: p, leaderId: 1, leaderEpoch: 0, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] })),
          topicAuthorizedOperations: -2147483648,
        })),
      },
      v,
    );
    return Buffer.from(b.buffer, b.byteOffset, b.length);
  };
  const resp = new Map<number, Buffer>([KJS_META, PLT_META, META_NEWEST].map((v) => [v, metaResponse(v)]));
  const kliteResp = (v: number) => () => MetadataResponse.decode(new Reader(resp.get(v)!), v);
  const kjsResp = () => kjs.metadataV6Response.decode(resp.get(KJS_META)!);
  const pltResp = () => plt.metadata.parseResponse(0, 3, PLT_META, plt.Reader.from(resp.get(PLT_META)!));

  {
    const k = await kjsResp();
    check(k.brokers.length === 1 && k.brokers[0]!.host === "localhost" && k.brokers[0]!.port === 9092, "KafkaJS metadata brokers");
    check(k.clusterId === "klite-bench-cluster" && k.controllerId === 1, "KafkaJS metadata cluster");
    check(JSON.stringify(k.topicMetadata.map((t) => [t.topic, t.partitionMetadata.map((p) => [p.partitionId, p.leader, p.replicas, p.isr])])) ===
      JSON.stringify(META_TOPICS.map((t) => [t, [0, 1, 2].map((p) => [p, 1, [1], [1]])])), "KafkaJS metadata topics");
    const p = pltResp();
    check(p.brokers.length === 1 && p.brokers[0]!.host === "localhost" && p.clusterId === "klite-bench-cluster", "platformatic metadata brokers");
    check(JSON.stringify(p.topics.map((t) => [t.name, t.topicId.replaceAll("-", ""), t.partitions.map((x) => [x.partitionIndex, x.leaderId, x.replicaNodes, x.isrNodes])])) ===
      JSON.stringify(META_TOPICS.map((t, i) => [t, topicIds[i], [0, 1, 2].map((x) => [x, 1, [1], [1]])])), "platformatic metadata topics");
    for (const v of [KJS_META, PLT_META, META_NEWEST]) {
      const m = kliteResp(v)();
      check(m.topics.length === 3 && m.topics.every((t) => t.partitions.length === 3) && m.brokers[0]!.host === "localhost", `klite metadata v${v}`);
    }
  }

  const row = (side: Side, version: number, variant: string, ops: number, bytes: number): Row => ({ side, version, variant, ops, bytes });
  {
    const r = {
      kjs: row("KafkaJS", KJS_META, "", await timeAsync(kjsReq), (await kjsReq()).length),
      kAtKjs: row("klite", KJS_META, "", timeSync(kliteReq(KJS_META)), kliteReq(KJS_META)().length),
      plt: row("platformatic", PLT_META, "", timeSync(pltReq), pltReq().length),
      kAtPlt: row("klite", PLT_META, "", timeSync(kliteReq(PLT_META)), kliteReq(PLT_META)().length),
      kNew: row("klite", META_NEWEST, "newest", timeSync(kliteReq(META_NEWEST)), kliteReq(META_NEWEST)().length),
    };
    results.push({
      title: "3a. MetadataRequest encode (3 topics by name)",
      does: [
        "klite: MetadataRequest.encode. KafkaJS: metadata/v6 request.encode() (async) then `.buffer`. platformatic: metadata-v12 createRequest(...).buffer.",
      ],
      rows: [r.kjs, r.kAtKjs, r.plt, r.kAtPlt, r.kNew],
      compare: [
        [r.kAtKjs, r.kjs],
        [r.kNew, r.kjs],
        [r.kAtPlt, r.plt],
        [r.kNew, r.plt],
      ],
    });
  }
  {
    const len = (v: number) => resp.get(v)!.length;
    const r = {
      kjs: row("KafkaJS", KJS_META, "", await timeAsync(kjsResp), len(KJS_META)),
      kAtKjs: row("klite", KJS_META, "", timeSync(kliteResp(KJS_META)), len(KJS_META)),
      plt: row("platformatic", PLT_META, "", timeSync(pltResp), len(PLT_META)),
      kAtPlt: row("klite", PLT_META, "", timeSync(kliteResp(PLT_META)), len(PLT_META)),
      kNew: row("klite", META_NEWEST, "newest", timeSync(kliteResp(META_NEWEST)), len(META_NEWEST)),
    };
    results.push({
      title: "3b. MetadataResponse decode (1 broker, 3 topics × 3 partitions)",
      does: [
        "Bytes built once with klite's encoder per version. klite: MetadataResponse.decode. KafkaJS: metadata/v6 response.decode (async). platformatic: metadata-v12 parseResponse.",
      ],
      rows: [r.kjs, r.kAtKjs, r.plt, r.kAtPlt, r.kNew],
      compare: [
        [r.kAtKjs, r.kjs],
        [r.kNew, r.kjs],
        [r.kAtPlt, r.plt],
        [r.kNew, r.plt],
      ],
    });
  }

  // Flexible versions (compact lengths, tagged sections, topic-id uuids) against the
  // last classic version of the same message, at two sizes: the small answer of a
  // running client and a cluster-wide one with distinct topic ids.
  const lastClassic = MetadataResponse.meta.flexibleVersions.min - 1;
  for (const [topics, partitions] of [
    [3, 3],
    [500, 4],
  ] as const) {
    const bytes = new Map<number, Uint8Array>();
    for (const v of [lastClassic, PLT_META, META_NEWEST]) {
      bytes.set(
        v,
        MetadataResponse.encode(
          {
            brokers: [{ nodeId: 1, host: "localhost", port: 9092, rack: null }],
            clusterId: "klite-bench-cluster",
            controllerId: 1,
            topics: Array.from({ length: topics }, (_, i) => ({
              name: `topic-${i}`,
              topicId: TOPIC_ID.slice(0, 24) + i.toString(16).padStart(8, "0"),
              partitions: Array.from({ length: partitions }, (_, p) => ({ partitionIndex: p, leaderId: 1, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] })),
            })),
          },
          v,
        ),
      );
    }
    const dec = (v: number) => () => MetadataResponse.decode(new Reader(bytes.get(v)!), v);
    for (const v of bytes.keys()) check(dec(v)().topics.length === topics, `klite metadata ${topics} topics v${v}`);
    // Interleaved, best of 3, so that load from elsewhere on the machine hits every version alike.
    const best = new Map<number, number>();
    for (let k = 0; k < 3; k++) for (const v of bytes.keys()) best.set(v, Math.max(best.get(v) ?? 0, timeSync(dec(v))));
    flexChecks.push({
      what: `MetadataResponse decode, ${topics} topics × ${partitions} partitions`,
      classic: { version: lastClassic, ops: best.get(lastClassic)! },
      flexible: [PLT_META, META_NEWEST].map((v) => ({ version: v, ops: best.get(v)! })),
    });
  }
}

interface FlexCheck {
  what: string;
  classic: { version: number; ops: number };
  flexible: { version: number; ops: number }[];
}
const flexChecks: FlexCheck[] = [];

function printFlexChecks(): void {
  if (flexChecks.length === 0) return;
  console.log("\nFlexible versions against the last non-flexible one (same message, klite; best of 3 interleaved): slowdown, target ≤ 1.5×");
  for (const c of flexChecks) {
    const worst = Math.max(...c.flexible.map((f) => c.classic.ops / f.ops));
    const parts = c.flexible.map((f) => `v${f.version} ${fmtOps(f.ops)}/s (${(c.classic.ops / f.ops).toFixed(2)}×)`).join(", ");
    console.log(`  ${pad(c.what, 52)} v${c.classic.version} ${fmtOps(c.classic.ops)}/s; ${parts}  ${worst <= 1.5 ? "met" : "NOT met"}`);
  }
}

// ---------------------------------------------------------------- report

const fmtOps = (x: number): string => (x >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(1));
const fmtMB = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const pad = (s: string, n: number): string => s.padEnd(n);
const lpad = (s: string, n: number): string => s.padStart(n);

function printCase(c: CaseResult): void {
  console.log(`\n${c.title}`);
  for (const d of c.does) console.log(`  · ${d}`);
  console.log(`  ${pad("side", 13)}${pad("ver", 5)}${pad("variant", 28)}${lpad("bytes", 9)}${lpad("ops/s", 12)}${lpad("MB/s", 9)}  klite/peer`);
  for (const r of c.rows) {
    const ratios = c.compare
      .filter(([k]) => k === r)
      .map(([k, p]) => `${(k.ops / p.ops).toFixed(2)}× ${p.side === "KafkaJS" ? "KJS" : "plt"}`)
      .join(", ");
    console.log(
      `  ${pad(r.side, 13)}${pad(`v${r.version}`, 5)}${pad(r.variant, 28)}${lpad(String(r.bytes), 9)}${lpad(fmtOps(r.ops), 12)}${lpad(fmtMB((r.ops * r.bytes) / 1e6), 9)}  ${ratios}`,
    );
  }
}

function printSummary(): void {
  console.log("\nSummary: klite ÷ the faster peer (same version as that peer; and klite at its newest version)");
  console.log(`  ${pad("case", 58)}${lpad("same ver", 10)}${lpad("newest", 9)}  target ≥ 2×`);
  for (const c of results) {
    const peers = c.rows.filter((r) => r.side !== "klite");
    const fastest = peers.reduce((a, b) => (a.ops >= b.ops ? a : b));
    const pairs = c.compare.filter(([, p]) => p === fastest);
    // The first pair is klite at the peer's version, the second klite at its newest.
    const same = pairs.find(([k]) => k.version === fastest.version && !k.variant.includes("zero-copy"));
    const newest = pairs.find(([k]) => k.variant.includes("newest") && !k.variant.includes("zero-copy"));
    const ratio = (p: [Row, Row] | undefined) => (p ? p[0].ops / p[1].ops : NaN);
    const met = Math.min(ratio(same), ratio(newest)) >= 2 ? "met" : "NOT met";
    console.log(`  ${pad(c.title.split(" (")[0]!, 58)}${lpad(`${ratio(same).toFixed(2)}×`, 10)}${lpad(`${ratio(newest).toFixed(2)}×`, 9)}  ${met} (vs ${fastest.side} v${fastest.version})`);
  }
}

console.log("klite protocol codec benchmark");
console.log(`  Bun ${Bun.version} (${process.platform}/${process.arch}), ${cpus()[0]?.model ?? "unknown cpu"} × ${cpus().length}, ${Math.round(totalmem() / 2 ** 30)} GiB`);
console.log(`  peers: kafkajs ${kjs.version}, @platformatic/kafka ${plt.version}`);
console.log(`  ${RUNS} runs × ${TIME_MS} ms after ${WARMUP_MS} ms warm-up, median; MB = 10^6 bytes`);
console.log(`  records: ${PARTITIONS} partitions × ${RECORDS} records (key ${source[0]![0]!.key.length} B, value ${VALUE_BYTES} B, ${HEADERS} headers) = ${recordBytes} B of keys+values per partition`);

if (ONLY.includes("produce")) await caseProduce();
if (ONLY.includes("fetch")) await caseFetch();
if (ONLY.includes("metadata")) await caseMetadata();
for (const c of results) printCase(c);
printSummary();
printFlexChecks();
void sink;
void enc;
void TOPIC_ID_DASHED;
