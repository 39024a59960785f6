// One connection's authentication state, as Kafka's SaslServerAuthenticator
// keeps it. On a SASL listener nothing but ApiVersions and SaslHandshake is
// answered until a mechanism is chosen, then only SaslAuthenticate until the
// exchange ends; anything else closes the connection. An authenticated
// session may be renewed in place (KIP-368) and, once expired, any request
// but re-authentication closes the connection.

import { ANONYMOUS } from "../handlers/registry.ts";
import type { ListenerSpec } from "../server/listeners.ts";
import { usesSasl } from "../server/listeners.ts";
import type { SaslExchange } from "./sasl-exchange.ts";

export const SASL_HANDSHAKE = 17;
export const SASL_AUTHENTICATE = 36;
const API_VERSIONS = 18;

export type SaslState = "initial" | "handshaken" | "complete" | "failed";

export class ConnectionAuth {
  readonly sasl: boolean;
  state: SaslState = "initial";
  /** The principal requests run as: from SASL, else from a TLS client certificate, else ANONYMOUS. */
  principal = ANONYMOUS;
  /** Principal of the TLS client certificate, when one was presented and verified. */
  tlsPrincipal: string | null = null;
  mechanism: string | null = null;
  exchange: SaslExchange | null = null;
  /** SaslHandshake v0: the next frames are bare SASL tokens, not Kafka requests. */
  raw = false;
  /** Inside a re-authentication of a session already complete. */
  reauthenticating = false;
  /** When the session must be renewed, ms since the epoch; 0: never. */
  sessionExpiresAt = 0;
  /** Close once the response in hand is written (failed or refused authentication). */
  closeAfterResponse = false;

  constructor(
    readonly connectionId: number,
    readonly listener: ListenerSpec,
    readonly remoteAddress: string,
  ) {
    this.sasl = usesSasl(listener.protocol);
  }

  get authenticated(): boolean {
    return !this.sasl || this.state === "complete" || this.reauthenticating;
  }

  /** Sets the TLS client certificate's principal; it is the connection's own only without SASL. */
  setTlsPrincipal(p: string | null): void {
    this.tlsPrincipal = p;
    if (!this.sasl) this.principal = p ?? ANONYMOUS;
  }

  /** null when the request may be handled; otherwise why the connection closes instead. */
  admit(apiKey: number): string | null {
    if (!this.sasl) return null;
    if (this.state === "failed") return "request after failed authentication";
    if (this.raw) return "Kafka request where a SASL token was expected (SaslHandshake v0)";
    if (this.reauthenticating || this.state === "complete") {
      if (this.sessionExpiresAt > 0 && Date.now() >= this.sessionExpiresAt && apiKey !== SASL_HANDSHAKE && apiKey !== SASL_AUTHENTICATE) {
        return "SASL session expired without re-authentication";
      }
      return null;
    }
    if (this.state === "initial" && (apiKey === API_VERSIONS || apiKey === SASL_HANDSHAKE)) return null;
    if (this.state === "handshaken" && apiKey === SASL_AUTHENTICATE) return null;
    return `unexpected request (api key ${apiKey}) before SASL authentication completed`;
  }
}
