// SCRAM-SHA-256 / SCRAM-SHA-512 server side (RFC 5802, RFC 7677), without
// channel binding, as Kafka runs it: client-first (user, client nonce) →
// server-first (combined nonce, salt, iterations) → client-final (nonce and
// proof) → server-final (server signature). The proof is checked against the
// stored key only; the password never reaches the broker.

import { randomBytes } from "node:crypto";
import { SCRAM, digest, hmac, sameBytes, type ScramMechanism } from "./credentials.ts";
import { failed, type SaslExchange, type SaslStep } from "./sasl-exchange.ts";
import type { UserStore } from "./user-store.ts";

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });

/** RFC 5802 saslname: "=2C" is a comma and "=3D" an equals sign; any other "=" is invalid. */
function unescapeName(s: string): string | null {
  if (/=(?!2C|3D)/.test(s)) return null;
  return s.replace(/=2C/g, ",").replace(/=3D/g, "=");
}

/** Splits "a=1,b=2" into ordered attribute pairs; null when malformed. */
function attributes(s: string): [string, string][] | null {
  const out: [string, string][] = [];
  for (const part of s.split(",")) {
    const m = /^([A-Za-z])=(.*)$/s.exec(part);
    if (!m) return null;
    out.push([m[1]!, m[2]!]);
  }
  return out;
}

const PRINTABLE_NONCE = /^[\x21-\x2b\x2d-\x7e]+$/;

export class ScramExchange implements SaslExchange {
  private state: "first" | "final" | "done" = "first";
  private gs2Header = "";
  private clientFirstBare = "";
  private serverFirst = "";
  private nonce = "";
  private user = "";

  constructor(
    private readonly mechanism: ScramMechanism,
    private readonly users: UserStore,
  ) {}

  next(token: Uint8Array): SaslStep {
    let text: string;
    try {
      text = dec.decode(token);
    } catch {
      return failed("Authentication failed: SCRAM message is not UTF-8");
    }
    if (this.state === "first") return this.first(text);
    if (this.state === "final") return this.final(text);
    return failed("Authentication failed: unexpected SCRAM message after the exchange ended");
  }

  private first(text: string): SaslStep {
    this.state = "done";
    // gs2-header: cbind flag "," [authzid] "," ; "p=" asks for channel binding, which Kafka does not offer.
    const m = /^([ny]),(a=[^,]*)?,(.*)$/s.exec(text);
    if (!m) return failed("Authentication failed: Invalid SCRAM client first message");
    const bare = m[3]!;
    const attrs = attributes(bare);
    if (!attrs || attrs.length < 2 || attrs[0]![0] !== "n" || attrs[1]![0] !== "r") return failed("Authentication failed: Invalid SCRAM client first message");
    // Extensions after the nonce: only Kafka's "tokenauth" (delegation tokens) is known, and klite has none.
    if (attrs.slice(2).some(([k, v]) => k === "t" || v.startsWith("tokenauth"))) return failed("Authentication failed: delegation tokens are not supported");
    const user = unescapeName(attrs[0]![1]);
    const clientNonce = attrs[1]![1];
    if (user === null || user === "") return failed("Authentication failed: Invalid SCRAM user name");
    if (!PRINTABLE_NONCE.test(clientNonce)) return failed("Authentication failed: Invalid SCRAM nonce");
    if (m[2] !== undefined && unescapeName(m[2].slice(2)) !== user) {
      return failed("Authentication failed: Authorization id does not match the authenticated user");
    }
    const credential = this.users.get(user, this.mechanism);
    if (!credential) return failed(`Authentication failed during authentication due to invalid credentials with SASL mechanism ${this.mechanism}`);
    this.gs2Header = text.slice(0, text.length - bare.length);
    this.clientFirstBare = bare;
    this.user = user;
    this.nonce = clientNonce + randomBytes(24).toString("base64");
    this.serverFirst = `r=${this.nonce},s=${Buffer.from(credential.salt).toString("base64")},i=${credential.iterations}`;
    this.state = "final";
    return { bytes: enc.encode(this.serverFirst) };
  }

  private final(text: string): SaslStep {
    this.state = "done";
    const bad = failed(`Authentication failed during authentication due to invalid credentials with SASL mechanism ${this.mechanism}`);
    const attrs = attributes(text);
    if (!attrs || attrs.length < 3) return failed("Authentication failed: Invalid SCRAM client final message");
    const proofAt = text.lastIndexOf(",p=");
    const [c, r] = [attrs[0]!, attrs[1]!];
    const p = attrs[attrs.length - 1]!;
    if (c[0] !== "c" || r[0] !== "r" || p[0] !== "p" || proofAt < 0) return failed("Authentication failed: Invalid SCRAM client final message");
    if (c[1] !== Buffer.from(this.gs2Header).toString("base64")) return failed("Authentication failed: Invalid SCRAM channel binding");
    // RFC 5802 wants the combined nonce itself; librdkafka 2.0.2 sends its client nonce in front of it
    // ("r=" client nonce + combined nonce), which Kafka's ScramSaslServer has accepted by checking
    // only that the nonce ends with the combined one. Do the same.
    if (!r[1].endsWith(this.nonce)) return failed("Authentication failed: Invalid SCRAM nonce");
    const credential = this.users.get(this.user, this.mechanism);
    if (!credential) return bad;
    const { hash, bytes } = SCRAM[this.mechanism];
    const proof = new Uint8Array(Buffer.from(p[1], "base64"));
    if (proof.length !== bytes) return bad;
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${text.slice(0, proofAt)}`;
    const signature = hmac(hash, credential.storedKey, authMessage);
    const clientKey = proof.map((b, i) => b ^ signature[i]!);
    if (!sameBytes(digest(hash, clientKey), credential.storedKey)) return bad;
    const serverSignature = hmac(hash, credential.serverKey, authMessage);
    return { bytes: enc.encode(`v=${Buffer.from(serverSignature).toString("base64")}`), user: this.user };
  }
}
