// SASL PLAIN (RFC 4616): one message, [authzid] NUL authcid NUL passwd,
// checked against the user's stored salted credentials. PLAIN sends the
// password itself: use it over TLS (SASL_SSL) beyond a trusted network.

import { checkPassword } from "./credentials.ts";
import { EMPTY, failed, type SaslExchange, type SaslStep } from "./sasl-exchange.ts";
import type { UserStore } from "./user-store.ts";

const INVALID = "Authentication failed: Invalid username or password";

export class PlainExchange implements SaslExchange {
  private used = false;
  constructor(private readonly users: UserStore) {}

  async next(token: Uint8Array): Promise<SaslStep> {
    if (this.used) return failed("Authentication failed: PLAIN takes a single message");
    this.used = true;
    const parts = new TextDecoder("utf-8", { fatal: false }).decode(token).split("\u0000");
    if (parts.length !== 3) return failed("Authentication failed: Invalid SASL/PLAIN response: expected 3 tokens");
    const [authzid, user, password] = parts as [string, string, string];
    if (user === "") return failed("Authentication failed: username not specified");
    if (password === "") return failed("Authentication failed: password not specified");
    if (authzid !== "" && authzid !== user) return failed("Authentication failed: Client requested an authorization id that is different from username");
    // Any of the user's credentials will do: each is derived from the same password.
    for (const c of this.users.all(user)) {
      if (await checkPassword(c, password)) return { bytes: EMPTY, user };
    }
    return failed(INVALID);
  }
}
