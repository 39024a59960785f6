// AlterUserScramCredentials and DescribeUserScramCredentials (v0): SCRAM
// users managed through the Admin API, with Kafka's per-user errors. A change
// is durable (broker.security.users writes its file atomically) before it is
// answered. Clients send the salted password; only the keys derived from it
// are kept.

import type * as AltReq from "../../generated/AlterUserScramCredentialsRequest.ts";
import type * as AltRes from "../../generated/AlterUserScramCredentialsResponse.ts";
import type * as DescReq from "../../generated/DescribeUserScramCredentialsRequest.ts";
import type * as DescRes from "../../generated/DescribeUserScramCredentialsResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { MAX_ITERATIONS, MIN_ITERATIONS, SCRAM, credentialFromSalted, scramMechanismByType, type ScramMechanism } from "../auth/credentials.ts";
import type { Credential } from "../auth/credentials.ts";

interface Outcome {
  errorCode: number;
  errorMessage: string | null;
}

const OK: Outcome = { errorCode: ErrorCode.NONE, errorMessage: null };

export function handleAlterUserScramCredentials(broker: Broker, req: AltReq.AlterUserScramCredentialsRequest): AltRes.AlterUserScramCredentialsResponseInit {
  const store = broker.security.users;
  const order: string[] = [];
  const outcome = new Map<string, Outcome>();
  const seen = new Map<string, number>();
  for (const e of [...req.deletions, ...req.upsertions]) seen.set(e.name, (seen.get(e.name) ?? 0) + 1);
  const changes: { user: string; mechanism: ScramMechanism; credential: Credential | null }[] = [];
  const check = (name: string, type: number): ScramMechanism | null => {
    if (!outcome.has(name)) order.push(name);
    if (outcome.get(name)?.errorCode) return null;
    let fail: Outcome | null = null;
    const mechanism = scramMechanismByType(type);
    if (name === "") fail = { errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: "Username must not be empty" };
    else if (seen.get(name)! > 1) fail = { errorCode: ErrorCode.DUPLICATE_RESOURCE, errorMessage: "A user credential cannot be altered twice in the same request" };
    else if (!mechanism) fail = { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, errorMessage: "Unknown SCRAM mechanism" };
    outcome.set(name, fail ?? OK);
    return fail ? null : mechanism;
  };
  for (const d of req.deletions) {
    const mechanism = check(d.name, d.mechanism);
    if (!mechanism) continue;
    if (!store.get(d.name, mechanism)) {
      outcome.set(d.name, { errorCode: ErrorCode.RESOURCE_NOT_FOUND, errorMessage: "Attempt to delete a user credential that does not exist" });
      continue;
    }
    changes.push({ user: d.name, mechanism, credential: null });
  }
  for (const u of req.upsertions) {
    const mechanism = check(u.name, u.mechanism);
    if (!mechanism) continue;
    let fail: Outcome | null = null;
    if (u.iterations < MIN_ITERATIONS) fail = { errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: `Too few iterations (minimum ${MIN_ITERATIONS})` };
    else if (u.iterations > MAX_ITERATIONS) fail = { errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: `Too many iterations (maximum ${MAX_ITERATIONS})` };
    else if (u.saltedPassword.length !== SCRAM[mechanism].bytes || u.salt.length === 0) fail = { errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: "Salt or salted password has the wrong length" };
    if (fail) {
      outcome.set(u.name, fail);
      continue;
    }
    changes.push({ user: u.name, mechanism, credential: credentialFromSalted(mechanism, u.salt.slice(), u.iterations, u.saltedPassword) });
  }
  // A user whose entries did not all pass changes nothing.
  const applied = changes.filter((c) => outcome.get(c.user)!.errorCode === ErrorCode.NONE);
  store.apply(applied);
  if (applied.length > 0) broker.log.info(`SCRAM credentials changed for ${[...new Set(applied.map((c) => c.user))].join(", ")}`);
  return { throttleTimeMs: 0, results: order.map((user) => ({ user, ...outcome.get(user)! })) };
}

export function handleDescribeUserScramCredentials(broker: Broker, req: DescReq.DescribeUserScramCredentialsRequest): DescRes.DescribeUserScramCredentialsResponseInit {
  const store = broker.security.users;
  const scram = (user: string) =>
    (Object.keys(SCRAM) as ScramMechanism[]).flatMap((m) => {
      const c = store.get(user, m);
      return c ? [{ mechanism: SCRAM[m].type, iterations: c.iterations }] : [];
    });
  const names = req.users === null || req.users.length === 0 ? null : req.users.map((u) => u.name);
  if (names === null) {
    const results = store
      .names()
      .map((user) => ({ user, errorCode: ErrorCode.NONE, errorMessage: null, credentialInfos: scram(user) }))
      .filter((r) => r.credentialInfos.length > 0);
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, results };
  }
  const count = new Map<string, number>();
  for (const n of names) count.set(n, (count.get(n) ?? 0) + 1);
  const results = [...count.keys()].map((user) => {
    if (count.get(user)! > 1) return { user, errorCode: ErrorCode.DUPLICATE_RESOURCE, errorMessage: "Cannot describe SCRAM credentials for the same user twice in a single request", credentialInfos: [] };
    const infos = scram(user);
    if (infos.length === 0) return { user, errorCode: ErrorCode.RESOURCE_NOT_FOUND, errorMessage: "Attempt to describe a user credential that does not exist", credentialInfos: [] };
    return { user, errorCode: ErrorCode.NONE, errorMessage: null, credentialInfos: infos };
  });
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, results };
}
