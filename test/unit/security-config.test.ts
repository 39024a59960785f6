// Listener notation, repeated flags, how bootstrap users pair up, and the
// principal a TLS client certificate gives (checked against openssl's own
// RFC 2253 rendering of certificates made at test time).

import { describe, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { OptionError, parseOptions } from "../../src/config.ts";
import { parseListeners } from "../../src/server/listeners.ts";
import { bootstrapUsers, enabledMechanisms } from "../../src/auth/security.ts";
import { subjectDn } from "../../src/auth/tls-principal.ts";
import { validateUnsecuredJws } from "../../src/auth/oauthbearer.ts";
import { tempDir } from "../helpers/broker.ts";
import { runOk } from "../helpers/run.ts";

describe("listeners", () => {
  test("repeated --listen and --advertised-addr, by position and by name", () => {
    const o = parseOptions(["--listen", "127.0.0.1:9092", "--listen", "SASL_SSL://:9095", "--listen", "ssl://[::1]:9093", "--advertised-addr", "a.example:1", "--advertised-addr", "SSL://c.example:3"], {});
    expect(o.listen).toBe("127.0.0.1:9092,SASL_SSL://:9095,ssl://[::1]:9093");
    const specs = parseListeners(o);
    expect(specs.map((s) => [s.name, s.host, s.port, s.advertised])).toEqual([
      ["PLAINTEXT", "127.0.0.1", 9092, { host: "a.example", port: 1 }],
      ["SASL_SSL", "", 9095, null],
      ["SSL", "::1", 9093, { host: "c.example", port: 3 }],
    ]);
    // Positional entries go in order when none is named.
    expect(parseListeners({ listen: ":1,SSL://:2", advertisedAddr: "x:1,y:2" }).map((s) => s.advertised?.host)).toEqual(["x", "y"]);
  });

  test("bad listener settings are refused with a message", () => {
    expect(() => parseListeners({ listen: "GSSAPI://:1", advertisedAddr: null })).toThrow(OptionError);
    expect(() => parseListeners({ listen: ":1,PLAINTEXT://:2", advertisedAddr: null })).toThrow(/more than one PLAINTEXT/);
    expect(() => parseListeners({ listen: ":1", advertisedAddr: "a:1,b:2" })).toThrow(/more entries/);
    expect(() => parseListeners({ listen: ":1", advertisedAddr: "SSL://a:1" })).toThrow(/no such listener/);
    expect(() => parseListeners({ listen: "SSL://nope", advertisedAddr: null })).toThrow(/HOST:PORT/);
  });
});

describe("bootstrap users", () => {
  test("users, passwords and mechanisms pair by position; one mechanism list serves all", () => {
    const o = parseOptions(["--sasl-user", "a", "--sasl-password", "pa", "--sasl-user", "b", "--sasl-password", "p,b", "--sasl-mechanism", "scram-sha-256,PLAIN"], {});
    expect(bootstrapUsers(o)).toEqual([
      { name: "a", password: "pa", mechanisms: ["SCRAM-SHA-256", "PLAIN"] },
      { name: "b", password: "p,b", mechanisms: ["SCRAM-SHA-256", "PLAIN"] },
    ]);
    const all = parseOptions(["--sasl-user", "a", "--sasl-password", "pa"], {});
    expect(bootstrapUsers(all)[0]!.mechanisms).toEqual(["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]);
    const env = parseOptions([], { KLITE_SASL_USER: "a,b", KLITE_SASL_PASSWORD: "x,y", KLITE_SASL_MECHANISM: "PLAIN" });
    expect(bootstrapUsers(env).map((u) => [u.name, u.password])).toEqual([["a", "x"], ["b", "y"]]);
  });

  test("mismatched counts and unknown mechanisms are refused", () => {
    expect(() => bootstrapUsers(parseOptions(["--sasl-user", "a"], {}))).toThrow(/--sasl-password/);
    expect(() => bootstrapUsers(parseOptions(["--sasl-user", "a", "--sasl-password", "x", "--sasl-user", "b", "--sasl-password", "y", "--sasl-mechanism", "PLAIN", "--sasl-mechanism", "PLAIN", "--sasl-mechanism", "PLAIN"], {}))).toThrow(/once per/);
    expect(() => bootstrapUsers(parseOptions(["--sasl-user", "a", "--sasl-password", "x", "--sasl-mechanism", "OAUTHBEARER"], {}))).toThrow(/no password/);
    expect(() => enabledMechanisms("PLAIN,GSSAPI")).toThrow(/GSSAPI/);
  });
});

describe("TLS client certificate principal", () => {
  test("the subject in RFC 2253 form, as openssl renders it, and OIDs without keyword in hex", async () => {
    const dir = tempDir("klite-dn-");
    const cert = join(dir, "c.pem");
    await runOk(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "c.key"), "-out", cert, "-days", "1", "-subj", "/C=DE/ST=Berlin/O=Foo\\+Bar; \"Baz\"/OU=a/OU=b/CN= lead#trail /DC=example"], { cwd: dir });
    const der = new Uint8Array(Buffer.from(readFileSync(cert, "utf8").replace(/-----[^-]+-----|\s/g, ""), "base64"));
    const expected = (await runOk(["openssl", "x509", "-in", cert, "-noout", "-subject", "-nameopt", "RFC2253"])).trim().replace(/^subject=/, "");
    expect(subjectDn(der)).toBe(expected);
    expect(subjectDn(der)).toContain('O=Foo\\+Bar\\; \\"Baz\\",ST=Berlin,C=DE');
    const mail = join(dir, "m.pem");
    await runOk(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "m.key"), "-out", mail, "-days", "1", "-subj", "/CN=bob/emailAddress=b@x.io"], { cwd: dir });
    const der2 = new Uint8Array(Buffer.from(readFileSync(mail, "utf8").replace(/-----[^-]+-----|\s/g, ""), "base64"));
    // IA5String (0x16) of length 6: what Java's X500Principal.getName() prints for emailAddress.
    expect(subjectDn(der2)).toBe(`1.2.840.113549.1.9.1=#1606${Buffer.from("b@x.io").toString("hex")},CN=bob`);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("unsecured OAUTHBEARER tokens", () => {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const now = 1_800_000_000_000;
  test("Kafka's unsecured checks", () => {
    expect(validateUnsecuredJws(`${b64({ alg: "none" })}.${b64({ sub: "alice", exp: now / 1000 + 60, iat: now / 1000 })}.`, now)).toEqual({ user: "alice", expiresAtMs: now + 60_000 });
    const bad = [
      `${b64({ alg: "HS256" })}.${b64({ sub: "a", exp: now / 1000 + 60 })}.`,
      `${b64({ alg: "none" })}.${b64({ sub: "a", exp: now / 1000 + 60 })}.c2ln`,
      `${b64({ alg: "none" })}.${b64({ exp: now / 1000 + 60 })}.`,
      `${b64({ alg: "none" })}.${b64({ sub: "a" })}.`,
      `${b64({ alg: "none" })}.${b64({ sub: "a", exp: now / 1000 - 1 })}.`,
      `${b64({ alg: "none" })}.${b64({ sub: "a", exp: now / 1000 + 60, iat: now / 1000 + 30 })}.`,
      "not-a-token",
      `${b64({ alg: "none" })}.!!!.`,
    ];
    for (const t of bad) expect(validateUnsecuredJws(t, now)).toHaveProperty("error");
  });
});
