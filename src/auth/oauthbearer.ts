// SASL OAUTHBEARER (RFC 7628) with Kafka's *unsecured* JWS validation
// (OAuthBearerUnsecuredValidatorCallbackHandler): the token is an unsigned
// JWT (header alg "none", empty signature) whose claims are believed as they
// stand. Anyone can mint one for any user: for development only, and offered
// only when --sasl-enabled-mechanisms names OAUTHBEARER.

import { EMPTY, failed, type SaslExchange, type SaslStep } from "./sasl-exchange.ts";

const dec = new TextDecoder("utf-8", { fatal: true });

function jsonPart(part: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(dec.decode(Buffer.from(part, "base64url")));
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Validates an unsecured JWS the way Kafka's unsecured validator does; the user name or an error. */
export function validateUnsecuredJws(token: string, nowMs: number): { user: string; expiresAtMs: number } | { error: string } {
  const parts = token.split(".");
  if (parts.length !== 3) return { error: "token is not a JWS compact serialization (three dot-separated parts)" };
  if (parts[2] !== "") return { error: "an unsecured JWS must have an empty signature" };
  const header = jsonPart(parts[0]!);
  const claims = jsonPart(parts[1]!);
  if (!header || !claims) return { error: "token header or claims are not base64url JSON objects" };
  if (header.alg !== "none") return { error: 'unsecured JWS header must have "alg": "none"' };
  const sub = claims.sub;
  if (typeof sub !== "string" || sub.trim() === "") return { error: 'required claim "sub" is missing or empty' };
  const exp = claims.exp;
  if (typeof exp !== "number" || !Number.isFinite(exp)) return { error: 'required claim "exp" is missing or not a number' };
  if (exp * 1000 <= nowMs) return { error: "the token has expired" };
  const iat = claims.iat;
  if (iat !== undefined && (typeof iat !== "number" || iat * 1000 > nowMs)) return { error: 'claim "iat" is not a number or lies in the future' };
  if (typeof iat === "number" && iat > exp) return { error: 'claim "iat" is later than "exp"' };
  return { user: sub, expiresAtMs: exp * 1000 };
}

export class OAuthBearerExchange implements SaslExchange {
  private used = false;

  next(token: Uint8Array): SaslStep {
    if (this.used) return failed("Authentication failed: OAUTHBEARER takes a single message");
    this.used = true;
    let text: string;
    try {
      text = dec.decode(token);
    } catch {
      return failed("Authentication failed: OAUTHBEARER message is not UTF-8");
    }
    // gs2-header "n,[a=authzid]," then key=value pairs each ended by ^A, and a final ^A.
    const m = /^n,(?:a=([^,]*))?,\x01((?:[A-Za-z]+=[\x21-\x7E \t\r\n]*\x01)*)\x01$/.exec(text);
    if (!m) return failed("Authentication failed: Invalid OAUTHBEARER client first message");
    const kv = new Map<string, string>();
    for (const pair of m[2]!.split("\x01")) {
      if (pair === "") continue;
      const eq = pair.indexOf("=");
      kv.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    const auth = /^Bearer +([\x21-\x7E]+)$/i.exec(kv.get("auth") ?? "");
    if (!auth) return failed("Authentication failed: OAUTHBEARER message has no bearer token");
    const result = validateUnsecuredJws(auth[1]!, Date.now());
    if ("error" in result) return failed(`Authentication failed: invalid token: ${result.error}`);
    if (m[1] !== undefined && m[1] !== "" && m[1] !== result.user) return failed("Authentication failed: Authorization id does not match the token's subject");
    return { bytes: EMPTY, user: result.user, expiresAtMs: result.expiresAtMs };
  }
}
