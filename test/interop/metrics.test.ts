// --http-listen: /livez, /readyz and /metrics scraped and parsed after real
// traffic (kcat produce and consume, a group commit, a bad frame), and the
// figures checked against what that traffic must have done. --log-format json:
// a client's bad input is one JSON line naming the peer.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { inProcessBroker, ROOT, withSpawnedBroker, type InProcessBroker } from "../helpers/broker.ts";
import { CLIENT_TEST_TIMEOUT, kcat, missing } from "../helpers/clients.ts";
import { runOk, waitFor } from "../helpers/run.ts";

let b: InProcessBroker;
let http: string;
beforeAll(async () => {
  b = await inProcessBroker({ httpListen: "127.0.0.1:0" });
  http = `http://127.0.0.1:${b.httpPort}`;
});
afterAll(async () => {
  await b.cleanup();
});

type Samples = Map<string, number>;

/** Prometheus text → "name{labels}" → value; also checks every sample has HELP and TYPE lines. */
function parse(text: string): Samples {
  const out: Samples = new Map();
  const typed = new Set<string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const t = /^# TYPE (\S+) (counter|gauge|histogram)$/.exec(line);
    if (t) {
      typed.add(t[1]!);
      continue;
    }
    if (line.startsWith("# HELP ")) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? (-?[0-9.e+]+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const family = m[1]!.replace(/_(bucket|sum|count)$/, "");
    if (!typed.has(m[1]!) && !typed.has(family)) throw new Error(`sample before its TYPE line: ${line}`);
    out.set(m[1]! + (m[2] ?? ""), Number(m[3]));
  }
  return out;
}

async function scrape(): Promise<Samples> {
  const r = await fetch(`${http}/metrics`);
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toContain("text/plain");
  return parse(await r.text());
}

const sum = (s: Samples, prefix: string) => [...s].filter(([k]) => k.startsWith(prefix)).reduce((n, [, v]) => n + v, 0);

test("livez and readyz answer; an unknown path is 404", async () => {
  expect((await fetch(`${http}/livez`)).status).toBe(200);
  const ready = await fetch(`${http}/readyz`);
  expect([ready.status, await ready.text()]).toEqual([200, "ok\n"]);
  expect((await fetch(`${http}/nope`)).status).toBe(404);
});

test.skipIf(missing("kcat"))(
  "metrics move with traffic: requests per API and version, latency histograms, connections, bytes, log and group figures",
  async () => {
    const before = await scrape();
    await kcat(["-b", b.bootstrap, "-P", "-t", "m1", "-p", "0"], { stdin: Array.from({ length: 7 }, (_, i) => `v${i}`).join("\n") + "\n" });
    await kcat(["-b", b.bootstrap, "-C", "-t", "m1", "-e", "-q"]);
    // A group that committed offset 3 of 7: lag 4.
    await runOk([process.execPath, join(ROOT, "src/main.ts"), "group", "reset-offsets", "mg", "--topic", "m1", "--to-offset", "3", "--execute", "-b", b.bootstrap]);
    // A frame no Kafka API has: the connection is closed as a protocol error.
    const sock = await Bun.connect({ hostname: "127.0.0.1", port: b.port, socket: { data() {}, close() {} } });
    sock.write(new Uint8Array([0, 0, 0, 12, 0x7f, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]));
    await waitFor(async () => sum(await scrape(), 'klite_connections_closed_total{reason="protocol_error"}') >= 1, 10_000, "the bad connection's close");
    sock.end();

    const after = await scrape();
    const produceKey = [...after.keys()].find((k) => k.startsWith('klite_requests_total{api="Produce"'))!;
    expect(produceKey).toMatch(/^klite_requests_total\{api="Produce",version="\d+"\}$/);
    expect(after.get(produceKey)).toBeGreaterThanOrEqual(1);
    expect(sum(after, 'klite_requests_total{api="Fetch"')).toBeGreaterThanOrEqual(1);
    expect(sum(after, 'klite_requests_total{api="ApiVersions"')).toBeGreaterThanOrEqual(sum(before, 'klite_requests_total{api="ApiVersions"') + 3);
    // Each request series has a histogram with the same count, and +Inf holds all of them.
    for (const [k, v] of after) {
      if (!k.startsWith("klite_requests_total{")) continue;
      const labels = k.slice("klite_requests_total".length);
      expect([k, after.get(`klite_request_duration_seconds_count${labels}`)]).toEqual([k, v]);
      expect(after.get(`klite_request_duration_seconds_bucket${labels.slice(0, -1)},le="+Inf"}`)).toBe(v);
    }
    expect(sum(after, "klite_request_failures_total{")).toBeGreaterThanOrEqual(1);
    expect(after.get("klite_connections_opened_total")! - before.get("klite_connections_opened_total")!).toBeGreaterThanOrEqual(4);
    expect(after.get("klite_connections_opened_total")! - sum(after, "klite_connections_closed_total")).toBe(after.get("klite_connections")!);
    expect(after.get("klite_network_received_bytes_total")!).toBeGreaterThan(before.get("klite_network_received_bytes_total")! + 7 * 2);
    expect(after.get("klite_network_sent_bytes_total")!).toBeGreaterThan(before.get("klite_network_sent_bytes_total")!);
    expect(after.get('klite_produce_records_total{topic="m1"}')).toBe(7);
    expect(after.get('klite_produce_bytes_total{topic="m1"}')).toBeGreaterThan(7 * 2);
    expect(after.get('klite_fetch_bytes_total{topic="m1"}')).toBeGreaterThanOrEqual(after.get('klite_produce_bytes_total{topic="m1"}')!);
    expect(after.get('klite_log_end_offset{topic="m1",partition="0"}')).toBe(7);
    expect(after.get('klite_log_segments{topic="m1",partition="0"}')).toBe(1);
    expect(after.get('klite_log_size_bytes{topic="m1",partition="0"}')).toBeGreaterThan(7 * 2);
    expect(after.get('klite_group_lag{group="mg",topic="m1",partition="0"}')).toBe(4);
    expect(after.get('klite_groups{type="classic",state="Empty"}')).toBeGreaterThanOrEqual(1);
    expect(after.get('klite_group_members{group="mg",type="classic"}')).toBe(0);
  },
  CLIENT_TEST_TIMEOUT,
);

test("--log-format json: a bad frame is one JSON line with the peer address, no stack trace", async () => {
  await withSpawnedBroker({ args: ["--log-format", "json"] }, async (sb) => {
    const sock = await Bun.connect({ hostname: "127.0.0.1", port: sb.port, socket: { data() {}, close() {} } });
    sock.write(new Uint8Array([0, 0, 0, 12, 0x7f, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]));
    await waitFor(() => sb.stderr().includes("closed:"), 10_000, "the broker's line about the bad connection");
    sock.end();
    const lines = sb.stderr().trim().split("\n").map((l) => JSON.parse(l) as { time: string; level: string; msg: string });
    const bad = lines.filter((l) => l.msg.includes("closed:"));
    expect(bad.length).toBe(1);
    expect(bad[0]).toMatchObject({ level: "info" });
    expect(bad[0]!.msg).toMatch(/^connection \d+ from 127\.0\.0\.1 closed: unsupported api key 32639$/);
    expect(Date.parse(bad[0]!.time)).toBeGreaterThan(0);
    expect(sb.stderr()).not.toContain("    at ");
  });
});

test.skipIf(missing("kcat"))(
  "fsync count and latency, log cleaner and retention activity move with traffic",
  async () => {
    const sb = await inProcessBroker({ httpListen: "127.0.0.1:0", logCleanerBackoffMs: 50, logRetentionCheckIntervalMs: 100 });
    try {
      const url = `http://127.0.0.1:${sb.httpPort}/metrics`;
      const scrapeIt = async () => parse(await (await fetch(url)).text());
      const cli = (...args: string[]) => runOk([process.execPath, join(ROOT, "src/main.ts"), ...args, "-b", sb.bootstrap]);
      const before = await scrapeIt();
      expect(before.get("klite_log_cleaner_runs_total")).toBe(0);
      expect(before.get("klite_log_retention_deleted_segments_total")).toBe(0);
      const small = ["--config", "internal.segment.bytes=4096"];
      await cli("topic", "create", "mc", ...small, "--config", "cleanup.policy=compact", "--config", "min.cleanable.dirty.ratio=0.01");
      await cli("topic", "create", "mr", ...small, "--config", "retention.bytes=8192");
      // 2000 updates of 10 keys in small batches: many 4 KiB segments, most of their records superseded.
      const BATCHES = ["-X", "batch.num.messages=20", "-X", "linger.ms=0"];
      const updates = Array.from({ length: 2000 }, (_, i) => `k${i % 10}:value-${i}-${"x".repeat(40)}`).join("\n") + "\n";
      await kcat(["-b", sb.bootstrap, "-P", "-t", "mc", "-K:", "-p", "0", ...BATCHES], { stdin: updates });
      await kcat(["-b", sb.bootstrap, "-P", "-t", "mr", "-K:", "-p", "0", ...BATCHES], { stdin: updates });
      await waitFor(
        async () => {
          const s = await scrapeIt();
          return s.get("klite_log_cleaner_runs_total")! >= 1 && s.get("klite_log_retention_deleted_segments_total")! >= 1;
        },
        60_000,
        "a clean of mc and a retention pass over mr",
      );
      const after = await scrapeIt();
      expect(after.get("klite_log_cleaner_read_bytes_total")).toBeGreaterThan(4096);
      expect(after.get("klite_log_cleaner_written_bytes_total")).toBeGreaterThan(0);
      expect(after.get("klite_log_cleaner_written_bytes_total")).toBeLessThan(after.get("klite_log_cleaner_read_bytes_total")!);
      expect(after.get("klite_log_cleaner_removed_records_total")).toBeGreaterThan(100);
      expect(after.get("klite_log_cleaner_seconds_total")).toBeGreaterThan(0);
      expect(after.get("klite_log_cleaner_failures_total")).toBe(0);
      // mr keeps 8 KiB plus at most the segment being filled: the rest went, in whole segments of about 4 KiB.
      const deleted = after.get("klite_log_retention_deleted_bytes_total")!;
      const kept = after.get('klite_log_size_bytes{topic="mr",partition="0"}')!;
      expect(kept).toBeLessThan(8192 + 2 * 4096);
      expect(deleted + kept).toBe(after.get('klite_produce_bytes_total{topic="mr"}')!);
      expect(after.get("klite_log_retention_deleted_segments_total")).toBeGreaterThanOrEqual(Math.floor(deleted / 8192));
      // --fsync group (the default): the produces were fdatasynced, topic creation synced files and directories.
      const delta = (k: string) => after.get(k)! - (before.get(k) ?? 0);
      expect(delta('klite_fsync_duration_seconds_count{kind="data"}')).toBeGreaterThanOrEqual(2);
      expect(delta('klite_fsync_duration_seconds_count{kind="dir"}')).toBeGreaterThanOrEqual(2);
      expect(delta('klite_fsync_duration_seconds_count{kind="file"}')).toBeGreaterThanOrEqual(2);
      expect(after.get('klite_fsync_duration_seconds_bucket{kind="data",le="+Inf"}')).toBe(after.get('klite_fsync_duration_seconds_count{kind="data"}'));
      expect(after.get('klite_fsync_duration_seconds_sum{kind="data"}')).toBeGreaterThan(0);
    } finally {
      await sb.cleanup();
    }
  },
  CLIENT_TEST_TIMEOUT,
);
