// Byte-exact vectors from real clients: a capture proxy sits between each
// client and the broker and records every request frame. Each captured frame
// must decode with the generated codecs and re-encode to the very same bytes.

import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startBroker, type RunningBroker } from "../../src/broker.ts";
import { apis, requestHeaderVersion } from "../../generated/index.ts";
import * as RequestHeader from "../../generated/RequestHeader.ts";
import { Reader } from "../../src/protocol/reader.ts";
import { Writer } from "../../src/protocol/writer.ts";
import { FrameSplitter } from "../../src/server/frames.ts";

const ROOT = resolve(import.meta.dir, "../..");
const CLIENTS = join(ROOT, "test/clients");

/** A proxy that forwards to the broker and keeps every client→broker frame. */
async function withCapture(run: (port: number) => Promise<void>): Promise<Uint8Array[]> {
  const frames: Uint8Array[] = [];
  // The broker advertises the proxy, so clients come back through it after bootstrap.
  const dataDir = mkdtempSync(join(tmpdir(), "klite-vectors-"));
  let broker!: RunningBroker;
  type Pair = { upstream: Promise<import("bun").Socket<undefined>>; splitter: FrameSplitter };
  const server = Bun.listen<Pair>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        const splitter = new FrameSplitter(100 << 20);
        const upstream = Bun.connect({
          hostname: "127.0.0.1",
          port: broker.port,
          socket: {
            data(_s, d) {
              client.write(d);
            },
            close() {
              client.end();
            },
          },
        });
        client.data = { upstream, splitter };
      },
      async data(client, d) {
        const copy = d.slice();
        const out: Uint8Array[] = [];
        client.data.splitter.push(copy, out);
        for (const f of out) frames.push(f.slice());
        (await client.data.upstream).write(copy);
      },
      async close(client) {
        (await client.data.upstream).end();
      },
    },
  });
  try {
    broker = await startBroker({ listen: "127.0.0.1:0", advertisedAddr: `127.0.0.1:${server.port}`, dataDir, logLevel: "warn" });
    await run(server.port);
  } finally {
    server.stop(true);
    await broker?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return frames;
}

/** Decodes header and body and re-encodes both: must give the captured bytes back. */
function reencode(captured: Uint8Array): { key: number; version: number } {
  let frame = captured;
  const r = new Reader(frame);
  const key = r.int16();
  const version = r.int16();
  r.pos = 0;
  const hv = requestHeaderVersion(key, version);
  const header = RequestHeader.decode(r, hv);
  const mod = apis.get(key)!.request;
  const body = mod.decode(r, version);
  if (r.pos !== frame.length) {
    // librdkafka 2.15 appends three bytes (01 00 00) after a Metadata v13 request body. Kafka's
    // parser ignores trailing bytes and so does klite; everything before them must still match.
    expect({ key, version, trailing: Buffer.from(frame.subarray(r.pos)).toString("hex") }).toEqual({ key: 3, version: 13, trailing: "010000" });
    frame = frame.subarray(0, r.pos);
  }
  const hs = RequestHeader.size(header, hv);
  const w = Writer.alloc(hs + mod.size(body as never, version));
  RequestHeader.encodeInto(w, header, hv);
  mod.encodeInto(w, body as never, version);
  expect(w.pos).toBe(w.buf.length);
  expect(Buffer.from(w.buf).equals(Buffer.from(frame))).toBe(true);
  return { key, version };
}

async function sh(cmd: string[], opts: { stdin?: string; cwd?: string } = {}): Promise<string> {
  const p = Bun.spawn(cmd, { stdin: opts.stdin !== undefined ? new TextEncoder().encode(opts.stdin) : "ignore", stdout: "pipe", stderr: "pipe", cwd: opts.cwd });
  const timer = setTimeout(() => p.kill(), 60_000);
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${cmd.join(" ")} exited ${code}: ${err}`);
  return out;
}

function seen(frames: Uint8Array[]): Map<number, Set<number>> {
  const m = new Map<number, Set<number>>();
  for (const f of frames) {
    const { key, version } = reencode(f);
    if (!m.has(key)) m.set(key, new Set());
    m.get(key)!.add(version);
  }
  return m;
}

test("kcat (librdkafka 2.0.2): metadata and produce frames re-encode byte for byte", async () => {
  const frames = await withCapture(async (port) => {
    await sh(["kcat", "-b", `127.0.0.1:${port}`, "-L", "-J"]);
    await sh(["kcat", "-b", `127.0.0.1:${port}`, "-P", "-t", "vec-kcat", "-K:", "-H", "h=v", "-z", "lz4"], { stdin: "k1:v1\nk2:v2\n" });
  });
  const m = seen(frames);
  expect(m.has(18)).toBe(true); // ApiVersions
  expect(m.has(3)).toBe(true); // Metadata
  expect(m.has(0)).toBe(true); // Produce
});

test("KafkaJS 2.2.4: metadata and produce frames re-encode byte for byte", async () => {
  const script = `
    const { Kafka, logLevel } = require(${JSON.stringify(join(ROOT, "node_modules/kafkajs"))});
    (async () => {
      const kafka = new Kafka({ brokers: [process.argv[1]], logLevel: logLevel.NOTHING });
      const p = kafka.producer({ allowAutoTopicCreation: true });
      await p.connect();
      await p.send({ topic: "vec-kafkajs", acks: -1, messages: [{ key: "a", value: "b", headers: { h: "v" } }] });
      await p.disconnect();
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const frames = await withCapture(async (port) => {
    await sh(["node", "-e", script, `127.0.0.1:${port}`]);
  });
  const m = seen(frames);
  expect(m.has(18) && m.has(3) && m.has(0)).toBe(true);
});

test("current librdkafka (@confluentinc/kafka-javascript): metadata and produce frames re-encode byte for byte", async () => {
  expect(existsSync(join(CLIENTS, "node_modules/@confluentinc/kafka-javascript"))).toBe(true);
  const script = `
    const Kafka = require("@confluentinc/kafka-javascript");
    const p = new Kafka.Producer({ "bootstrap.servers": process.argv[1], "dr_cb": true, "acks": "all" });
    p.connect();
    p.on("ready", () => {
      p.produce("vec-ckjs", null, Buffer.from("v"), Buffer.from("k"), Date.now(), undefined, [{ h: Buffer.from("v") }]);
      p.setPollInterval(10);
    });
    p.on("delivery-report", (err) => { if (err) { console.error(err); process.exit(1); } p.disconnect(); });
    p.on("disconnected", () => process.exit(0));
    p.on("event.error", (e) => { console.error(e); process.exit(1); });`;
  const frames = await withCapture(async (port) => {
    await sh(["node", "-e", script, `127.0.0.1:${port}`], { cwd: CLIENTS });
  });
  const m = seen(frames);
  expect(m.has(18) && m.has(3) && m.has(0)).toBe(true);
  // The modern client negotiates flexible versions: Metadata v12+ and Produce v9+.
  expect(Math.max(...m.get(3)!)).toBeGreaterThanOrEqual(12);
  expect(Math.max(...m.get(0)!)).toBeGreaterThanOrEqual(9);
});
