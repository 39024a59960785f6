// KafkaJS 2.2.4 admin ACL calls (CreateAcls, DescribeAcls, DeleteAcls v1) over SASL PLAIN.
// usage: node acl-admin.mjs BOOTSTRAP USER PASSWORD COMMAND JSON — prints one JSON document on stdout
//   create BINDINGS   [{type, name, pattern, principal, host, op, perm}] -> {"error": type | null}
//   describe FILTER   -> {"error": type | null, "acls": [binding]}
//   delete FILTER     -> {"error": type | null, "deleted": [binding]}
// Names are Kafka's enum names (TOPIC, PREFIXED, MATCH, READ, ALLOW, ANY ...); a filter field left out is ANY
// (null for strings). A USER of "-" connects without SASL.
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const { Kafka, logLevel, AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes } = require("kafkajs");

const [bootstrap, user, password, cmd, json] = process.argv.slice(2);
const kafka = new Kafka({
  clientId: "klite-acl-admin",
  brokers: [bootstrap],
  sasl: user === "-" ? undefined : { mechanism: "plain", username: user, password },
  logLevel: logLevel.NOTHING,
  retry: { retries: 1 },
});

const invert = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [v, k]));
const names = { type: invert(AclResourceTypes), pattern: invert(ResourcePatternTypes), op: invert(AclOperationTypes), perm: invert(AclPermissionTypes) };

function toWire(d, filter) {
  return {
    resourceType: AclResourceTypes[d.type ?? "ANY"],
    // KafkaJS wants undefined, not null, for a filter's "any" strings (it sends null).
    resourceName: d.name,
    resourcePatternType: ResourcePatternTypes[d.pattern ?? (filter ? "ANY" : "LITERAL")],
    principal: d.principal,
    host: d.host ?? (filter ? undefined : "*"),
    operation: AclOperationTypes[d.op ?? "ANY"],
    permissionType: AclPermissionTypes[d.perm ?? (filter ? "ANY" : "ALLOW")],
  };
}

function fromWire(resource, acl) {
  return {
    type: names.type[resource.resourceType], name: resource.resourceName, pattern: names.pattern[resource.resourcePatternType],
    principal: acl.principal, host: acl.host, op: names.op[acl.operation], perm: names.perm[acl.permissionType],
  };
}

const sorted = (list) => list.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
const admin = kafka.admin();
let out;
try {
  await admin.connect();
  const arg = JSON.parse(json);
  if (cmd === "create") {
    await admin.createAcls({ acl: arg.map((d) => toWire(d, false)) });
    out = { error: null };
  } else if (cmd === "describe") {
    const res = await admin.describeAcls(toWire(arg, true));
    out = { error: null, acls: sorted(res.resources.flatMap((r) => r.acls.map((a) => fromWire(r, a)))) };
  } else if (cmd === "delete") {
    const res = await admin.deleteAcls({ filters: [toWire(arg, true)] });
    const r = res.filterResponses[0];
    out = { error: null, deleted: sorted(r.matchingAcls.map((m) => fromWire(m, m))) };
  } else throw new Error(`unknown command ${cmd}`);
} catch (e) {
  const cause = e.cause ?? e.originalError;
  out = { error: e.type ?? cause?.type ?? e.name ?? String(e), ...(e.type || cause?.type ? {} : { message: String(e.stack) }) };
} finally {
  await admin.disconnect();
}
console.log(JSON.stringify(out));
