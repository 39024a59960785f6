// SASL and TLS with kcat (librdkafka 2.0.2) over real TCP: each listener mode
// with each mechanism produces, consumes and joins a group; wrong passwords,
// unknown users and no authentication fail with librdkafka's authentication
// error. One broker with every listener serves the whole file.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { inProcessBroker, type InProcessBroker } from "../helpers/broker.ts";
import { CLIENT_TEST_TIMEOUT, kcat, missing } from "../helpers/clients.ts";
import { run } from "../helpers/run.ts";
import { kcatFlags, rdkafkaConfig, testCerts, type Mode, type TestCerts } from "../helpers/security.ts";

let b: InProcessBroker;
let certs: TestCerts;

beforeAll(async () => {
  certs = await testCerts();
  b = await inProcessBroker({
    listen: "SASL_PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0",
    tlsCert: certs.serverCert,
    tlsKey: certs.serverKey,
    tlsCa: certs.ca,
    tlsClientAuth: "requested",
    saslEnabledMechanisms: "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER",
    saslUser: ["alice", "bob"],
    saslPassword: ["alice-secret", "bob-secret"],
    saslMechanism: [],
    connectionFailedAuthenticationDelayMs: 0,
  });
});
afterAll(() => b?.cleanup());

function addr(mode: Mode | "PLAINTEXT"): string {
  const l = b.listeners.find((x) => x.protocol === mode)!;
  return `127.0.0.1:${l.port}`;
}

const MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"];

async function roundTrip(mode: Mode, flags: string[], topic: string): Promise<void> {
  const input = ["k1:one", "k2:two", "k3:three"];
  await kcat(["-b", addr(mode), ...flags, "-P", "-t", topic, "-K:"], { stdin: input.join("\n") + "\n" });
  const out = await kcat(["-b", addr(mode), ...flags, "-C", "-t", topic, "-e", "-f", "%k:%s\\n"]);
  expect(out.trim().split("\n")).toEqual(input);
  // A balanced consumer: FindCoordinator, JoinGroup, SyncGroup, OffsetCommit on the authenticated connection.
  const grouped = await kcat(["-b", addr(mode), ...flags, "-X", "auto.offset.reset=earliest", "-G", `g-${topic}`, "-e", "-f", "%k:%s\\n", topic]);
  expect(grouped.trim().split("\n")).toEqual(input);
}

/** kcat -L against a listener; its exit code and stderr. */
async function metadata(mode: Mode, flags: string[]) {
  return run(["kcat", "-b", addr(mode), ...flags, "-L", "-m", "10"], { timeoutMs: 60_000 });
}

describe.concurrent("kcat (librdkafka 2.0.2)", () => {
  for (const mode of ["SASL_PLAINTEXT", "SASL_SSL"] as const) {
    for (const mechanism of MECHANISMS) {
      test.skipIf(missing("kcat"))(`${mode} ${mechanism}: produce, consume, group`, async () => {
        const flags = kcatFlags(rdkafkaConfig(mode, { certs, mechanism, user: "alice", password: "alice-secret" }));
        await roundTrip(mode, flags, `kc-${mode}-${mechanism}`);
      }, CLIENT_TEST_TIMEOUT);
    }
    for (const mechanism of ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]) {
      test.skipIf(missing("kcat"))(`${mode} ${mechanism}: wrong password and unknown user fail authentication`, async () => {
        for (const [user, password] of [["alice", "bob-secret"], ["nobody", "alice-secret"]]) {
          const r = await metadata(mode, kcatFlags(rdkafkaConfig(mode, { certs, mechanism, user, password })));
          expect(r.code).not.toBe(0);
          expect(r.stderr).toContain("SASL authentication error");
        }
      }, CLIENT_TEST_TIMEOUT);
    }
    test.skipIf(missing("kcat"))(`${mode}: a client without SASL is disconnected`, async () => {
      const plain = mode === "SASL_SSL" ? kcatFlags(rdkafkaConfig("SSL", { certs })) : [];
      const r = await metadata(mode, plain);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/broker might require SASL authentication|Disconnected/);
    }, CLIENT_TEST_TIMEOUT);
  }

  test.skipIf(missing("kcat"))("SSL with and without a client certificate (requested): both served", async () => {
    await roundTrip("SSL", kcatFlags(rdkafkaConfig("SSL", { certs, clientCert: true })), "kc-ssl-cert");
    await roundTrip("SSL", kcatFlags(rdkafkaConfig("SSL", { certs })), "kc-ssl-nocert");
  }, CLIENT_TEST_TIMEOUT);

  test.skipIf(missing("kcat"))("SSL: a certificate from an untrusted CA is refused", async () => {
    const r = await metadata("SSL", kcatFlags(rdkafkaConfig("SSL", { certs, clientCert: "stranger" })));
    expect(r.code).not.toBe(0);
  }, CLIENT_TEST_TIMEOUT);

  test.skipIf(missing("kcat"))("SSL: a client that does not trust the broker's CA fails the handshake", async () => {
    const r = await metadata("SSL", ["-X", "security.protocol=ssl"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/SSL handshake failed|certificate verify failed/);
  }, CLIENT_TEST_TIMEOUT);
});
