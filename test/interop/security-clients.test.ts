// SASL and TLS with confluent-kafka-python (librdkafka 2.0.2), the current
// librdkafka (2.15, @confluentinc/kafka-javascript under node) and KafkaJS
// 2.2.4: each listener mode with each mechanism the client supports
// produces, consumes in a group and commits; wrong passwords, unknown users
// and missing authentication fail with the client's authentication error;
// mTLS with and without a client certificate; SCRAM users created through
// librdkafka's admin API. One broker with every listener serves the file.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { inProcessBroker, withInProcessBroker, type InProcessBroker } from "../helpers/broker.ts";
import { CLIENT_TEST_TIMEOUT, missing, nodeClient, py, rdkafkaC } from "../helpers/clients.ts";
import { rdkafkaConfig, testCerts, type Mode, type TestCerts } from "../helpers/security.ts";

let b: InProcessBroker;
let certs: TestCerts;

const BROKER = (c: TestCerts) => ({
  listen: "SASL_PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0,PLAINTEXT://127.0.0.1:0",
  tlsCert: c.serverCert,
  tlsKey: c.serverKey,
  tlsCa: c.ca,
  tlsClientAuth: "requested" as const,
  saslEnabledMechanisms: "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER",
  saslUser: ["alice"],
  saslPassword: ["alice-secret"],
  saslMechanism: [],
  connectionFailedAuthenticationDelayMs: 0,
});

beforeAll(async () => {
  certs = await testCerts();
  b = await inProcessBroker(BROKER(certs));
});
afterAll(() => b?.cleanup());

const addr = (broker: InProcessBroker, mode: Mode | "PLAINTEXT") => `127.0.0.1:${broker.listeners.find((x) => x.protocol === mode)!.port}`;

type Roundtrip = { consumed: [string, string][]; delivered?: unknown[]; committed?: number[] };
const EXPECTED: [string, string][] = [
  ["k1", "v1"],
  ["k2", "v2"],
  ["k3", "v3"],
];

const librdkafka = {
  python: (bootstrap: string, conf: Record<string, string>, ...args: string[]) => py("secure.py", bootstrap, [JSON.stringify(conf), ...args]),
  ckjs: async (bootstrap: string, conf: Record<string, string>, ...args: string[]) =>
    (await nodeClient("ckjs", "secure.mjs", bootstrap, args, { env: { KLITE_CLIENT_CONF: JSON.stringify(conf) } })).result,
};
const kafkajs = (bootstrap: string, conf: object, ...args: string[]) => nodeClient("kafkajs", "secure.mjs", bootstrap, [JSON.stringify(conf), ...args]);

const MODES: Mode[] = ["SASL_PLAINTEXT", "SSL", "SASL_SSL"];
const RDKAFKA_MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"];

for (const [name, client] of Object.entries(librdkafka) as [keyof typeof librdkafka, (typeof librdkafka)["python"]][]) {
  // librdkafka 2.15 reports a failed authentication in its log only (secure.mjs turns that line into SASL_AUTHENTICATION).
  const AUTH_ERROR = name === "python" ? "_AUTHENTICATION" : "SASL_AUTHENTICATION";
  describe.concurrent(name === "python" ? "confluent-kafka-python (librdkafka 2.0.2)" : "@confluentinc/kafka-javascript (librdkafka 2.15)", () => {
    for (const mode of MODES) {
      for (const mechanism of mode === "SSL" ? [undefined] : RDKAFKA_MECHANISMS) {
        test.skipIf(missing(name))(`${mode}${mechanism ? ` ${mechanism}` : ""}: produce, consume in a group, commit`, async () => {
          const conf = rdkafkaConfig(mode, { certs, mechanism, user: "alice", password: "alice-secret", clientCert: mode === "SSL" });
          const topic = `${name}-${mode}-${mechanism ?? "tls"}`;
          const r = (await client(addr(b, mode), conf, "roundtrip", topic, `g-${topic}`)) as Roundtrip;
          expect(r.consumed).toEqual(EXPECTED);
          if (r.committed) expect(r.committed).toEqual([3]);
        }, CLIENT_TEST_TIMEOUT);
      }
      if (mode !== "SSL") {
        test.skipIf(missing(name))(`${mode}: wrong password and unknown user fail with ${AUTH_ERROR}; no SASL is disconnected`, async () => {
          // Every mechanism in the clear; over TLS the path is the same, one mechanism shows it.
          // The attempts run side by side (this broker answers failures without delay).
          const attempts = (mode === "SASL_SSL" ? ["SCRAM-SHA-256"] : ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]).flatMap((mechanism) =>
            [["alice", "wrong"], ["nobody", "alice-secret"]].map(async ([user, password]) => (await client(addr(b, mode), rdkafkaConfig(mode, { certs, mechanism, user, password }), "auth")) as { errors: string[] }),
          );
          for (const r of await Promise.all(attempts)) expect(r.errors).toContain(AUTH_ERROR);
          // A client that does not speak SASL is disconnected at its first request (librdkafka reports a transport error).
          const none = (await client(addr(b, mode), mode === "SASL_SSL" ? rdkafkaConfig("SSL", { certs }) : {}, "auth")) as { errors: string[] };
          expect(none.errors.length).toBeGreaterThan(0);
          expect(none.errors).not.toContain(AUTH_ERROR);
        }, CLIENT_TEST_TIMEOUT);
      }
    }
    test.skipIf(missing(name))("SSL without a client certificate (requested): served as ANONYMOUS", async () => {
      const r = (await client(addr(b, "SSL"), rdkafkaConfig("SSL", { certs }), "roundtrip", `${name}-nocert`, `g-${name}-nocert`)) as Roundtrip;
      expect(r.consumed).toEqual(EXPECTED);
    }, CLIENT_TEST_TIMEOUT);
  });
}

describe.concurrent("KafkaJS 2.2.4", () => {
  const ssl = (withCert = false) => ({ ca: certs.ca, ...(withCert ? { cert: certs.clientCert, key: certs.clientKey } : {}) });
  const kjsMechanisms = ["plain", "scram-sha-256", "scram-sha-512", "oauthbearer"];
  const sasl = (mechanism: string, username = "alice", password = "alice-secret") =>
    mechanism === "oauthbearer" ? { mechanism, principal: username } : { mechanism, username, password };
  for (const mode of MODES) {
    for (const mechanism of mode === "SSL" ? [undefined] : kjsMechanisms) {
      test.skipIf(missing("kafkajs"))(`${mode}${mechanism ? ` ${mechanism}` : ""}: produce, consume in a group`, async () => {
        const conf = { ...(mode !== "SASL_PLAINTEXT" ? { ssl: ssl(mode === "SSL") } : {}), ...(mechanism ? { sasl: sasl(mechanism) } : {}) };
        const topic = `kjs-${mode}-${mechanism ?? "tls"}`;
        const r = (await kafkajs(addr(b, mode), conf, "roundtrip", topic, `g-${topic}`)) as Roundtrip;
        expect(r.consumed).toEqual(EXPECTED);
      }, CLIENT_TEST_TIMEOUT);
    }
    if (mode !== "SSL") {
      test.skipIf(missing("kafkajs"))(`${mode}: wrong password and unknown user fail with KafkaJSSASLAuthenticationError`, async () => {
        const attempts = (mode === "SASL_SSL" ? ["scram-sha-512"] : ["plain", "scram-sha-256", "scram-sha-512"]).flatMap((mechanism) =>
          [["alice", "wrong"], ["nobody", "alice-secret"]].map((pair) => kafkajs(addr(b, mode), { ...(mode === "SASL_SSL" ? { ssl: ssl() } : {}), sasl: sasl(mechanism, ...pair) }, "auth")),
        );
        for (const r of await Promise.all(attempts)) expect(r).toMatchObject({ error: "KafkaJSSASLAuthenticationError" });
        const none = (await kafkajs(addr(b, mode), mode === "SASL_SSL" ? { ssl: ssl() } : {}, "auth")) as { error: string | null };
        expect(none.error).not.toBeNull();
      }, CLIENT_TEST_TIMEOUT);
    }
  }
});

describe.concurrent("mTLS with --tls-client-auth required", () => {
  test.skipIf(missing("ckjs", "kafkajs"))("a client certificate is needed; with one, clients are served", async () => {
    const c = await testCerts();
    await withInProcessBroker({ ...BROKER(c), tlsClientAuth: "required" }, async (rb) => {
      const withCert = (await librdkafka.ckjs(addr(rb, "SSL"), rdkafkaConfig("SSL", { certs: c, clientCert: true }), "roundtrip", "mtls", "g-mtls")) as Roundtrip;
      expect(withCert.consumed).toEqual(EXPECTED);
      const kjs = (await kafkajs(addr(rb, "SSL"), { ssl: { ca: c.ca, cert: c.clientCert, key: c.clientKey } }, "roundtrip", "mtls-kjs", "g-mtls-kjs")) as Roundtrip;
      expect(kjs.consumed).toEqual(EXPECTED);
      for (const clientCert of [false, "stranger"] as const) {
        const r = (await librdkafka.ckjs(addr(rb, "SSL"), rdkafkaConfig("SSL", { certs: c, clientCert }), "auth")) as { errors: string[] };
        expect(r.errors.length).toBeGreaterThan(0);
      }
      expect(((await kafkajs(addr(rb, "SSL"), { ssl: { ca: c.ca } }, "auth")) as { error: string | null }).error).not.toBeNull();
    });
  }, CLIENT_TEST_TIMEOUT);
});

describe.concurrent("SCRAM users through librdkafka 2.15's admin API", () => {
  test.skipIf(missing("ckjs"))("the build has SSL and SCRAM; a user created with AlterUserScramCredentials logs in, a deleted one no longer does", async () => {
    const feats = await rdkafkaC<{ version: string; features: string }>("scram-admin", "127.0.0.1:1", ["-", "features"]);
    expect(feats.features.split(",")).toEqual(expect.arrayContaining(["ssl", "sasl_scram", "sasl_oauthbearer"]));
    const admin = rdkafkaConfig("SASL_PLAINTEXT", { mechanism: "SCRAM-SHA-512", user: "alice", password: "alice-secret" });
    const conf = Object.entries(admin).map(([k, v]) => `${k}=${v}`).join(",");
    const sasl = addr(b, "SASL_PLAINTEXT");
    expect(await rdkafkaC("scram-admin", sasl, [conf, "upsert", "carol", "256", "carol-pw", "8192"])).toEqual({ results: [{ user: "carol", error: null }] });
    const described = await rdkafkaC<{ users: { user: string; error: unknown; credentials: unknown[] }[] }>("scram-admin", sasl, [conf, "describe", "carol"]);
    expect(described.users).toEqual([{ user: "carol", error: null, credentials: [{ mechanism: 1, iterations: 8192 }] }]);
    const carol = rdkafkaConfig("SASL_PLAINTEXT", { mechanism: "SCRAM-SHA-256", user: "carol", password: "carol-pw" });
    expect(((await librdkafka.ckjs(sasl, carol, "roundtrip", "carol-t", "carol-g")) as Roundtrip).consumed).toEqual(EXPECTED);
    const low = await rdkafkaC<{ results: { error: { name: string } | null }[] }>("scram-admin", sasl, [conf, "upsert", "dave", "256", "pw", "10"]);
    expect(low.results[0]!.error?.name).toBe("UNACCEPTABLE_CREDENTIAL");
    expect(await rdkafkaC("scram-admin", sasl, [conf, "delete", "carol", "256"])).toEqual({ results: [{ user: "carol", error: null }] });
    expect(((await librdkafka.ckjs(sasl, carol, "auth")) as { errors: string[] }).errors).toContain("SASL_AUTHENTICATION");
  }, CLIENT_TEST_TIMEOUT);
});
