// Authorizer cost. Two measurements, each against its own reference in the
// same run:
//  1. decisions/s of Authorizer.authorize (cached, the steady state of Produce
//     and Fetch) against Authorizer.decide (the uncached scan of the ACLs), with
//     --acls ACLs in force;
//  2. Fetch requests/s through the whole dispatcher (decode, checks, handler,
//     encode; no socket) for one principal fetching --topics empty topics at
//     once: no authorizer (the default) against --authorizer with READ granted
//     by a PREFIXED ACL among the others.
//
// Usage: bun test/bench/acl.ts [--time=1000] [--runs=3] [--acls=1000] [--topics=10]

import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mkdtempSync } from "node:fs";
import { apis, requestHeaderVersion } from "../../generated/index.ts";
import * as RequestHeader from "../../generated/RequestHeader.ts";
import { Broker } from "../../src/broker.ts";
import { DEFAULT_OPTIONS } from "../../src/config.ts";
import { Authorizer } from "../../src/acl/authorizer.ts";
import { AclStore } from "../../src/acl/store.ts";
import { Operation as Op, PatternType as PT, Permission as P, ResourceType as RT, type AclBinding } from "../../src/acl/model.ts";
import { handleFrame } from "../../src/server/dispatch.ts";
import { createTopic } from "../../src/meta/topic-create.ts";

function opt(name: string, dflt: number): number {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.slice(name.length + 3)) : dflt;
}
const TIME_MS = opt("time", 1000);
const RUNS = opt("runs", 3);
const ACLS = opt("acls", 1000);
const TOPICS = opt("topics", 10);

/** Median ops/s over RUNS runs of about TIME_MS each, after a warm-up. */
async function measure(fn: () => unknown | Promise<unknown>, batch = 1000): Promise<number> {
  const runFor = async (ms: number) => {
    let n = 0;
    const start = performance.now();
    while (performance.now() - start < ms) {
      for (let i = 0; i < batch; i++) {
        const r = fn();
        if (r instanceof Promise) await r;
      }
      n += batch;
    }
    return (n * 1000) / (performance.now() - start);
  };
  await runFor(Math.min(300, TIME_MS / 2));
  const rates: number[] = [];
  for (let i = 0; i < RUNS; i++) rates.push(await runFor(TIME_MS));
  return rates.sort((a, b) => a - b)[Math.floor(rates.length / 2)]!;
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

/** ACLs that do not apply to the benchmark's principal (other users, other topics), plus its own PREFIXED grant. */
function bindings(): AclBinding[] {
  const out: AclBinding[] = [];
  for (let i = 0; i < ACLS - 1; i++) {
    out.push({ resourceType: RT.TOPIC, resourceName: `team${i % 50}-topic-${i}`, patternType: i % 3 === 0 ? PT.PREFIXED : PT.LITERAL, principal: `User:user${i}`, host: "*", operation: Op.READ, permission: P.ALLOW });
  }
  out.push({ resourceType: RT.TOPIC, resourceName: "bench-", patternType: PT.PREFIXED, principal: "User:bench", host: "*", operation: Op.READ, permission: P.ALLOW });
  return out;
}

const dirs: string[] = [];
const dir = () => {
  const d = mkdtempSync(join(tmpdir(), "klite-bench-acl-"));
  dirs.push(d);
  return d;
};

// 1. decisions/s
{
  const store = new AclStore(dir());
  store.add(bindings());
  const az = new Authorizer(store, { superUsers: [], allowEveryoneIfNoAclFound: false });
  const names = Array.from({ length: TOPICS }, (_, i) => `bench-${i}`);
  let i = 0;
  if (!az.authorize("User:bench", "127.0.0.1", Op.READ, RT.TOPIC, names[0]!)) throw new Error("the grant does not apply");
  const cached = await measure(() => az.authorize("User:bench", "127.0.0.1", Op.READ, RT.TOPIC, names[i++ % TOPICS]!), 10_000);
  const uncached = await measure(() => az.decide("User:bench", "127.0.0.1", Op.READ, RT.TOPIC, names[i++ % TOPICS]!), 100);
  console.log(`authorize, ${ACLS} ACLs in force: cached ${fmt(cached)} decisions/s, uncached scan ${fmt(uncached)} decisions/s (x${(cached / uncached).toFixed(0)})`);
}

// 2. Fetch through the dispatcher, authorizer off vs on
function fetchFrame(): Uint8Array {
  const version = 12;
  const api = apis.get(1)!;
  const header = RequestHeader.encode({ requestApiKey: 1, requestApiVersion: version, correlationId: 1, clientId: "bench" }, requestHeaderVersion(1, version));
  const body = api.request.encode(
    {
      ...api.request.create(),
      replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: Array.from({ length: TOPICS }, (_, i) => ({ topic: `bench-${i}`, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] })),
      forgottenTopicsData: [], rackId: "",
    } as never,
    version,
  );
  const frame = new Uint8Array(header.length + body.length);
  frame.set(header);
  frame.set(body, header.length);
  return frame;
}

async function fetchBench(authorizer: boolean) {
  const b = new Broker({ ...DEFAULT_OPTIONS, dataDir: dir(), logLevel: "error", authorizer, fsync: "never" });
  b.authorizer?.store.add(bindings());
  for (let i = 0; i < TOPICS; i++) createTopic(b, `bench-${i}`, 1, {});
  const frame = fetchFrame();
  const conn = { connectionId: 1, remoteAddress: "127.0.0.1", principal: "User:bench" };
  const first = await handleFrame(b, conn, frame);
  if (!first || first.length < 100) throw new Error("unexpected fetch answer");
  return { broker: b, call: () => handleFrame(b, conn, frame) };
}

// Runs alternate between the two brokers so that warm-up and machine noise fall on both alike.
const sides = [await fetchBench(false), await fetchBench(true)];
const rates: number[][] = [[], []];
for (let r = 0; r < Math.max(RUNS, 3); r++) for (const s of [0, 1]) rates[s]!.push(await measure(sides[s]!.call, 200));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const off = median(rates[0]!);
const on = median(rates[1]!);
for (const s of sides) await s.broker.close();
console.log(`Fetch of ${TOPICS} topics through the dispatcher: no authorizer ${fmt(off)} req/s, --authorizer (${ACLS} ACLs, READ by a PREFIXED grant) ${fmt(on)} req/s (${((on / off - 1) * 100).toFixed(1)}%)`);

for (const d of dirs) rmSync(d, { recursive: true, force: true });
