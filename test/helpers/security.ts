// Test-time security material: a CA, a server certificate for localhost and
// 127.0.0.1, and client certificates, made with openssl into a temporary
// directory (nothing secret is committed), and the client settings of each
// security mode.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runOk } from "./run.ts";

export interface TestCerts {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  /** A client certificate signed by the CA, subject /C=US/O=Acme, Inc./OU=eng/CN=alice. */
  clientCert: string;
  clientKey: string;
  /** Its principal as Kafka's default principal builder writes it. */
  clientPrincipal: string;
  /** A client certificate from another CA, which the broker must not trust. */
  strangerCert: string;
  strangerKey: string;
}

async function openssl(dir: string, ...args: string[]): Promise<void> {
  await runOk(["openssl", ...args], { cwd: dir, timeoutMs: 60_000 });
}

let made: Promise<TestCerts> | null = null;

/** Certificates for this test process, made once. */
export function testCerts(): Promise<TestCerts> {
  made ??= makeCerts();
  return made;
}

async function makeCerts(): Promise<TestCerts> {
  const dir = mkdtempSync(join(tmpdir(), "klite-certs-"));
  const days = ["-days", "2"];
  const ca = async (name: string) => openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.pem`, ...days, "-subj", `/CN=${name}`);
  const signed = async (name: string, subj: string, caName: string, ext?: string) => {
    await openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subj);
    const extArgs: string[] = [];
    if (ext) {
      writeFileSync(join(dir, `${name}.ext`), ext);
      extArgs.push("-extfile", `${name}.ext`);
    }
    await openssl(dir, "x509", "-req", "-in", `${name}.csr`, "-CA", `${caName}.pem`, "-CAkey", `${caName}.key`, "-CAcreateserial", "-out", `${name}.pem`, ...days, ...extArgs);
  };
  await Promise.all([ca("ca"), ca("other-ca")]);
  await Promise.all([
    signed("server", "/CN=localhost", "ca", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n"),
    signed("client", "/C=US/O=Acme, Inc./OU=eng/CN=alice", "ca"),
    signed("stranger", "/CN=mallory", "other-ca"),
  ]);
  const p = (f: string) => join(dir, f);
  return {
    dir,
    ca: p("ca.pem"),
    serverCert: p("server.pem"),
    serverKey: p("server.key"),
    clientCert: p("client.pem"),
    clientKey: p("client.key"),
    clientPrincipal: "User:CN=alice,OU=eng,O=Acme\\, Inc.,C=US",
    strangerCert: p("stranger.pem"),
    strangerKey: p("stranger.key"),
  };
}

export type Mode = "SASL_PLAINTEXT" | "SSL" | "SASL_SSL";

/** librdkafka properties (kcat -X, confluent-kafka-python, @confluentinc/kafka-javascript) for a mode. */
export function rdkafkaConfig(
  mode: Mode,
  o: { certs?: TestCerts; mechanism?: string; user?: string; password?: string; clientCert?: boolean | "stranger" } = {},
): Record<string, string> {
  const c: Record<string, string> = { "security.protocol": mode.toLowerCase() };
  if (mode !== "SASL_PLAINTEXT") {
    c["ssl.ca.location"] = o.certs!.ca;
    if (o.clientCert) {
      const stranger = o.clientCert === "stranger";
      c["ssl.certificate.location"] = stranger ? o.certs!.strangerCert : o.certs!.clientCert;
      c["ssl.key.location"] = stranger ? o.certs!.strangerKey : o.certs!.clientKey;
    }
  }
  if (mode !== "SSL" && o.mechanism) {
    c["sasl.mechanism"] = o.mechanism;
    if (o.mechanism === "OAUTHBEARER") {
      c["enable.sasl.oauthbearer.unsecure.jwt"] = "true";
      c["sasl.oauthbearer.config"] = `principal=${o.user ?? ""}`;
    } else {
      c["sasl.username"] = o.user ?? "";
      c["sasl.password"] = o.password ?? "";
    }
  }
  return c;
}

export function kcatFlags(config: Record<string, string>): string[] {
  return Object.entries(config).flatMap(([k, v]) => ["-X", `${k}=${v}`]);
}
