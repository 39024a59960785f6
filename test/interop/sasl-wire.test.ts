// SASL at the protocol level, with exact requests no real client lets us
// choose: what is answered before authentication, malformed tokens, SCRAM with
// a wrong nonce or proof, oversized auth bytes, SaslHandshake v0's bare
// tokens, KIP-368 session expiry and re-authentication, SCRAM users through
// the Admin API and their persistence, and the listener-specific address in
// Metadata. Every refusal is an error code or a clean disconnect, and the
// broker keeps serving.

import { describe, expect, test } from "bun:test";
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { withInProcessBroker, type InProcessBroker } from "../helpers/broker.ts";
import { connectWire, type WireClient } from "../helpers/wire-client.ts";
import { waitFor } from "../helpers/run.ts";
import { frameReader } from "../helpers/frames.ts";
import { ErrorCode } from "../../src/protocol/errors.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const HANDSHAKE = 17;
const AUTHENTICATE = 36;
const METADATA = 3;

const opts = {
  listen: "SASL_PLAINTEXT://127.0.0.1:0,PLAINTEXT://127.0.0.1:0",
  advertisedAddr: "PLAINTEXT://plain.example:9092,SASL_PLAINTEXT://sasl.example:9094",
  saslUser: ["alice", "bob"],
  saslPassword: ["alice-pw", "bob-pw"],
  saslMechanism: [],
  // The failure delay has its own test; here it would only slow the run down.
  connectionFailedAuthenticationDelayMs: 0,
};

const port = (b: InProcessBroker, protocol: string) => b.listeners.find((l) => l.protocol === protocol)!.port;

type AuthRes = { errorCode: number; errorMessage: string | null; authBytes: Uint8Array; sessionLifetimeMs: bigint };

async function handshake(c: WireClient, mechanism: string, version = 1) {
  return c.call<{ errorCode: number; mechanisms: string[] }>(HANDSHAKE, version, { mechanism });
}

const authenticate = (c: WireClient, bytes: Uint8Array | string, version = 2) =>
  c.call<AuthRes>(AUTHENTICATE, version, { authBytes: typeof bytes === "string" ? enc.encode(bytes) : bytes });

async function plain(c: WireClient, user: string, password: string, version = 2): Promise<AuthRes> {
  expect((await handshake(c, "PLAIN")).errorCode).toBe(0);
  return authenticate(c, `\0${user}\0${password}`, version);
}

/** The client side of SCRAM (RFC 5802), with hooks to break it. */
async function scram(c: WireClient, mech: "SCRAM-SHA-256" | "SCRAM-SHA-512", user: string, password: string, tamper: { nonce?: (n: string) => string; proof?: (p: Buffer) => Uint8Array } = {}) {
  const hash = mech === "SCRAM-SHA-256" ? "sha256" : "sha512";
  const size = hash === "sha256" ? 32 : 64;
  expect((await handshake(c, mech)).errorCode).toBe(0);
  const cnonce = randomBytes(18).toString("base64");
  const first = `n=${user},r=${cnonce}`;
  const r1 = await authenticate(c, `n,,${first}`);
  if (r1.errorCode !== 0) return { first: r1 };
  const serverFirst = dec.decode(r1.authBytes);
  const m = /^r=([^,]+),s=([^,]+),i=(\d+)$/.exec(serverFirst)!;
  const nonce = tamper.nonce ? tamper.nonce(m[1]!) : m[1]!;
  const salted = pbkdf2Sync(password, Buffer.from(m[2]!, "base64"), Number(m[3]), size, hash);
  const clientKey = createHmac(hash, salted).update("Client Key").digest();
  const storedKey = createHash(hash).update(clientKey).digest();
  const without = `c=biws,r=${nonce}`;
  const authMessage = `${first},${serverFirst},${without}`;
  const sig = createHmac(hash, storedKey).update(authMessage).digest();
  let proof: Buffer = Buffer.from(clientKey.map((b, i) => b ^ sig[i]!));
  if (tamper.proof) proof = Buffer.from(tamper.proof(proof));
  const r2 = await authenticate(c, `${without},p=${proof.toString("base64")}`);
  const serverKey = createHmac(hash, salted).update("Server Key").digest();
  const expected = `v=${createHmac(hash, serverKey).update(authMessage).digest().toString("base64")}`;
  return { first: r1, final: r2, expectedFinal: expected };
}

async function closedOn(c: WireClient, apiKey: number, version: number, body: object): Promise<boolean> {
  try {
    await c.call(apiKey, version, body);
    return false;
  } catch (e) {
    return /closed/.test((e as Error).message);
  }
}

async function stillServes(b: InProcessBroker): Promise<void> {
  const c = await connectWire(port(b, "PLAINTEXT"));
  const md = await c.call<{ brokers: unknown[] }>(METADATA, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  expect(md.brokers).toHaveLength(1);
  c.close();
}

describe.concurrent("SASL over the wire", () => {
  test("before authentication only ApiVersions and SaslHandshake are answered; anything else closes", () =>
    withInProcessBroker(opts, async (b) => {
      const c = await connectWire(port(b, "SASL_PLAINTEXT"));
      const av = await c.call<{ errorCode: number; apiKeys: { apiKey: number }[] }>(18, 3, { clientSoftwareName: "t", clientSoftwareVersion: "1" });
      expect(av.errorCode).toBe(0);
      expect(av.apiKeys.map((k) => k.apiKey)).toContain(AUTHENTICATE);
      expect(await closedOn(c, METADATA, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false })).toBe(true);
      // SaslAuthenticate before SaslHandshake closes too.
      const c2 = await connectWire(port(b, "SASL_PLAINTEXT"));
      expect(await closedOn(c2, AUTHENTICATE, 2, { authBytes: enc.encode("\0alice\0alice-pw") })).toBe(true);
      // After a handshake, only SaslAuthenticate.
      const c3 = await connectWire(port(b, "SASL_PLAINTEXT"));
      await handshake(c3, "PLAIN");
      expect(await closedOn(c3, METADATA, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false })).toBe(true);
      await stillServes(b);
    }));

  test("PLAIN: right password authenticates and Metadata advertises the listener the client came in on", () =>
    withInProcessBroker(opts, async (b) => {
      const c = await connectWire(port(b, "SASL_PLAINTEXT"));
      const r = await plain(c, "alice", "alice-pw");
      expect(r.errorCode).toBe(0);
      expect(r.sessionLifetimeMs).toBe(0n);
      const md = await c.call<{ brokers: { host: string; port: number }[] }>(METADATA, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      expect(md.brokers).toEqual([{ nodeId: 1, host: "sasl.example", port: 9094, rack: null }] as never);
      const fc = await c.call<{ coordinators: { host: string; port: number }[] }>(10, 4, { keyType: 0, coordinatorKeys: ["g"] });
      expect(fc.coordinators[0]).toMatchObject({ host: "sasl.example", port: 9094 });
      const p = await connectWire(port(b, "PLAINTEXT"));
      const md2 = await p.call<{ brokers: { host: string; port: number }[] }>(METADATA, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      expect(md2.brokers[0]).toMatchObject({ host: "plain.example", port: 9092 });
      // SASL requests on a listener without SASL: ILLEGAL_SASL_STATE, as Kafka answers them.
      expect((await handshake(p, "PLAIN")).errorCode).toBe(ErrorCode.ILLEGAL_SASL_STATE);
    }));

  test("PLAIN: wrong password, unknown user, malformed tokens fail with SASL_AUTHENTICATION_FAILED and close", () =>
    withInProcessBroker(opts, async (b) => {
      const bad: (string | Uint8Array)[] = ["\0alice\0wrong", "\0nobody\0alice-pw", "alice-pw", "\0\0", "bob\0alice\0alice-pw", new Uint8Array([0xff, 0, 0xfe, 0, 0xfd]), new Uint8Array(0)];
      for (const token of bad) {
        const c = await connectWire(port(b, "SASL_PLAINTEXT"));
        expect((await handshake(c, "PLAIN")).errorCode).toBe(0);
        const r = await authenticate(c, token);
        expect(r.errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
        expect(r.errorMessage).toMatch(/^Authentication failed/);
        await waitFor(async () => closedOn(c, METADATA, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }), 10_000, "close");
      }
      await stillServes(b);
    }));

  test("unknown mechanism: UNSUPPORTED_SASL_MECHANISM with the enabled list, then closed", () =>
    withInProcessBroker(opts, async (b) => {
      const c = await connectWire(port(b, "SASL_PLAINTEXT"));
      const r = await handshake(c, "GSSAPI");
      expect(r.errorCode).toBe(ErrorCode.UNSUPPORTED_SASL_MECHANISM);
      expect(r.mechanisms).toEqual(["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]);
      // OAUTHBEARER (unsecured) is not offered unless enabled.
      const c2 = await connectWire(port(b, "SASL_PLAINTEXT"));
      expect((await handshake(c2, "OAUTHBEARER")).errorCode).toBe(ErrorCode.UNSUPPORTED_SASL_MECHANISM);
    }));

  for (const mech of ["SCRAM-SHA-256", "SCRAM-SHA-512"] as const) {
    test(`${mech}: right proof authenticates and the server signature verifies; wrong nonce, proof or password fail`, () =>
      withInProcessBroker(opts, async (b) => {
        const ok = await scram(await connectWire(port(b, "SASL_PLAINTEXT")), mech, "alice", "alice-pw");
        expect(ok.final!.errorCode).toBe(0);
        expect(dec.decode(ok.final!.authBytes)).toBe(ok.expectedFinal!);
        const wrongNonce = await scram(await connectWire(port(b, "SASL_PLAINTEXT")), mech, "alice", "alice-pw", { nonce: (n) => n.slice(0, -2) + "xx" });
        expect(wrongNonce.final!.errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
        const wrongProof = await scram(await connectWire(port(b, "SASL_PLAINTEXT")), mech, "alice", "alice-pw", { proof: (p) => Buffer.from(p.map((x) => x ^ 1)) });
        expect(wrongProof.final!.errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
        const shortProof = await scram(await connectWire(port(b, "SASL_PLAINTEXT")), mech, "alice", "alice-pw", { proof: (p) => p.subarray(0, 3) });
        expect(shortProof.final!.errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
        const wrongPw = await scram(await connectWire(port(b, "SASL_PLAINTEXT")), mech, "alice", "nope");
        expect(wrongPw.final!.errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
        const unknown = await scram(await connectWire(port(b, "SASL_PLAINTEXT")), mech, "nobody", "alice-pw");
        expect(unknown.first.errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
        for (const garbage of ["", "n,,", "p=tls-unique,,n=alice,r=abc", "n,,n=alice", "n,,r=abc,n=alice", "n,,n=al=ice,r=abc", "\u0000\u0001"]) {
          const c = await connectWire(port(b, "SASL_PLAINTEXT"));
          await handshake(c, mech);
          expect((await authenticate(c, garbage)).errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
        }
        await stillServes(b);
      }));
  }

  test("oversized auth bytes before authentication close the connection before they are buffered", () =>
    withInProcessBroker(opts, async (b) => {
      const c = await connectWire(port(b, "SASL_PLAINTEXT"));
      await handshake(c, "PLAIN");
      expect(await closedOn(c, AUTHENTICATE, 2, { authBytes: new Uint8Array(600 * 1024) })).toBe(true);
      await stillServes(b);
    }));

  test("SaslHandshake v0: bare length-prefixed tokens, then Kafka requests as the user", () =>
    withInProcessBroker(opts, async (b) => {
      const frames: Uint8Array[] = [];
      let closed = false;
      const onData = frameReader((f) => frames.push(f.slice()));
      const sock = await Bun.connect({ hostname: "127.0.0.1", port: port(b, "SASL_PLAINTEXT"), socket: { data: (_s, d) => onData(d), close: () => void (closed = true) } });
      const hs = new Uint8Array([0, 0, 0, 18, 0, 17, 0, 0, 0, 0, 0, 7, 0, 1, 0x74, 0, 5, ...enc.encode("PLAIN")]);
      sock.write(hs);
      await waitFor(() => frames.length === 1, 10_000, "handshake answer");
      expect(frames[0]!.subarray(4, 6)).toEqual(new Uint8Array([0, 0])); // error code NONE
      const token = enc.encode("\0bob\0bob-pw");
      const framed = new Uint8Array(4 + token.length);
      new DataView(framed.buffer).setInt32(0, token.length);
      framed.set(token, 4);
      sock.write(framed);
      // PLAIN's answer is an empty bare token: a length prefix of 0.
      await waitFor(() => closed || frames.length === 2, 10_000, "token answer");
      expect(closed).toBe(false);
      expect(frames[1]!.length).toBe(0);
      // Metadata v0, correlation id 8: answered now that the connection is authenticated.
      sock.write(new Uint8Array([0, 0, 0, 15, 0, 3, 0, 0, 0, 0, 0, 8, 0, 1, 0x74, 0, 0, 0, 0]));
      await waitFor(() => closed || frames.length === 3, 10_000, "metadata answer");
      expect(closed).toBe(false);
      expect(new DataView(frames[2]!.buffer, frames[2]!.byteOffset).getInt32(0)).toBe(8);
      sock.end();
    }));

  test("SaslHandshake v0 with a wrong password: the connection closes", () =>
    withInProcessBroker(opts, async (b) => {
      const frames: Uint8Array[] = [];
      let closed = false;
      const onData = frameReader((f) => frames.push(f.slice()));
      const sock = await Bun.connect({ hostname: "127.0.0.1", port: port(b, "SASL_PLAINTEXT"), socket: { data: (_s, d) => onData(d), close: () => void (closed = true) } });
      sock.write(new Uint8Array([0, 0, 0, 18, 0, 17, 0, 0, 0, 0, 0, 7, 0, 1, 0x74, 0, 5, ...enc.encode("PLAIN")]));
      await waitFor(() => frames.length === 1, 10_000, "handshake answer");
      sock.write(new Uint8Array([0, 0, 0, 3, 0, 0x61, 0]));
      await waitFor(() => closed, 10_000, "close");
      expect(frames).toHaveLength(1);
      await stillServes(b);
    }));
});

describe.concurrent("KIP-368 re-authentication", () => {
  const reauth = { ...opts, connectionsMaxReauthMs: 400 };

  test("SaslAuthenticate v1+ tells the session lifetime; after it only re-authentication is answered", () =>
    withInProcessBroker(reauth, async (b) => {
      const c = await connectWire(port(b, "SASL_PLAINTEXT"));
      const r = await plain(c, "alice", "alice-pw", 1);
      expect(r.errorCode).toBe(0);
      expect(r.sessionLifetimeMs).toBeGreaterThan(0n);
      expect(r.sessionLifetimeMs).toBeLessThanOrEqual(400n);
      // Re-authenticating in time renews the session, with the same principal.
      expect((await plain(c, "alice", "alice-pw", 1)).errorCode).toBe(0);
      // The new session began before this answer, so it ends no later than 400 ms from now.
      const renewed = Date.now();
      const md = { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false };
      await c.call(METADATA, 12, md);
      // Once the renewed session has run out, the next request closes the connection.
      await waitFor(() => Date.now() > renewed + 410, 5000, "session end");
      expect(await closedOn(c, METADATA, 12, md)).toBe(true);
    }));

  test("re-authentication as another user fails and closes", () =>
    withInProcessBroker(reauth, async (b) => {
      const c = await connectWire(port(b, "SASL_PLAINTEXT"));
      expect((await plain(c, "alice", "alice-pw", 2)).errorCode).toBe(0);
      const r = await plain(c, "bob", "bob-pw", 2);
      expect(r.errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
      expect(r.errorMessage).toContain("cannot change principals");
      expect(await closedOn(c, METADATA, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false })).toBe(true);
    }));

  test("without --connections-max-reauth-ms sessions never expire (lifetime 0)", () =>
    withInProcessBroker(opts, async (b) => {
      const c = await connectWire(port(b, "SASL_PLAINTEXT"));
      expect((await plain(c, "alice", "alice-pw", 1)).sessionLifetimeMs).toBe(0n);
    }));
});

describe.concurrent("SCRAM users through the Admin API", () => {
  test("errors as Kafka answers them; changes persist and take effect at once", async () => {
    const dataDir = (await import("../helpers/broker.ts")).tempDir();
    const salt = randomBytes(16);
    const salted = pbkdf2Sync("carol-pw", salt, 4096, 32, "sha256");
    await withInProcessBroker({ ...opts, dataDir }, async (b) => {
      const c = await connectWire(port(b, "PLAINTEXT"));
      type Alter = { results: { user: string; errorCode: number; errorMessage: string | null }[] };
      const r = await c.call<Alter>(51, 0, {
        deletions: [{ name: "nobody", mechanism: 1 }, { name: "", mechanism: 1 }],
        upsertions: [
          { name: "carol", mechanism: 1, iterations: 4096, salt, saltedPassword: salted },
          { name: "dave", mechanism: 1, iterations: 100, salt, saltedPassword: salted },
          { name: "erin", mechanism: 9, iterations: 4096, salt, saltedPassword: salted },
          { name: "frank", mechanism: 1, iterations: 4096, salt, saltedPassword: salted },
          { name: "frank", mechanism: 2, iterations: 4096, salt, saltedPassword: pbkdf2Sync("x", salt, 4096, 64, "sha512") },
        ],
      });
      const codes = Object.fromEntries(r.results.map((x) => [x.user, x.errorCode]));
      expect(codes).toEqual({
        nobody: ErrorCode.RESOURCE_NOT_FOUND,
        "": ErrorCode.UNACCEPTABLE_CREDENTIAL,
        carol: 0,
        dave: ErrorCode.UNACCEPTABLE_CREDENTIAL,
        erin: ErrorCode.UNSUPPORTED_SASL_MECHANISM,
        frank: ErrorCode.DUPLICATE_RESOURCE,
      });
      type Describe = { errorCode: number; results: { user: string; errorCode: number; credentialInfos: { mechanism: number; iterations: number }[] }[] };
      const all = await c.call<Describe>(50, 0, { users: null });
      expect(all.results.map((x) => x.user)).toEqual(["alice", "bob", "carol"]);
      expect(all.results.find((x) => x.user === "carol")!.credentialInfos).toEqual([{ mechanism: 1, iterations: 4096 }]);
      const some = await c.call<Describe>(50, 0, { users: [{ name: "carol" }, { name: "nobody" }, { name: "dave" }, { name: "dave" }] });
      expect(some.results.map((x) => [x.user, x.errorCode])).toEqual([
        ["carol", 0],
        ["nobody", ErrorCode.RESOURCE_NOT_FOUND],
        ["dave", ErrorCode.DUPLICATE_RESOURCE],
      ]);
      // The new user logs in with SCRAM-SHA-256 right away.
      const ok = await scram(await connectWire(port(b, "SASL_PLAINTEXT")), "SCRAM-SHA-256", "carol", "carol-pw");
      expect(ok.final!.errorCode).toBe(0);
    });
    // Nothing in the file gives the password or the salted password back.
    const stored = readFileSync(join(dataDir, "sasl-credentials.json"), "utf8");
    expect(stored).not.toContain("carol-pw");
    expect(stored).not.toContain(Buffer.from(salted).toString("base64"));
    expect(stored).not.toContain("alice-pw");
    // After a restart carol is still there; a deletion takes her away for good.
    await withInProcessBroker({ ...opts, dataDir, keep: true }, async (b) => {
      expect((await scram(await connectWire(port(b, "SASL_PLAINTEXT")), "SCRAM-SHA-256", "carol", "carol-pw")).final!.errorCode).toBe(0);
      const c = await connectWire(port(b, "PLAINTEXT"));
      const r = await c.call<{ results: { errorCode: number }[] }>(51, 0, { deletions: [{ name: "carol", mechanism: 1 }], upsertions: [] });
      expect(r.results[0]!.errorCode).toBe(0);
      expect((await scram(await connectWire(port(b, "SASL_PLAINTEXT")), "SCRAM-SHA-256", "carol", "carol-pw")).first.errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
    });
    (await import("node:fs")).rmSync(dataDir, { recursive: true, force: true });
  });
});
