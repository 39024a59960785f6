// FindCoordinator: this broker coordinates every group and every
// transactional id. v4+ batches the keys.

import type * as Req from "../../generated/FindCoordinatorRequest.ts";
import type * as Res from "../../generated/FindCoordinatorResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { RequestContext } from "./registry.ts";

const GROUP = 0;
const TRANSACTION = 1;

interface Answer {
  errorCode: number;
  errorMessage: string | null;
  nodeId: number;
  host: string;
  port: number;
}

function answer(broker: Broker, keyType: number, connectionId: number): Answer {
  if (keyType !== GROUP && keyType !== TRANSACTION) {
    // Share groups (key type 2) are not served; any other value is malformed.
    return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unsupported key type ${keyType}`, nodeId: -1, host: "", port: -1 };
  }
  return { errorCode: ErrorCode.NONE, errorMessage: null, nodeId: broker.nodeId, ...broker.advertisedFor(connectionId) };
}

export function handleFindCoordinator(broker: Broker, req: Req.FindCoordinatorRequest, ctx: RequestContext): Res.FindCoordinatorResponseInit {
  const v = ctx.apiVersion;
  if (v >= 4) return { throttleTimeMs: 0, coordinators: req.coordinatorKeys.map((key) => ({ key, ...answer(broker, req.keyType, ctx.connectionId) })) };
  const a = answer(broker, v >= 1 ? req.keyType : GROUP, ctx.connectionId);
  return {
    throttleTimeMs: 0,
    errorCode: a.errorCode,
    ...(v >= 1 ? { errorMessage: a.errorMessage } : {}),
    nodeId: a.nodeId,
    host: a.host,
    port: a.port,
  };
}
