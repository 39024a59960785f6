// Where a response meets the quotas: the request's bytes (Produce), the
// response's bytes (Fetch) and the time the broker spent on it (every API)
// are recorded for the client, and the largest throttle time that comes
// out is written into the response's throttle_time_ms. Clients of the
// versions Kafka counts on to throttle themselves (KIP-219) get their
// response at once while the broker stops reading from them; older ones get
// their response late instead, as Kafka delays it.

import { apis } from "../../generated/index.ts";
import type { RequestContext } from "../handlers/registry.ts";
import type * as FetchRequest from "../../generated/FetchRequest.ts";
import { MAX_REQUEST_THROTTLE_MS, principalUser, type ClientQuotaManager } from "./manager.ts";
import { QUOTA_SAMPLES, QUOTA_WINDOW_MS } from "./rate.ts";
import { CONSUMER_BYTE_RATE, PRODUCER_BYTE_RATE, REQUEST_PERCENTAGE } from "./store.ts";

const PRODUCE = 0;
const FETCH = 1;

/** First version of each API whose clients throttle themselves (Kafka's shouldClientThrottle); absent: never. */
const CLIENT_THROTTLES_FROM = new Map<number, number>([
  [0, 6], [1, 8], [2, 3], [3, 6], [8, 4], [9, 4], [10, 2], [11, 3], [12, 2], [13, 2], [14, 2], [15, 2], [16, 2],
  [18, 2], [19, 3], [20, 2], [21, 1], [22, 1], [24, 1], [25, 1], [26, 1], [28, 1], [29, 1], [30, 1], [31, 1],
  [32, 2], [33, 1], [35, 1], [37, 1], [42, 1], [43, 0], [44, 0], [47, 0], [50, 0], [51, 0], [75, 0],
]);

export interface Throttled {
  /** The response to send (a throttled fetch's is emptied). */
  res: object | null;
  throttleMs: number;
  /** The client will not hold back by itself: send the response only after throttleMs. */
  delay: boolean;
}

/**
 * `produceThrottleMs`: what recordProduce said; `busyMs`: the broker's time
 * on the request. Returns the response with its throttle time set.
 */
/**
 * Produce bytes count as the request is taken, before it is handled, so the
 * connection is muted before it can hand us the next one (Kafka handles one
 * request of a connection at a time and mutes it from the response on).
 */
export function recordProduce(quotas: ClientQuotaManager, ctx: RequestContext, requestBytes: number, now: number): number {
  return quotas.record(PRODUCER_BYTE_RATE, principalUser(ctx.principal), ctx.clientId ?? "", requestBytes, now);
}

/**
 * A fetch under a consumer quota asks for no more than the quota allows over
 * the measured window (Kafka's maxValueInQuotaWindow); otherwise one large
 * response would put the client over its quota for good, every later fetch
 * being answered empty.
 */
export function clampFetch(quotas: ClientQuotaManager, ctx: RequestContext, req: FetchRequest.FetchRequest): void {
  const q = quotas.resolve(CONSUMER_BYTE_RATE, principalUser(ctx.principal), ctx.clientId ?? "");
  if (!q) return;
  const windowBytes = Math.floor((q.bound * (QUOTA_SAMPLES - 1) * QUOTA_WINDOW_MS) / 1000);
  req.maxBytes = Math.max(1, Math.min(req.maxBytes, windowBytes));
}

export function applyQuotas(quotas: ClientQuotaManager, ctx: RequestContext, produceThrottleMs: number, res: object | null, busyMs: number, now: number): Throttled {
  const user = principalUser(ctx.principal);
  const clientId = ctx.clientId ?? "";
  let bandwidth = produceThrottleMs;
  if (ctx.apiKey === FETCH && res && quotas.resolve(CONSUMER_BYTE_RATE, user, clientId)) {
    const bytes = apis.get(FETCH)!.response.size(res as never, ctx.apiVersion);
    bandwidth = quotas.record(CONSUMER_BYTE_RATE, user, clientId, bytes, now);
    if (bandwidth > 0) {
      // Kafka sends a throttled fetch back empty and counts none of it.
      quotas.unrecord(CONSUMER_BYTE_RATE, user, clientId, bytes, now);
      res = { ...res, responses: [] };
    }
  }
  // Kafka's request-time unit: percent of one thread over a second.
  const request = quotas.record(REQUEST_PERCENTAGE, user, clientId, busyMs / 10, now, MAX_REQUEST_THROTTLE_MS);
  const throttleMs = Math.max(bandwidth, request);
  if (throttleMs > 0 && res && "throttleTimeMs" in res) (res as { throttleTimeMs: number }).throttleTimeMs = throttleMs;
  const from = CLIENT_THROTTLES_FROM.get(ctx.apiKey);
  return { res, throttleMs, delay: throttleMs > 0 && res !== null && (from === undefined || ctx.apiVersion < from) };
}
