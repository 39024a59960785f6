// What every SASL mechanism's server side looks like to the connection: feed
// it the client's tokens in turn; each step answers bytes for the client, and
// finally a user name (authenticated) or an error (failed, the message the
// client is told; it never holds a secret).

export interface SaslStep {
  /** Bytes for the client (a challenge, or the final server message). */
  bytes: Uint8Array;
  /** Set once authentication succeeded: the user name of the principal User:<name>. */
  user?: string;
  /** When the credential itself stops being valid (OAUTHBEARER's exp), ms since the epoch. */
  expiresAtMs?: number;
  /** Set when authentication failed. */
  error?: string;
}

export interface SaslExchange {
  next(token: Uint8Array): SaslStep | Promise<SaslStep>;
}

export const EMPTY = new Uint8Array(0);

export function failed(error: string): SaslStep {
  return { bytes: EMPTY, error };
}
