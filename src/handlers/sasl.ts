// SaslHandshake (v0-1) and SaslAuthenticate (v0-2): the Kafka-framed SASL
// exchange. The connection's state lives in broker.security (by connection
// id); on listeners without SASL both answer ILLEGAL_SASL_STATE, as Kafka's
// request handler does.

import type * as HsReq from "../../generated/SaslHandshakeRequest.ts";
import type * as HsRes from "../../generated/SaslHandshakeResponse.ts";
import type * as AuthReq from "../../generated/SaslAuthenticateRequest.ts";
import type * as AuthRes from "../../generated/SaslAuthenticateResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { RequestContext } from "./registry.ts";

export function handleSaslHandshake(broker: Broker, req: HsReq.SaslHandshakeRequest, ctx: RequestContext): HsRes.SaslHandshakeResponseInit {
  const mechanisms = broker.security.mechanisms;
  const a = broker.security.of(ctx.connectionId);
  if (!a?.sasl) return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms };
  const refused = broker.security.beginExchange(a, req.mechanism, ctx.apiVersion === 0);
  if (refused) {
    // Kafka answers and then closes: the client may not try another mechanism on this connection.
    a.closeAfterResponse = true;
    a.state = "failed";
    broker.log.info(`connection ${ctx.connectionId} from ${ctx.remoteAddress}: SaslHandshake refused: ${refused.message}`);
    return { errorCode: refused.error, mechanisms };
  }
  return { errorCode: ErrorCode.NONE, mechanisms };
}

export async function handleSaslAuthenticate(broker: Broker, req: AuthReq.SaslAuthenticateRequest, ctx: RequestContext): Promise<AuthRes.SaslAuthenticateResponseInit> {
  const a = broker.security.of(ctx.connectionId);
  if (!a?.sasl) {
    return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, errorMessage: "SaslAuthenticate on a listener without SASL", authBytes: new Uint8Array(0) };
  }
  const step = await broker.security.step(a, req.authBytes);
  if (step.error !== undefined) return { errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: step.error, authBytes: new Uint8Array(0) };
  return { errorCode: ErrorCode.NONE, errorMessage: null, authBytes: step.bytes, ...(ctx.apiVersion >= 1 ? { sessionLifetimeMs: BigInt(step.lifetimeMs) } : {}) };
}
