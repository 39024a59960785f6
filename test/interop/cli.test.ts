// The `klite` subcommands end to end: each runs as its own process (bun
// src/main.ts ...) against a broker, and what it did is checked with real
// clients: kcat (librdkafka 2.0.2) reads what `klite produce` wrote and
// writes what `klite consume` reads, and a kcat group consumer resumes where
// `klite group reset-offsets` put the group.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { inProcessBroker, ROOT, type InProcessBroker } from "../helpers/broker.ts";
import { CLIENTS, CLIENT_TEST_TIMEOUT, kcat, missing, py } from "../helpers/clients.ts";
import { collectJsonLines, run, waitFor, type RunResult } from "../helpers/run.ts";

const MAIN = join(ROOT, "src/main.ts");

let b: InProcessBroker;
beforeAll(async () => {
  b = await inProcessBroker();
});
afterAll(async () => {
  await b.cleanup();
});

function klite(args: string[], stdin?: string): Promise<RunResult> {
  return run([process.execPath, MAIN, ...args], { stdin, timeoutMs: 60_000 });
}

/** Runs a subcommand against the test broker; expects exit 0 and returns stdout. */
async function ok(args: string[], stdin?: string): Promise<string> {
  const r = await klite([...args, "-b", b.bootstrap], stdin);
  if (r.code !== 0) throw new Error(`klite ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

describe("klite CLI", () => {
  test.skipIf(missing("kcat"))(
    "README forms: create, produce with keys, consume as JSON lines byte for byte",
    async () => {
      expect(await ok(["topic", "create", "orders", "--partitions", "3"])).toBe("created topic orders with 3 partitions\n");
      expect(await ok(["produce", "orders", "--key-separator", ":", "--header", "src=cli", "--header", "n=1"], "k1:hello\nk2:world\n")).toBe("");
      // What kcat sees decides the expected output: partition, offset, timestamp of each record.
      const seen = (await kcat(["-b", b.bootstrap, "-C", "-t", "orders", "-e", "-q", "-f", "%p %o %T %k %s %h\n"])).trim().split("\n").sort();
      expect(seen.length).toBe(2);
      const expected = seen
        .map((l) => l.split(" "))
        .map(([p, o, ts, k, v, h]) => {
          expect(h).toBe("src=cli,n=1");
          return JSON.stringify({ topic: "orders", partition: Number(p), offset: Number(o), timestamp: Number(ts), key: k, value: v, headers: [{ key: "src", value: "cli" }, { key: "n", value: "1" }] }) + "\n";
        })
        .join("");
      const out = await ok(["consume", "orders", "--from", "beginning", "--max", "2", "--format", "json"]);
      expect(out).toBe(expected);
      // murmur2 puts k1 on partition 2 and k2 on partition 0 of three (as the Java client does).
      expect(seen.map((l) => l.split(" ")[0] + l.split(" ")[3])).toEqual(["0k2", "2k1"]);
    },
    CLIENT_TEST_TIMEOUT,
  );

  test.skipIf(missing("kcat"))(
    "consume text, --max, --from offset/-N/time, --partition, --follow; records written by kcat",
    async () => {
      await ok(["topic", "create", "lines", "--partitions", "1"]);
      const values = Array.from({ length: 20 }, (_, i) => `line-${i}`);
      await kcat(["-b", b.bootstrap, "-P", "-t", "lines", "-p", "0"], { stdin: values.join("\n") + "\n" });
      expect(await ok(["consume", "lines"])).toBe(values.join("\n") + "\n");
      expect(await ok(["consume", "lines", "--max", "3", "--from", "5"])).toBe("line-5\nline-6\nline-7\n");
      expect(await ok(["consume", "lines", "--from", "-2"])).toBe("line-18\nline-19\n");
      expect(await ok(["consume", "lines", "--from", "end"])).toBe("");
      expect(await ok(["consume", "lines", "--from", "-1", "--encoding", "base64"])).toBe(Buffer.from("line-19").toString("base64") + "\n");
      const b64 = JSON.parse(await ok(["consume", "lines", "--max", "1", "--format", "json", "--encoding", "base64"]));
      expect([b64.key, b64.value]).toEqual([null, Buffer.from("line-0").toString("base64")]);
      expect(await ok(["consume", "lines", "--from", new Date(Date.now() + 3_600_000).toISOString()])).toBe("");
      expect((await ok(["consume", "lines", "--from", "2000-01-01T00:00:00Z", "--partition", "0", "--max", "1"]))).toBe("line-0\n");
      // --follow waits for records that arrive later.
      const follower = Bun.spawn([process.execPath, MAIN, "consume", "lines", "--from", "end", "--follow", "--max", "2", "--format", "json", "-b", b.bootstrap], { stdout: "pipe", stderr: "pipe" });
      const got: { value: string; offset: number }[] = [];
      collectJsonLines(follower.stdout, got);
      try {
        // Produce until the follower has seen two records (it may start after the first write).
        await waitFor(async () => {
          await kcat(["-b", b.bootstrap, "-P", "-t", "lines", "-p", "0"], { stdin: "late\n" });
          return got.length >= 2;
        }, 30_000, "the follower to print two records");
        expect(await follower.exited).toBe(0);
      } finally {
        follower.kill(9);
      }
      expect(got.map((r) => r.value)).toEqual(["late", "late"]);
    },
    CLIENT_TEST_TIMEOUT,
  );

  test.skipIf(missing("kcat"))(
    "produce: keys land where librdkafka's murmur2_random and consistent_random put them",
    async () => {
      const keys = Array.from({ length: 200 }, (_, i) => `key-${i * 7919}`);
      const input = keys.map((k) => `${k}:v`).join("\n") + "\n";
      for (const t of ["m-kcat", "m-klite", "c-kcat", "c-klite"]) await ok(["topic", "create", t, "--partitions", "7"]);
      await kcat(["-b", b.bootstrap, "-P", "-t", "m-kcat", "-K:", "-X", "partitioner=murmur2_random"], { stdin: input });
      await kcat(["-b", b.bootstrap, "-P", "-t", "c-kcat", "-K:", "-X", "partitioner=consistent_random"], { stdin: input });
      await ok(["produce", "m-klite", "--key-separator", ":"], input);
      await ok(["produce", "c-klite", "--key-separator", ":", "--partitioner", "crc32"], input);
      const placement = async (t: string) =>
        (await kcat(["-b", b.bootstrap, "-C", "-t", t, "-e", "-q", "-f", "%k %p\n"])).trim().split("\n").sort();
      const m = await placement("m-kcat");
      expect(m.length).toBe(keys.length);
      expect(new Set(m.map((l) => l.split(" ")[1])).size).toBe(7);
      expect(await placement("m-klite")).toEqual(m);
      const c = await placement("c-kcat");
      expect(await placement("c-klite")).toEqual(c);
      expect(c).not.toEqual(m);
    },
    CLIENT_TEST_TIMEOUT,
  );

  test.skipIf(missing("kcat"))(
    "group reset-offsets: dry run changes nothing, --execute moves the group, a kcat group consumer resumes there",
    async () => {
      await ok(["topic", "create", "rs", "--partitions", "2"]);
      await ok(["produce", "rs", "--partition", "0"], "a\nb\nc\nd\ne\n");
      await ok(["produce", "rs", "--partition", "1"], "f\ng\nh\n");
      const groupRead = async () => (await kcat(["-b", b.bootstrap, "-G", "rsg", "rs", "-e", "-q", "-X", "auto.offset.reset=earliest", "-f", "%p:%o:%s\n"])).trim().split("\n").filter(Boolean).sort();
      expect(await groupRead()).toEqual(["0:0:a", "0:1:b", "0:2:c", "0:3:d", "0:4:e", "1:0:f", "1:1:g", "1:2:h"]);

      const described = JSON.parse(await ok(["group", "describe", "rsg", "--format", "json"]));
      expect(described.state).toBe("Empty");
      expect(described.offsets.map((o: { partition: number; committed: number; logEnd: number; lag: number }) => [o.partition, o.committed, o.logEnd, o.lag])).toEqual([
        [0, 5, 5, 0],
        [1, 3, 3, 0],
      ]);

      const dry = await klite(["group", "reset-offsets", "rsg", "--topic", "rs", "--shift-by", "-2", "-b", b.bootstrap]);
      expect(dry.code).toBe(0);
      expect(dry.stdout).toBe("GROUP  TOPIC  PARTITION  CURRENT-OFFSET  NEW-OFFSET\nrsg    rs     0          5               3\nrsg    rs     1          3               1\n");
      expect(dry.stderr).toContain("dry run");
      expect(await groupRead()).toEqual([]);

      await ok(["group", "reset-offsets", "rsg", "--topic", "rs:0", "--to-offset", "3", "--execute"]);
      await ok(["group", "reset-offsets", "rsg", "--topic", "rs:1", "--to-earliest", "--execute"]);
      expect(await groupRead()).toEqual(["0:3:d", "0:4:e", "1:0:f", "1:1:g", "1:2:h"]);

      // Lag after moving back by one on every partition: one record each.
      await ok(["group", "reset-offsets", "rsg", "--all-topics", "--shift-by", "-1", "--execute"]);
      const lagged = JSON.parse(await ok(["group", "describe", "rsg", "--format", "json"]));
      expect(lagged.offsets.map((o: { lag: number }) => o.lag)).toEqual([1, 1]);
      // Reset to a time: the first record at or after it, the end when there is none.
      await ok(["group", "reset-offsets", "rsg", "--topic", "rs", "--to-datetime", "2000-01-01T00:00:00Z", "--execute"]);
      expect((await groupRead()).length).toBe(8);
      await ok(["group", "reset-offsets", "rsg", "--topic", "rs", "--to-datetime", new Date(Date.now() + 3_600_000).toISOString(), "--execute"]);
      expect(await groupRead()).toEqual([]);

      expect(await ok(["group", "delete", "rsg"])).toBe("deleted group rsg\n");
      const gone = await klite(["group", "describe", "rsg", "-b", b.bootstrap]);
      expect(gone.code).toBe(1);
      expect(gone.stderr).toMatch(/^klite group describe: .*GROUP_ID_NOT_FOUND \(69\).*\n$/);
    },
    CLIENT_TEST_TIMEOUT,
  );

  test.skipIf(missing("python"))(
    "group describe and list show a live member of a real consumer; reset-offsets refuses while it is there",
    async () => {
      await ok(["topic", "create", "live", "--partitions", "2"]);
      const member = Bun.spawn(["/usr/bin/python3", join(ROOT, "test/clients/py/groups_py.py"), b.bootstrap, "member", "live", "liveg"], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
      const events: { event: string; partitions?: number[] }[] = [];
      collectJsonLines(member.stdout, events);
      try {
        await waitFor(() => events.some((e) => e.event === "assigned"), 60_000, "the python member's assignment");
        const d = JSON.parse(await ok(["group", "describe", "liveg", "--format", "json"]));
        expect(d.type).toBe("classic");
        expect(d.state).toBe("Stable");
        expect(d.members.length).toBe(1);
        expect(d.members[0].assignment).toEqual([{ topic: "live", partitions: [0, 1] }]);
        expect(d.offsets.map((o: { memberId: string }) => o.memberId)).toEqual([d.members[0].memberId, d.members[0].memberId]);
        const text = await ok(["group", "describe", "liveg"]);
        expect(text.split("\n")[0]).toBe("Group liveg: classic, Stable, consumer/range, 1 member");
        const listed = (await ok(["group", "list", "--format", "json"])).trim().split("\n").map((l) => JSON.parse(l));
        expect(listed.find((g: { group: string }) => g.group === "liveg")).toMatchObject({ state: "Stable" });
        const refused = await klite(["group", "reset-offsets", "liveg", "--topic", "live", "--to-earliest", "--execute", "-b", b.bootstrap]);
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain("NON_EMPTY_GROUP (68)");
      } finally {
        member.stdin.end();
        await member.exited;
      }
    },
    CLIENT_TEST_TIMEOUT,
  );

  test.skipIf(missing("ckjs"))(
    "group describe and list show a KIP-848 consumer group of librdkafka 2.15",
    async () => {
      await ok(["topic", "create", "k848", "--partitions", "3"]);
      await ok(["produce", "k848", "-K", ":"], "a:1\nb:2\nc:3\n");
      const member = Bun.spawn(["node", join(CLIENTS, "ckjs/hold-consumer.mjs"), b.bootstrap, "k848", "g848", "3"], { cwd: CLIENTS, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
      const events: { event: string }[] = [];
      collectJsonLines(member.stdout, events);
      try {
        await waitFor(() => events.some((e) => e.event === "assigned"), 60_000, "the KIP-848 member's assignment");
        const d = JSON.parse(await ok(["group", "describe", "g848", "--format", "json"]));
        expect(d).toMatchObject({ group: "g848", type: "consumer", state: "Stable", protocol: "uniform" });
        expect(d.members.length).toBe(1);
        expect(d.members[0]).toMatchObject({ clientId: "hold-consumer", assignment: [{ topic: "k848", partitions: [0, 1, 2] }] });
        expect(d.offsets.map((o: { partition: number; memberId: string }) => [o.partition, o.memberId])).toEqual([0, 1, 2].map((p) => [p, d.members[0].memberId]));
        const listed = (await ok(["group", "list", "--type", "consumer", "--format", "json"])).trim().split("\n").map((l) => JSON.parse(l));
        expect(listed).toContainEqual({ group: "g848", type: "consumer", state: "Stable", protocolType: "consumer" });
      } finally {
        member.stdin.end();
        await member.exited;
      }
    },
    CLIENT_TEST_TIMEOUT,
  );

  test.skipIf(missing("python"))(
    "consume --isolation read_committed leaves out an aborted transaction, as confluent-kafka-python does",
    async () => {
      await ok(["topic", "create", "txn", "-p", "1"]);
      await py("txn.py", b.bootstrap, ["commit_abort", "txn", "cli-txid"]);
      const rows = async (isolation: string) =>
        (await ok(["consume", "txn", "--isolation", isolation, "--format", "json"])).trim().split("\n").map((l) => JSON.parse(l) as { partition: number; offset: number; key: string });
      const committed = await rows("read_committed");
      expect(committed.map((r) => r.key)).toEqual(["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"]);
      const theirs = await py<[number, number, string][]>("txn.py", b.bootstrap, ["consume", "txn", "read_committed"]);
      expect(committed.map((r) => [r.partition, r.offset, r.key])).toEqual(theirs);
      expect((await rows("read_uncommitted")).map((r) => r.key)).toEqual(["c0", "c1", "c2", "c3", "c4", "a0", "a1", "a2", "a3", "a4", "c5", "c6", "c7", "c8", "c9"]);
    },
    CLIENT_TEST_TIMEOUT,
  );

  test("consume --group: two klite consumers split the partitions, commit, and leave on SIGTERM", async () => {
    await ok(["topic", "create", "shared", "-p", "4"]);
    for (let p = 0; p < 4; p++) await ok(["produce", "shared", "-p", String(p)], `a${p}\nb${p}\n`);
    type Row = { partition: number; value: string };
    const start = () => {
      const proc = Bun.spawn([process.execPath, MAIN, "consume", "shared", "--group", "sg", "--follow", "--format", "json", "-b", b.bootstrap], { stdout: "pipe", stderr: "pipe" });
      const rows: Row[] = [];
      collectJsonLines(proc.stdout, rows);
      return { proc, rows };
    };
    const describeGroup = async () => JSON.parse(await ok(["group", "describe", "sg", "--format", "json"])) as { state: string; members: { memberId: string; assignment: { partitions: number[] }[] }[]; offsets: { partition: number; committed: number }[] };
    const first = start();
    const second = start();
    try {
      await waitFor(async () => {
        // The group exists once the first consumer has joined.
        const r = await klite(["group", "describe", "sg", "--format", "json", "-b", b.bootstrap]);
        if (r.code !== 0) return false;
        const d = JSON.parse(r.stdout) as Awaited<ReturnType<typeof describeGroup>>;
        return d.state === "Stable" && d.members.length === 2 && d.members.every((m) => m.assignment[0]?.partitions.length === 2);
      }, 30_000, "two members with two partitions each");
      // The eight old records were read once in all, by whoever held their partition then.
      await waitFor(() => first.rows.length + second.rows.length >= 8, 30_000, "the old records");
      for (let p = 0; p < 4; p++) await ok(["produce", "shared", "-p", String(p)], `new${p}\n`);
      await waitFor(() => [...first.rows, ...second.rows].filter((r) => r.value.startsWith("new")).length === 4, 30_000, "the new records");
      const d = await describeGroup();
      // Each consumer printed exactly the new records of the partitions the group gave it.
      const owned = d.members.map((m) => m.assignment[0]!.partitions);
      const newOf = (rows: Row[]) => rows.filter((r) => r.value.startsWith("new")).map((r) => r.partition).sort();
      expect([newOf(first.rows), newOf(second.rows)].sort()).toEqual(owned.sort());
      expect([...first.rows, ...second.rows].map((r) => r.value).sort()).toEqual(["a0", "a1", "a2", "a3", "b0", "b1", "b2", "b3", "new0", "new1", "new2", "new3"]);
    } finally {
      first.proc.kill("SIGTERM");
      second.proc.kill("SIGTERM");
    }
    expect([await first.proc.exited, await second.proc.exited]).toEqual([0, 0]);
    const after = await describeGroup();
    expect(after.state).toBe("Empty");
    expect(after.offsets.map((o) => [o.partition, o.committed])).toEqual([
      [0, 3],
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
  }, CLIENT_TEST_TIMEOUT);

  test("topic list/describe/alter/delete, with JSON output", async () => {
    await ok(["topic", "create", "cfg", "-p", "2", "--config", "cleanup.policy=compact"]);
    const listed = (await ok(["topic", "list", "--format", "json"])).trim().split("\n").map((l) => JSON.parse(l));
    expect(listed.find((t: { name: string }) => t.name === "cfg")).toMatchObject({ partitions: 2, internal: false });
    expect((await ok(["topic", "list"])).split("\n")).toContain("cfg");
    await ok(["produce", "cfg", "-K", "=", "-p", "1"], "a=1\nb=2\n");
    await ok(["topic", "alter", "cfg", "--partitions", "3", "--config", "retention.ms=60000"]);
    const d = JSON.parse(await ok(["topic", "describe", "cfg", "--format", "json"]));
    expect(d.partitionCount).toBe(3);
    expect(d.configs).toEqual({ "cleanup.policy": "compact", "retention.ms": "60000" });
    expect(d.partitions.map((p: { startOffset: number; endOffset: number }) => [p.startOffset, p.endOffset])).toEqual([
      [0, 0],
      [0, 2],
      [0, 0],
    ]);
    const text = await ok(["topic", "describe", "cfg"]);
    expect(text.split("\n")[0]).toMatch(/^Topic: cfg\tTopicId: [0-9a-f]{32}\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: (cleanup.policy=compact,retention.ms=60000|retention.ms=60000,cleanup.policy=compact)$/);
    expect(text.split("\n")[2]).toBe("\tTopic: cfg\tPartition: 1\tLeader: 1\tReplicas: 1\tIsr: 1\tStartOffset: 0\tEndOffset: 2");
    await ok(["topic", "alter", "cfg", "--delete-config", "retention.ms"]);
    expect(JSON.parse(await ok(["topic", "describe", "cfg", "--format", "json"])).configs).toEqual({ "cleanup.policy": "compact" });
    expect(await ok(["topic", "delete", "cfg"])).toBe("deleted topic cfg\n");
    const gone = await klite(["topic", "describe", "cfg", "-b", b.bootstrap]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe("klite topic describe: Metadata cfg: UNKNOWN_TOPIC_OR_PARTITION (3)\n");
  });

  test("errors: a broker error code exits 1 with one line; --if-not-exists", async () => {
    await ok(["topic", "create", "dup"]);
    const again = await klite(["topic", "create", "dup", "-b", b.bootstrap]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^klite topic create: CreateTopics dup: TOPIC_ALREADY_EXISTS \(36\)[^\n]*\n$/);
    expect((await klite(["topic", "create", "dup", "--if-not-exists", "-b", b.bootstrap])).code).toBe(0);
    const bad = await klite(["topic", "create", "bad name!", "-b", b.bootstrap]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/INVALID_TOPIC_EXCEPTION \(17\)/);
    const down = await klite(["topic", "list", "-b", "127.0.0.1:1"]);
    expect(down.code).toBe(1);
    expect(down.stderr.trim().split("\n").length).toBe(1);
    expect(down.stderr).toContain("127.0.0.1:1");
  });

  test("bad flags exit 2 with one line on stderr", async () => {
    const cases: [string[], RegExp][] = [
      [["topic", "create"], /^klite topic create: missing TOPIC\n$/],
      [["topic", "create", "x", "--partitions", "three"], /^klite topic create: --partitions: not an integer: three\n$/],
      [["topic", "frobnicate"], /^klite: topic: expected one of create, list, describe, alter, delete, got frobnicate\n$/],
      [["consume", "x", "--bogus"], /^klite consume: unknown option --bogus\n$/],
      [["consume", "x", "--from"], /^klite consume: --from needs a value\n$/],
      [["consume", "x", "--from", "yesterday-ish"], /^klite consume: --from: not an ISO 8601 date-time or epoch milliseconds: yesterday-ish\n$/],
      [["produce", "x", "--acks", "2"], /^klite produce: --acks: expected one of 0, 1, -1, all, got 2\n$/],
      [["produce", "x", "y"], /^klite produce: unexpected argument y\n$/],
      [["group", "reset-offsets", "g", "--topic", "x"], /^klite group reset-offsets: give exactly one of --to-earliest/],
      [["consume", "x", "--group", "g", "--partition", "1"], /^klite consume: --partition and --group do not go together/],
      [["nonsense"], /^klite: unknown command nonsense \(see klite help\)\n$/],
      [["--no-such-broker-flag"], /^klite serve: unknown option --no-such-broker-flag \(see --help\)\n$/],
    ];
    for (const [args, want] of cases) {
      const r = await klite(args);
      expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 2, stdout: "" });
      expect(r.stderr).toMatch(want);
    }
  });

  test("help and version", async () => {
    const v = await klite(["--version"]);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^klite \d+\.\d+\.\d+ \(Kafka 4\.3 protocol\)\n$/);
    const h = await klite(["help", "consume"]);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain("usage: klite consume TOPIC [options]");
    expect(h.stdout).toContain("--isolation LEVEL");
    const all = await klite(["--help"]);
    expect(all.stdout).toContain("group reset-offsets");
    expect(all.stdout).toContain("--data-dir VALUE");
    expect((await klite(["topic", "create", "--help"])).stdout).toContain("--replication-factor N");
  });

  test("the package's bin (npx klite) runs the same command under node and bun", async () => {
    const bin = join(ROOT, "bin/klite.mjs");
    for (const runtime of ["node", process.execPath]) {
      const v = await run([runtime, bin, "--version"]);
      expect({ runtime, code: v.code, out: v.stdout }).toEqual({ runtime, code: 0, out: (await klite(["--version"])).stdout });
      await ok(["topic", "create", `npx-${runtime === "node" ? "node" : "bun"}`]);
      const listed = await run([runtime, bin, "topic", "list", "-b", b.bootstrap]);
      expect(listed.code).toBe(0);
      expect(listed.stdout.split("\n")).toContain(`npx-${runtime === "node" ? "node" : "bun"}`);
      const usage = await run([runtime, bin, "consume"]);
      expect([usage.code, usage.stderr]).toEqual([2, "klite consume: missing TOPIC\n"]);
    }
  });

  test("bench produce then bench consume report what they moved", async () => {
    await ok(["topic", "create", "bench", "-p", "3"]);
    const p = JSON.parse(await ok(["bench", "produce", "bench", "-n", "5000", "-s", "200", "--format", "json"]));
    expect(p.records).toBe(5000);
    expect(p.recordsPerSec).toBeGreaterThan(0);
    expect(p.latencyMs.p50).toBeLessThanOrEqual(p.latencyMs.p99);
    expect(p.latencyMs.p99).toBeLessThanOrEqual(p.latencyMs.p999);
    const c = JSON.parse(await ok(["bench", "consume", "bench", "--format", "json"]));
    expect(c.records).toBe(5000);
    const d = JSON.parse(await ok(["topic", "describe", "bench", "--format", "json"]));
    expect(d.partitions.reduce((n: number, x: { endOffset: number }) => n + x.endOffset, 0)).toBe(5000);
    // Batches stay under max.message.bytes (1048588 by default) however full they get.
    await ok(["topic", "create", "fill", "-p", "1"]);
    const line = "x".repeat(999);
    await ok(["produce", "fill"], Array.from({ length: 3000 }, () => line).join("\n") + "\n");
    await ok(["bench", "produce", "fill", "-n", "3000", "-s", "1000", "--batch-size", "1048588"]);
    expect(JSON.parse(await ok(["topic", "describe", "fill", "--format", "json"])).partitions[0].endOffset).toBe(6000);
    // A reader that stops early (head) ends consume quietly, with exit 0.
    const piped = await run(["bash", "-o", "pipefail", "-c", `"${process.execPath}" "${MAIN}" consume bench -b ${b.bootstrap} | head -c 10 | wc -c`]);
    expect([piped.code, piped.stdout.trim(), piped.stderr]).toEqual([0, "10", ""]);
    const text = await ok(["bench", "produce", "bench", "-n", "100", "-s", "10", "-z", "lz4"]);
    expect(text).toMatch(/^100 records sent, [\d,.]+ records\/sec \([\d,.]+ MB\/sec\), .* ms 99\.9th\.\n$/);
  });
});
