// SaslHandshake v0: the SASL tokens that follow are bare, each with a 4-byte
// length and no Kafka header, answered the same way. A failed exchange has no
// way to carry an error there, so the connection closes.

import { DisconnectError, type FrameChunks } from "../server/dispatch.ts";
import type { ConnectionAuth } from "./connection-auth.ts";
import type { Security } from "./security.ts";

/** Kafka's sasl.server.max.receive.size: the largest frame read before authentication. */
export const SASL_MAX_RECEIVE_BYTES = 512 * 1024;

export async function rawSaslToken(security: Security, auth: ConnectionAuth, token: Uint8Array): Promise<FrameChunks> {
  // The token may be a view of a pooled read buffer; the exchange may run across awaits.
  const step = await security.step(auth, token.slice());
  if (step.error !== undefined) throw new DisconnectError(`SASL authentication failed: ${step.error}`);
  const out = new Uint8Array(4 + step.bytes.length);
  new DataView(out.buffer).setInt32(0, step.bytes.length);
  out.set(step.bytes, 4);
  return [out];
}
