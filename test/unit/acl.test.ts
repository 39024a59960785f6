// ACL model, authorizer rules and the per-API checks, through the dispatcher
// (real framing and codecs) with a principal on the connection.

import { afterAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { Broker } from "../../src/broker.ts";
import { DEFAULT_OPTIONS, parseOptions } from "../../src/config.ts";
import { Authorizer } from "../../src/acl/authorizer.ts";
import { AclStore } from "../../src/acl/store.ts";
import { access, apiChecks, UNCHECKED_APIS } from "../../src/acl/api-checks.ts";
import { apis } from "../../generated/index.ts";
import { filterMatches, Operation as Op, PatternType as PT, Permission as P, ResourceType as RT, type AclBinding, type AclFilter } from "../../src/acl/model.ts";
import { ErrorCode } from "../../src/protocol/errors.ts";
import { callDispatcher, type Obj } from "../helpers/dispatch-call.ts";
import { tempDir } from "../helpers/broker.ts";

const acl = (over: Partial<AclBinding>): AclBinding => ({
  resourceType: RT.TOPIC, resourceName: "t", patternType: PT.LITERAL, principal: "User:alice", host: "*", operation: Op.READ, permission: P.ALLOW, ...over,
});
const anyFilter: AclFilter = { resourceType: RT.ANY, resourceName: null, patternType: PT.ANY, principal: null, host: null, operation: Op.ANY, permission: P.ANY };

const dirs: string[] = [];
const brokers: Broker[] = [];
afterAll(async () => {
  for (const b of brokers) await b.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function dataDir(): string {
  const d = tempDir("klite-acl-");
  dirs.push(d);
  return d;
}

function authorizerWith(acls: AclBinding[], opts: { superUsers?: string[]; allowEveryone?: boolean } = {}): Authorizer {
  const store = new AclStore(dataDir());
  store.add(acls);
  return new Authorizer(store, { superUsers: opts.superUsers ?? [], allowEveryoneIfNoAclFound: opts.allowEveryone ?? false });
}

describe("filters match as Kafka's AclBindingFilter", () => {
  const lit = acl({ resourceName: "orders" });
  const pre = acl({ resourceName: "ord", patternType: PT.PREFIXED });
  const wild = acl({ resourceName: "*" });
  test("ANY pattern type with a name matches that exact name of any pattern type", () => {
    const f = { ...anyFilter, resourceName: "ord" };
    expect([lit, pre, wild].map((b) => filterMatches(f, b))).toEqual([false, true, false]);
  });
  test("MATCH finds every pattern that applies to the named resource", () => {
    const f = { ...anyFilter, resourceName: "orders", patternType: PT.MATCH };
    expect([lit, pre, wild].map((b) => filterMatches(f, b))).toEqual([true, true, true]);
    expect(filterMatches({ ...f, resourceName: "other" }, pre)).toBe(false);
  });
  test("a specific pattern type matches only that type; entry fields filter too", () => {
    expect(filterMatches({ ...anyFilter, patternType: PT.PREFIXED }, lit)).toBe(false);
    expect(filterMatches({ ...anyFilter, principal: "User:bob" }, lit)).toBe(false);
    expect(filterMatches({ ...anyFilter, operation: Op.READ, permission: P.ALLOW, host: "*" }, lit)).toBe(true);
    expect(filterMatches({ ...anyFilter, resourceType: RT.GROUP }, lit)).toBe(false);
  });
});

describe("authorizer decisions (StandardAuthorizer rules)", () => {
  const alice = "User:alice";
  test("no ACL: denied by default, allowed with allow-everyone-if-no-acl-found; an ACL on the resource for someone else denies", () => {
    expect(authorizerWith([]).authorize(alice, "1.2.3.4", Op.READ, RT.TOPIC, "t")).toBe(false);
    expect(authorizerWith([], { allowEveryone: true }).authorize(alice, "1.2.3.4", Op.READ, RT.TOPIC, "t")).toBe(true);
    const az = authorizerWith([acl({ principal: "User:bob" })], { allowEveryone: true });
    expect(az.authorize(alice, "1.2.3.4", Op.READ, RT.TOPIC, "t")).toBe(false);
    expect(az.authorize(alice, "1.2.3.4", Op.READ, RT.TOPIC, "other")).toBe(true);
  });
  test("DENY beats ALLOW; ALL covers every operation", () => {
    const az = authorizerWith([acl({ operation: Op.ALL }), acl({ operation: Op.WRITE, permission: P.DENY })]);
    expect(az.authorize(alice, "h", Op.READ, RT.TOPIC, "t")).toBe(true);
    expect(az.authorize(alice, "h", Op.WRITE, RT.TOPIC, "t")).toBe(false);
  });
  test("ALLOW READ/WRITE/DELETE/ALTER imply DESCRIBE, ALTER_CONFIGS implies DESCRIBE_CONFIGS; a DENY implies nothing", () => {
    for (const op of [Op.READ, Op.WRITE, Op.DELETE, Op.ALTER]) expect(authorizerWith([acl({ operation: op })]).authorize(alice, "h", Op.DESCRIBE, RT.TOPIC, "t")).toBe(true);
    expect(authorizerWith([acl({ operation: Op.CREATE })]).authorize(alice, "h", Op.DESCRIBE, RT.TOPIC, "t")).toBe(false);
    expect(authorizerWith([acl({ operation: Op.ALTER_CONFIGS })]).authorize(alice, "h", Op.DESCRIBE_CONFIGS, RT.TOPIC, "t")).toBe(true);
    expect(authorizerWith([acl({ operation: Op.DESCRIBE })]).authorize(alice, "h", Op.READ, RT.TOPIC, "t")).toBe(false);
    const az = authorizerWith([acl({ operation: Op.ALL }), acl({ operation: Op.READ, permission: P.DENY })]);
    expect(az.authorize(alice, "h", Op.DESCRIBE, RT.TOPIC, "t")).toBe(true);
    expect(az.authorize(alice, "h", Op.READ, RT.TOPIC, "t")).toBe(false);
  });
  test("PREFIXED, wildcard resource, User:* and host matching", () => {
    const az = authorizerWith([
      acl({ resourceName: "logs-", patternType: PT.PREFIXED }),
      acl({ resourceName: "*", resourceType: RT.GROUP, principal: "User:*" }),
      acl({ resourceName: "h-only", host: "10.0.0.9" }),
    ]);
    expect(az.authorize(alice, "h", Op.READ, RT.TOPIC, "logs-app")).toBe(true);
    expect(az.authorize(alice, "h", Op.READ, RT.TOPIC, "log")).toBe(false);
    expect(az.authorize("User:zed", "h", Op.READ, RT.GROUP, "any-group")).toBe(true);
    expect(az.authorize(alice, "10.0.0.9", Op.READ, RT.TOPIC, "h-only")).toBe(true);
    expect(az.authorize(alice, "10.0.0.8", Op.READ, RT.TOPIC, "h-only")).toBe(false);
  });
  test("super users bypass every ACL, DENY included", () => {
    const az = authorizerWith([acl({ operation: Op.ALL, permission: P.DENY, principal: "User:*" })], { superUsers: ["User:root"] });
    expect(az.authorize("User:root", "h", Op.WRITE, RT.TOPIC, "t")).toBe(true);
    expect(az.authorize(alice, "h", Op.WRITE, RT.TOPIC, "t")).toBe(false);
  });
  test("cached decisions follow ACL changes", () => {
    const az = authorizerWith([]);
    expect(az.authorize(alice, "h", Op.READ, RT.TOPIC, "t")).toBe(false);
    az.store.add([acl({})]);
    expect(az.authorize(alice, "h", Op.READ, RT.TOPIC, "t")).toBe(true);
    az.store.remove([anyFilter]);
    expect(az.authorize(alice, "h", Op.READ, RT.TOPIC, "t")).toBe(false);
  });
  test("by resource type (idempotent producers): an ALLOW WRITE anywhere, unless a wider DENY cancels it", () => {
    expect(authorizerWith([acl({ operation: Op.WRITE })]).authorizeByResourceType(alice, "h", Op.WRITE, RT.TOPIC)).toBe(true);
    expect(authorizerWith([acl({ operation: Op.READ })]).authorizeByResourceType(alice, "h", Op.WRITE, RT.TOPIC)).toBe(false);
    const denied = authorizerWith([acl({ operation: Op.WRITE, resourceName: "ab" }), acl({ operation: Op.WRITE, permission: P.DENY, resourceName: "a", patternType: PT.PREFIXED })]);
    expect(denied.authorizeByResourceType(alice, "h", Op.WRITE, RT.TOPIC)).toBe(false);
    expect(authorizerWith([acl({ operation: Op.WRITE }), acl({ operation: Op.WRITE, permission: P.DENY, resourceName: "*" })]).authorizeByResourceType(alice, "h", Op.WRITE, RT.TOPIC)).toBe(false);
  });
  test("authorized operations as Kafka's bit field", () => {
    const az = authorizerWith([acl({ operation: Op.WRITE })]);
    expect(az.authorizedOperations(alice, "h", RT.TOPIC, "t")).toBe((1 << Op.WRITE) | (1 << Op.DESCRIBE));
  });
});

describe("options", () => {
  test("--authorizer, --allow-everyone-if-no-acl-found, --super-users", () => {
    const o = parseOptions(["--authorizer", "--allow-everyone-if-no-acl-found", "--super-users", "User:a;User:b"], {});
    expect([o.authorizer, o.allowEveryoneIfNoAclFound, o.superUsers]).toEqual([true, true, "User:a;User:b"]);
    expect(() => parseOptions(["--super-users", "alice"], {})).toThrow(/TYPE:NAME/);
    expect(DEFAULT_OPTIONS.authorizer).toBe(false);
  });
});

test("every served API has an authorization rule (or is one Kafka never checks)", () => {
  const b = new Broker({ ...DEFAULT_OPTIONS, dataDir: dataDir(), logLevel: "error" });
  brokers.push(b);
  for (const key of b.served.keys()) if (!UNCHECKED_APIS.has(key)) expect(apiChecks.has(key) ? key : `api ${key} has no rule`).toBe(key);
});

// ---- through the dispatcher -------------------------------------------------

async function broker(opts: Partial<typeof DEFAULT_OPTIONS> = {}, dir = dataDir()): Promise<Broker> {
  const b = new Broker({ ...DEFAULT_OPTIONS, dataDir: dir, logLevel: "error", ...opts });
  brokers.push(b);
  return b;
}
const ADMIN = { principal: "User:admin" };
const creation = (over: Obj = {}): Obj => ({ resourceType: RT.TOPIC, resourceName: "t", resourcePatternType: PT.LITERAL, principal: "User:alice", host: "*", operation: Op.WRITE, permissionType: P.ALLOW, ...over });
const filter = (over: Obj = {}): Obj => ({ resourceTypeFilter: RT.ANY, resourceNameFilter: null, patternTypeFilter: PT.ANY, principalFilter: null, hostFilter: null, operation: Op.ANY, permissionType: P.ANY, ...over });

describe("ACL APIs", () => {
  test("without --authorizer: SECURITY_DISABLED at every version (what MirrorMaker 2 reads as no ACLs)", async () => {
    const b = await broker();
    for (const v of [1, 2, 3]) {
      const d = await callDispatcher(b, 29, v, filter());
      expect(d.errorCode).toBe(ErrorCode.SECURITY_DISABLED);
      const c = await callDispatcher(b, 30, v, { creations: [creation()] });
      expect((c.results as Obj[])[0]!.errorCode).toBe(ErrorCode.SECURITY_DISABLED);
      const del = await callDispatcher(b, 31, v, { filters: [filter()] });
      expect((del.filterResults as Obj[])[0]!.errorCode).toBe(ErrorCode.SECURITY_DISABLED);
    }
  });

  test("create, describe by filter, delete; bad bindings and filters get INVALID_REQUEST; persisted across restart", async () => {
    const dir = dataDir();
    const b = await broker({ authorizer: true, superUsers: "User:admin" }, dir);
    const c = await callDispatcher(b, 30, 3, {
      creations: [
        creation(),
        creation({ resourceName: "logs-", resourcePatternType: PT.PREFIXED, operation: Op.READ }),
        creation({ resourceType: RT.ANY }),
        creation({ resourcePatternType: PT.MATCH }),
        creation({ resourceType: RT.CLUSTER, resourceName: "not-the-cluster" }),
        creation({ principal: "alice" }),
        creation({ resourceName: "" }),
        creation({ operation: Op.ANY }),
      ],
    }, ADMIN);
    expect((c.results as Obj[]).map((r) => r.errorCode)).toEqual([0, 0, 42, 42, 42, 42, 42, 42]);
    const all = await callDispatcher(b, 29, 3, filter(), ADMIN);
    expect(all.errorCode).toBe(0);
    expect((all.resources as Obj[]).length).toBe(2);
    const match = await callDispatcher(b, 29, 1, filter({ resourceTypeFilter: RT.TOPIC, resourceNameFilter: "logs-app", patternTypeFilter: PT.MATCH }), ADMIN);
    expect((match.resources as Obj[]).map((r) => r.resourceName)).toEqual(["logs-"]);
    const bad = await callDispatcher(b, 29, 2, filter({ operation: Op.UNKNOWN }), ADMIN);
    expect(bad.errorCode).toBe(ErrorCode.INVALID_REQUEST);

    const restarted = await broker({ authorizer: true, superUsers: "User:admin" }, dir);
    const again = await callDispatcher(restarted, 29, 3, filter(), ADMIN);
    expect((again.resources as Obj[]).length).toBe(2);
    const del = await callDispatcher(restarted, 31, 3, { filters: [filter({ patternTypeFilter: PT.PREFIXED }), filter({ permissionType: P.UNKNOWN })] }, ADMIN);
    const results = del.filterResults as Obj[];
    expect(results.map((r) => r.errorCode)).toEqual([0, 42]);
    expect((results[0]!.matchingAcls as Obj[]).map((m) => m.resourceName)).toEqual(["logs-"]);
    const left = await callDispatcher(await broker({ authorizer: true, superUsers: "User:admin" }, dir), 29, 3, filter(), ADMIN);
    expect((left.resources as Obj[]).map((r) => r.resourceName)).toEqual(["t"]);
  });

  test("changing ACLs needs ALTER on the cluster, listing them DESCRIBE", async () => {
    const b = await broker({ authorizer: true });
    const alice = { principal: "User:alice" };
    expect(((await callDispatcher(b, 30, 3, { creations: [creation()] }, alice)).results as Obj[])[0]!.errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    expect((await callDispatcher(b, 29, 3, filter(), alice)).errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    expect(((await callDispatcher(b, 31, 3, { filters: [filter()] }, alice)).filterResults as Obj[])[0]!.errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  });
});

describe("per-API checks", () => {
  async function setup() {
    const b = await broker({ authorizer: true, superUsers: "User:admin", autoCreateTopics: false });
    await callDispatcher(b, 19, 7, { topics: ["visible", "hidden", "mine-1"].map((name) => ({ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] })), timeoutMs: 1000 }, ADMIN);
    await callDispatcher(b, 30, 3, {
      creations: [
        creation({ resourceName: "visible", operation: Op.DESCRIBE }),
        creation({ resourceName: "mine-", resourcePatternType: PT.PREFIXED, operation: Op.WRITE }),
        creation({ resourceType: RT.GROUP, resourceName: "g", operation: Op.DESCRIBE }),
      ],
    }, ADMIN);
    return b;
  }
  const alice = { principal: "User:alice" };

  test("Metadata lists only describable topics and refuses asked-for ones; authorized operations reported", async () => {
    const b = await setup();
    const all = await callDispatcher(b, 3, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: true }, alice);
    const topics = all.topics as Obj[];
    expect(topics.map((t) => t.name).sort()).toEqual(["mine-1", "visible"]);
    expect(topics.find((t) => t.name === "visible")!.topicAuthorizedOperations).toBe(1 << Op.DESCRIBE);
    const asked = await callDispatcher(b, 3, 12, { topics: [{ topicId: "00000000000000000000000000000000", name: "hidden" }], allowAutoTopicCreation: false }, alice);
    expect((asked.topics as Obj[]).map((t) => [t.name, t.errorCode])).toEqual([["hidden", ErrorCode.TOPIC_AUTHORIZATION_FAILED]]);
    const admin = await callDispatcher(b, 3, 10, { topics: null, allowAutoTopicCreation: false, includeClusterAuthorizedOperations: true }, ADMIN);
    expect((admin.topics as Obj[]).length).toBe(3);
    expect(admin.clusterAuthorizedOperations).not.toBe(-2147483648);
    // v0: an empty list means all topics; a list whose every topic is refused must not turn into that.
    const v0 = await callDispatcher(b, 3, 0, { topics: [{ name: "hidden" }] }, alice);
    expect((v0.topics as Obj[]).map((t) => [t.name, t.errorCode])).toEqual([["hidden", ErrorCode.TOPIC_AUTHORIZATION_FAILED]]);
    // By id: the same refusal, without revealing the name.
    const hiddenId = b.topics.get("hidden")!.id;
    const byId = await callDispatcher(b, 3, 12, { topics: [{ topicId: hiddenId, name: null }], allowAutoTopicCreation: false }, alice);
    expect((byId.topics as Obj[]).map((t) => [t.name, t.errorCode])).toEqual([[null, ErrorCode.TOPIC_AUTHORIZATION_FAILED]]);
    // Auto-creation needs CREATE.
    const auto = await broker({ authorizer: true, superUsers: "User:admin", autoCreateTopics: true });
    await callDispatcher(auto, 30, 3, { creations: [creation({ resourceName: "*", operation: Op.DESCRIBE })] }, ADMIN);
    const noCreate = await callDispatcher(auto, 3, 12, { topics: [{ topicId: "00000000000000000000000000000000", name: "fresh" }], allowAutoTopicCreation: true }, alice);
    expect((noCreate.topics as Obj[]).map((t) => [t.name, t.errorCode])).toEqual([["fresh", ErrorCode.TOPIC_AUTHORIZATION_FAILED]]);
    expect(auto.topics.get("fresh")).toBeUndefined();
    await callDispatcher(auto, 30, 3, { creations: [creation({ resourceType: RT.CLUSTER, resourceName: "kafka-cluster", operation: Op.CREATE })] }, ADMIN);
    const created = await callDispatcher(auto, 3, 12, { topics: [{ topicId: "00000000000000000000000000000000", name: "fresh" }], allowAutoTopicCreation: true }, alice);
    expect((created.topics as Obj[]).map((t) => [t.name, t.errorCode])).toEqual([["fresh", ErrorCode.NONE]]);
  });

  test("Produce: WRITE per topic, TOPIC_AUTHORIZATION_FAILED in the refused topic's partitions only", async () => {
    const b = await setup();
    const res = await callDispatcher(b, 0, 9, {
      transactionalId: null, acks: -1, timeoutMs: 1000,
      topicData: ["mine-1", "visible"].map((name) => ({ name, partitionData: [{ index: 0, records: null }] })),
    }, alice);
    const byName = new Map((res.responses as Obj[]).map((t) => [t.name, ((t.partitionResponses as Obj[])[0]!.errorCode)]));
    expect(byName.get("visible")).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    expect(byName.get("mine-1")).not.toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    const txn = await callDispatcher(b, 0, 9, { transactionalId: "tx", acks: -1, timeoutMs: 1000, topicData: [{ name: "mine-1", partitionData: [{ index: 0, records: null }] }] }, alice);
    expect(((txn.responses as Obj[])[0]!.partitionResponses as Obj[])[0]!.errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  });

  test("Fetch: READ per topic; groups: READ to join, DESCRIBE to describe; InitProducerId for idempotence", async () => {
    const b = await setup();
    const f = await callDispatcher(b, 1, 12, {
      replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic: "visible", partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1000 }] }],
      forgottenTopicsData: [], rackId: "",
    }, alice);
    expect((((f.responses as Obj[])[0]!.partitions as Obj[])[0]!).errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    const join = await callDispatcher(b, 11, 5, { groupId: "g", sessionTimeoutMs: 10000, rebalanceTimeoutMs: 10000, memberId: "", groupInstanceId: null, protocolType: "consumer", protocols: [] }, alice);
    expect(join.errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const dg = await callDispatcher(b, 15, 5, { groups: ["g", "other"], includeAuthorizedOperations: true }, alice);
    expect((dg.groups as Obj[]).map((g) => [g.groupId, g.errorCode])).toEqual([["g", 0], ["other", ErrorCode.GROUP_AUTHORIZATION_FAILED]]);
    expect((dg.groups as Obj[])[0]!.authorizedOperations).toBe(1 << Op.DESCRIBE);
    const commit = await callDispatcher(b, 8, 8, { groupId: "g", generationIdOrMemberEpoch: -1, memberId: "", groupInstanceId: null, topics: [{ name: "mine-1", partitions: [{ partitionIndex: 0, committedOffset: 0n, committedLeaderEpoch: -1, committedMetadata: null }] }] }, alice);
    expect((((commit.topics as Obj[])[0]!.partitions as Obj[])[0]!).errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const pid = await callDispatcher(b, 22, 4, { transactionalId: null, transactionTimeoutMs: 1000, producerId: -1n, producerEpoch: -1 }, alice);
    expect(pid.errorCode).toBe(ErrorCode.NONE); // WRITE on mine-* counts as idempotent write
    const bob = await callDispatcher(b, 22, 4, { transactionalId: null, transactionTimeoutMs: 1000, producerId: -1n, producerEpoch: -1 }, { principal: "User:bob" });
    expect(bob.errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    const ct = await callDispatcher(b, 19, 7, { topics: [{ name: "new", numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 1000 }, alice);
    expect((ct.topics as Obj[])[0]!.errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    const dtp = await callDispatcher(b, 75, 0, { topics: [{ name: "visible" }, { name: "hidden" }], responsePartitionLimit: 100, cursor: null }, alice);
    expect((dtp.topics as Obj[]).map((t) => [t.name, t.errorCode, t.topicAuthorizedOperations])).toEqual([
      ["visible", 0, 1 << Op.DESCRIBE],
      ["hidden", ErrorCode.TOPIC_AUTHORIZATION_FAILED, -2147483648],
    ]);
    const cgd = await callDispatcher(b, 69, 1, { groupIds: ["g", "x"], includeAuthorizedOperations: true }, alice);
    expect((cgd.groups as Obj[]).map((g) => [g.groupId, g.errorCode === ErrorCode.GROUP_AUTHORIZATION_FAILED, g.authorizedOperations])).toEqual([
      ["g", false, 1 << Op.DESCRIBE],
      ["x", true, -2147483648],
    ]);
    const cluster = await callDispatcher(b, 60, 1, { includeClusterAuthorizedOperations: true, endpointType: 1 }, ADMIN);
    expect(cluster.clusterAuthorizedOperations).toBeGreaterThan(0);
    const dc = await callDispatcher(b, 32, 4, { resources: [{ resourceType: 4, resourceName: "1", configurationKeys: null }], includeSynonyms: false, includeDocumentation: false }, alice);
    expect((dc.results as Obj[])[0]!.errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  });
});

describe("rows for APIs other modules serve (quotas, share groups)", () => {
  // Their handlers live on other branches: here each row's refusal is checked to be Kafka's code and to encode at every version.
  const cases: [number, Obj, number][] = [
    [48, { components: [], strict: false }, ErrorCode.CLUSTER_AUTHORIZATION_FAILED],
    [49, { entries: [{ entity: [{ entityType: "user", entityName: "a" }], ops: [] }], validateOnly: false }, ErrorCode.CLUSTER_AUTHORIZATION_FAILED],
    [76, { groupId: "g", memberId: "m", memberEpoch: 0 }, ErrorCode.GROUP_AUTHORIZATION_FAILED],
    [77, { groupIds: ["g"], includeAuthorizedOperations: true }, ErrorCode.GROUP_AUTHORIZATION_FAILED],
    [78, { groupId: "g", topics: [] }, ErrorCode.GROUP_AUTHORIZATION_FAILED],
    [79, { groupId: "g", topics: [] }, ErrorCode.GROUP_AUTHORIZATION_FAILED],
    [90, { groups: [{ groupId: "g", topics: null }] }, ErrorCode.GROUP_AUTHORIZATION_FAILED],
    [91, { groupId: "g", topics: [] }, ErrorCode.GROUP_AUTHORIZATION_FAILED],
    [92, { groupId: "g", topics: [] }, ErrorCode.GROUP_AUTHORIZATION_FAILED],
  ];
  for (const [key, body, code] of cases) {
    test(`api ${key}`, async () => {
      const b = await broker({ authorizer: true });
      const api = apis.get(key)!;
      const req = { ...api.request.create(), ...body };
      const versions = api.validVersions!;
      const ctx = { apiKey: key, apiVersion: versions.max, correlationId: 1, clientId: null, connectionId: 1, remoteAddress: "10.0.0.1", principal: "User:nobody" };
      const gate = apiChecks.get(key)!(access(b.authorizer!, b, ctx), req);
      expect(gate).toBeDefined();
      const res = gate && "respond" in gate ? gate.respond : gate!.after!(api.response.create());
      const text = JSON.stringify(res, (_, v) => (typeof v === "bigint" ? Number(v) : v));
      expect(text).toContain(`"errorCode":${code}`);
      for (let v = versions.min; v <= versions.max; v++) expect(api.response.encode(res as never, v).length).toBeGreaterThan(0);
    });
  }
});
