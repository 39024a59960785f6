// What the broker process logs about security, read from its stderr: failed
// authentications with the peer's address and a delay that grows per address,
// the TLS client certificate's principal, the startup warning for listeners
// that take unauthenticated connections on non-loopback addresses; and no
// password, right or wrong, anywhere in the log or the data dir.

import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { withSpawnedBroker, type SpawnedBroker } from "../helpers/broker.ts";
import { CLIENT_TEST_TIMEOUT, missing, nodeClient } from "../helpers/clients.ts";
import { run, waitFor } from "../helpers/run.ts";
import { kcatFlags, rdkafkaConfig, testCerts } from "../helpers/security.ts";

const SECRET = "S3cr3t-alice-7f1d";
const WRONG = "Wr0ng-guess-93ab";

function listenerPort(b: SpawnedBroker, protocol: string): number {
  const m = new RegExp(`${protocol}://\\S+:(\\d+)`).exec(b.stdout());
  if (!m) throw new Error(`no ${protocol} listener in ${b.stdout()}`);
  return Number(m[1]);
}

describe.concurrent("security logging", () => {
  test.skipIf(missing("kcat"))("failed logins name the peer, wait longer each time, and never show a password", async () => {
    const certs = await testCerts();
    const args = [
      ...["--listen", "SASL_PLAINTEXT://127.0.0.1:0", "--listen", "SSL://0.0.0.0:0"],
      ...["--tls-cert", certs.serverCert, "--tls-key", certs.serverKey, "--tls-ca", certs.ca, "--tls-client-auth", "requested"],
      ...["--sasl-user", "alice", "--sasl-password", SECRET, "--log-level", "debug"],
    ];
    await withSpawnedBroker({ args }, async (b) => {
      const sasl = `127.0.0.1:${listenerPort(b, "SASL_PLAINTEXT")}`;
      const md = (mechanism: string, password: string) => run(["kcat", "-b", sasl, ...kcatFlags(rdkafkaConfig("SASL_PLAINTEXT", { mechanism, user: "alice", password })), "-L", "-m", "10"], { timeoutMs: 60_000 });
      // Three failures in a row from 127.0.0.1 (each kcat retries, so wait for each failure's log line).
      for (const [i, mechanism] of ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"].entries()) {
        const before = (b.stderr().match(/authentication failed/g) ?? []).length;
        expect((await md(mechanism, WRONG)).code).not.toBe(0);
        await waitFor(() => (b.stderr().match(/authentication failed/g) ?? []).length > before, 10_000, `failure ${i + 1} logged`);
      }
      const delays = [...b.stderr().matchAll(/authentication failed: connection \d+ from 127\.0\.0\.1 on SASL_PLAINTEXT, mechanism \S+: .*\(answer delayed (\d+) ms\)/g)].map((m) => Number(m[1]));
      // Each failure doubles the wait from 100 ms (librdkafka retries within one run add more failures).
      expect(delays.slice(0, 3)).toEqual([100, 200, 400]);
      expect((await md("PLAIN", SECRET)).code).toBe(0);
      await waitFor(() => b.stderr().includes("authenticated as User:alice (PLAIN)"), 10_000, "success logged");
      const ssl = `127.0.0.1:${listenerPort(b, "SSL")}`;
      expect((await run(["kcat", "-b", ssl, ...kcatFlags(rdkafkaConfig("SSL", { certs, clientCert: true })), "-L", "-m", "10"], { timeoutMs: 60_000 })).code).toBe(0);
      await waitFor(() => b.stderr().includes(`TLS client certificate ${certs.clientPrincipal}`), 10_000, "certificate principal logged");
      // The unauthenticated SSL listener on every interface is warned about; the SASL one and the loopback PLAINTEXT one are not.
      expect(b.stderr()).toMatch(/WARN listener SSL:\/\/0\.0\.0\.0:\d+ accepts connections without authentication on a non-loopback address/);
      expect(b.stderr()).not.toMatch(/listener (SASL_PLAINTEXT|PLAINTEXT):\/\/\S+ accepts connections without authentication/);
      for (const text of [b.stderr(), b.stdout()]) {
        expect(text).not.toContain(SECRET);
        expect(text).not.toContain(WRONG);
      }
      for (const f of readdirSync(b.dataDir, { recursive: true }) as string[]) {
        const path = join(b.dataDir, f);
        let content: string;
        try {
          content = readFileSync(path, "latin1");
        } catch {
          continue; // a directory
        }
        expect(content).not.toContain(SECRET);
      }
    });
  }, CLIENT_TEST_TIMEOUT);

  test.skipIf(missing("ckjs"))("librdkafka 2.15 re-authenticates on its connections before the session ends (KIP-368)", async () => {
    const args = ["--listen", "SASL_PLAINTEXT://127.0.0.1:0", "--sasl-user", "alice", "--sasl-password", SECRET, "--connections-max-reauth-ms", "1000", "--log-level", "debug"];
    await withSpawnedBroker({ args }, async (b) => {
      const conf = rdkafkaConfig("SASL_PLAINTEXT", { mechanism: "SCRAM-SHA-512", user: "alice", password: SECRET });
      // Produce, then consume in a group: several seconds of traffic, several session lifetimes.
      const r = await nodeClient("ckjs", "secure.mjs", `127.0.0.1:${listenerPort(b, "SASL_PLAINTEXT")}`, ["roundtrip", "reauth", "g-reauth"], { env: { KLITE_CLIENT_CONF: JSON.stringify(conf) } });
      expect(r.result.consumed).toHaveLength(3);
      const perConnection = new Map<string, number>();
      for (const m of b.stderr().matchAll(/connection (\d+) from \S+ authenticated as User:alice/g)) perConnection.set(m[1]!, (perConnection.get(m[1]!) ?? 0) + 1);
      expect(Math.max(...perConnection.values())).toBeGreaterThan(1);
      expect(b.stderr()).not.toContain("SASL session expired");
      expect(b.stderr()).not.toContain(SECRET);
    });
  }, CLIENT_TEST_TIMEOUT);
});
