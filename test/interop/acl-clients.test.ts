// ACLs with real clients over TCP: users authenticate with SASL PLAIN, ACLs are
// created, listed and deleted through KafkaJS's admin client (createAcls,
// describeAcls, deleteAcls) as a super user, and each change is enforced on
// the next request of the users' own confluent-kafka-python (librdkafka
// 2.0.2) producers and consumers. They survive a restart.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { inProcessBroker, tempDir, withSpawnedBroker, type InProcessBroker } from "../helpers/broker.ts";
import { CLIENT_TEST_TIMEOUT, missing, nodeClient, py } from "../helpers/clients.ts";
import { rdkafkaConfig } from "../helpers/security.ts";
import { rmSync } from "node:fs";

const USERS = ["admin", "alice", "bob", "carol", "dave", "erin", "frank"];
const dataDir = tempDir("klite-acl-");
let b: InProcessBroker;

function start(): Promise<InProcessBroker> {
  return inProcessBroker({
    dataDir,
    listen: "SASL_PLAINTEXT://127.0.0.1:0",
    saslUser: USERS,
    saslPassword: USERS.map((u) => `${u}-secret`),
    saslMechanism: ["PLAIN"],
    connectionFailedAuthenticationDelayMs: 0,
    authorizer: true,
    superUsers: "User:admin",
  });
}

beforeAll(async () => {
  b = await start();
});
afterAll(async () => {
  await b?.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

const as = (user: string) => JSON.stringify(rdkafkaConfig("SASL_PLAINTEXT", { mechanism: "PLAIN", user, password: `${user}-secret` }));
const client = <T = any>(user: string, ...args: string[]) => py<T>("acl.py", b.bootstrap, [as(user), ...args]);
type Binding = { type: string; name: string; pattern?: string; principal: string; host?: string; op: string; perm?: string };
const aclAdmin = <T = any>(user: string, cmd: string, arg: object) =>
  nodeClient<T>("kafkajs", "acl-admin.mjs", b.bootstrap, [user, `${user}-secret`, cmd, JSON.stringify(arg)]);
const create = async (bindings: Binding[]) => (await aclAdmin<{ error: string | null }>("admin", "create", bindings)).error;

const skip = missing("python", "kafkajs");

describe("ACLs through confluent-kafka-python", () => {
  beforeAll(async () => {
    if (skip) return;
    // The super user creates the topics (users have no CREATE).
    for (const t of ["orders", "orders-secret", "hidden", "tx-topic"]) expect((await client("admin", "produce", t)).error).toBeNull();
    expect(
      await create([
        { type: "TOPIC", name: "orders", principal: "User:alice", op: "WRITE" },
        { type: "GROUP", name: "g-alice", principal: "User:alice", op: "READ" },
        { type: "TOPIC", name: "orders", pattern: "PREFIXED", principal: "User:bob", op: "READ" },
        { type: "TOPIC", name: "orders-secret", principal: "User:bob", op: "READ", perm: "DENY" },
        { type: "GROUP", name: "g-bob", principal: "User:bob", op: "READ" },
        { type: "TOPIC", name: "tx-topic", principal: "User:carol", op: "WRITE" },
      ]),
    ).toBeNull();
  }, CLIENT_TEST_TIMEOUT);

  test.skipIf(skip)("describeAcls lists what createAcls made, by MATCH filter too", async () => {
    const all = await aclAdmin("admin", "describe", {});
    expect(all.error).toBeNull();
    expect(all.acls.length).toBe(6);
    const match = await aclAdmin("admin", "describe", { type: "TOPIC", name: "orders-secret", pattern: "MATCH" });
    expect(match.acls.map((a: Binding) => `${a.principal} ${a.pattern} ${a.name} ${a.op} ${a.perm}`)).toEqual([
      "User:bob LITERAL orders-secret READ DENY",
      "User:bob PREFIXED orders READ ALLOW",
    ]);
    // A non-super user may not list them.
    expect((await aclAdmin("alice", "describe", {})).error).toBe("CLUSTER_AUTHORIZATION_FAILED");
  }, CLIENT_TEST_TIMEOUT);

  test.skipIf(skip)("a produce-only user produces but cannot consume", async () => {
    expect((await client("alice", "produce", "orders")).error).toBeNull();
    expect((await client("alice", "consume", "orders", "g-alice")).error).toBe("TOPIC_AUTHORIZATION_FAILED");
    expect((await client("alice", "produce", "hidden")).error).toBe("TOPIC_AUTHORIZATION_FAILED");
  }, CLIENT_TEST_TIMEOUT);

  test.skipIf(skip)("a PREFIXED grant reads every matching topic; DENY beats it", async () => {
    expect(await client("bob", "consume", "orders", "g-bob")).toEqual({ error: null, got: 1 });
    expect((await client("bob", "consume", "orders-secret", "g-bob")).error).toBe("TOPIC_AUTHORIZATION_FAILED");
  }, CLIENT_TEST_TIMEOUT);

  test.skipIf(skip)("consuming in a group needs READ on the group", async () => {
    expect((await client("bob", "consume", "orders", "g-other")).error).toBe("GROUP_AUTHORIZATION_FAILED");
  }, CLIENT_TEST_TIMEOUT);

  test.skipIf(skip)("Metadata lists only the topics a user may describe; the super user sees all", async () => {
    expect((await client("alice", "topics")).topics).toEqual(["orders"]);
    expect((await client("bob", "topics")).topics).toEqual(["orders", "orders-secret"]);
    expect((await client("carol", "topics")).topics).toEqual(["tx-topic"]);
    expect((await client("admin", "topics")).topics).toEqual(["hidden", "orders", "orders-secret", "tx-topic"]);
  }, CLIENT_TEST_TIMEOUT);

  test.skipIf(skip)("transactions need WRITE on the transactional id; the grant applies on the next request", async () => {
    expect((await client("carol", "txn", "tx-topic", "tx-carol")).error).toBe("TRANSACTIONAL_ID_AUTHORIZATION_FAILED");
    expect(await create([{ type: "TRANSACTIONAL_ID", name: "tx-carol", principal: "User:carol", op: "WRITE" }])).toBeNull();
    expect((await client("carol", "txn", "tx-topic", "tx-carol")).error).toBeNull();
  }, CLIENT_TEST_TIMEOUT);

  test.skipIf(skip)("deleteAcls takes a grant away on the next request; ACLs survive a restart", async () => {
    expect(await create([{ type: "TOPIC", name: "hidden", principal: "User:carol", op: "READ" }, { type: "GROUP", name: "g-carol", principal: "User:carol", op: "READ" }])).toBeNull();
    expect(await client("carol", "consume", "hidden", "g-carol")).toEqual({ error: null, got: 1 });
    const del = await aclAdmin("admin", "delete", { type: "TOPIC", name: "hidden" });
    expect(del.error).toBeNull();
    expect(del.deleted.map((a: Binding) => `${a.principal} ${a.name}`)).toEqual(["User:carol hidden"]);
    expect((await client("carol", "consume", "hidden", "g-carol")).error).toBe("TOPIC_AUTHORIZATION_FAILED");

    const before = (await aclAdmin("admin", "describe", {})).acls;
    expect(before.length).toBe(8);
    await b.close();
    b = await start();
    expect((await aclAdmin("admin", "describe", {})).acls).toEqual(before);
    expect((await client("alice", "produce", "orders")).error).toBeNull();
    expect((await client("alice", "produce", "orders-secret")).error).toBe("TOPIC_AUTHORIZATION_FAILED");
  }, CLIENT_TEST_TIMEOUT);
});

describe("ACLs with the current librdkafka (2.15: Metadata v12, Fetch by topic id)", () => {
  const ckjs = async (user: string, ...args: string[]) =>
    (await nodeClient("ckjs", "acl.mjs", b.bootstrap, args, { env: { KLITE_CLIENT_CONF: as(user) } })) as { result: any; sent: Record<string, number> };
  const skipCk = missing("ckjs", "kafkajs");

  test.skipIf(skipCk)("produce-only user, PREFIXED read with a DENY, group READ, hidden topics", async () => {
    expect(await create([
      { type: "TOPIC", name: "ck-", pattern: "PREFIXED", principal: "User:dave", op: "WRITE" },
      { type: "TOPIC", name: "ck-", pattern: "PREFIXED", principal: "User:erin", op: "READ" },
      { type: "TOPIC", name: "ck-secret", principal: "User:erin", op: "READ", perm: "DENY" },
      { type: "GROUP", name: "ck-g", principal: "User:erin", op: "READ" },
      { type: "GROUP", name: "ck-g", principal: "User:dave", op: "READ" },
    ])).toBeNull();
    for (const t of ["ck-orders", "ck-secret"]) expect((await client("admin", "produce", t)).error).toBeNull();
    const produced = await ckjs("dave", "produce", "ck-orders");
    expect(produced.result).toEqual({ error: null });
    expect((await ckjs("dave", "produce", "orders")).result).toEqual({ error: "TOPIC_AUTHORIZATION_FAILED" });
    expect((await ckjs("dave", "consume", "ck-orders", "ck-g")).result.error).toBe("TOPIC_AUTHORIZATION_FAILED");
    const read = await ckjs("erin", "consume", "ck-orders", "ck-g");
    expect(read.result).toEqual({ error: null, got: 1 });
    expect(read.sent.Fetch).toBeGreaterThanOrEqual(13); // topics addressed by id
    expect((await ckjs("erin", "consume", "ck-secret", "ck-g")).result.error).toBe("TOPIC_AUTHORIZATION_FAILED");
    expect((await ckjs("erin", "consume", "ck-orders", "ck-other")).result.error).toBe("GROUP_AUTHORIZATION_FAILED");
    const md = await ckjs("erin", "topics");
    expect(md.result).toEqual(["ck-orders", "ck-secret"]);
    expect(md.sent.Metadata).toBeGreaterThanOrEqual(12);
  }, CLIENT_TEST_TIMEOUT);
});

describe("ACLs with KafkaJS 2.2.4 (its own protocol versions)", () => {
  test.skipIf(missing("kafkajs", "python"))("a user with CREATE, WRITE, READ on the topic and READ on the group creates it, produces and consumes", async () => {
    expect(await create([
      { type: "TOPIC", name: "kjs-t", principal: "User:frank", op: "WRITE" },
      { type: "TOPIC", name: "kjs-t", principal: "User:frank", op: "CREATE" },
      { type: "TOPIC", name: "kjs-t", principal: "User:frank", op: "READ" },
      { type: "GROUP", name: "kjs-g", principal: "User:frank", op: "READ" },
    ])).toBeNull();
    // frank's producer creates the topic (Metadata auto-creation with CREATE on it).
    const conf = (user: string) => JSON.stringify({ sasl: { mechanism: "plain", username: user, password: `${user}-secret` } });
    const ok = await nodeClient("kafkajs", "secure.mjs", b.bootstrap, [conf("frank"), "roundtrip", "kjs-t", "kjs-g"]);
    expect(ok.consumed.length).toBe(3);
    // A produce-only user's KafkaJS consumer is refused too, but KafkaJS 2.2.4 keeps retrying the refused
    // Fetch without telling the application, so that case is tested with librdkafka above.
  }, CLIENT_TEST_TIMEOUT);
});

describe("crash safety", () => {
  test.skipIf(missing("kafkajs"))("ACLs acknowledged by CreateAcls/DeleteAcls survive kill -9", async () => {
    // Unauthenticated connections are User:ANONYMOUS; making it the super user lets KafkaJS administer over PLAINTEXT.
    await withSpawnedBroker({ args: ["--authorizer", "--super-users", "User:ANONYMOUS"] }, async (sb) => {
      const call = (bootstrap: string, cmd: string, arg: object) => nodeClient("kafkajs", "acl-admin.mjs", bootstrap, ["-", "", cmd, JSON.stringify(arg)]);
      const bindings = Array.from({ length: 20 }, (_, i) => ({ type: "TOPIC", name: `crash-${i}`, principal: "User:zoe", op: "READ" }));
      expect(await call(sb.bootstrap, "create", bindings)).toEqual({ error: null });
      expect((await call(sb.bootstrap, "delete", { name: "crash-7" })).deleted.length).toBe(1);
      await sb.kill9();
      const again = await sb.restart();
      const listed = await call(again.bootstrap, "describe", {});
      expect(listed.acls.map((a: Binding) => a.name).sort()).toEqual(bindings.map((x) => x.name).filter((n) => n !== "crash-7").sort());
    });
  }, CLIENT_TEST_TIMEOUT);
});

describe("without --authorizer", () => {
  test.skipIf(skip)("the ACL APIs answer SECURITY_DISABLED (MirrorMaker 2's 'no ACLs to copy')", async () => {
    const plain = await inProcessBroker({});
    try {
      const call = (cmd: string, arg: object) => nodeClient("kafkajs", "acl-admin.mjs", plain.bootstrap, ["-", "", cmd, JSON.stringify(arg)]);
      expect(await call("describe", {})).toEqual({ error: "SECURITY_DISABLED" });
      expect(await call("create", [{ type: "TOPIC", name: "t", principal: "User:a", op: "READ" }])).toEqual({ error: "SECURITY_DISABLED" });
      expect(await call("delete", {})).toEqual({ error: "SECURITY_DISABLED" });
    } finally {
      await plain.cleanup();
    }
  }, CLIENT_TEST_TIMEOUT);
});
