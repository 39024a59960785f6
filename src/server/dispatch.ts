// Request frame → header → version check → generated decoder → handler →
// generated encoder → response frame. No sockets here: the connection feeds
// frames in and writes whatever comes back.

import { apis, requestHeaderVersion, responseHeaderVersion } from "../../generated/index.ts";
import * as RequestHeader from "../../generated/RequestHeader.ts";
import * as ApiVersionsResponse from "../../generated/ApiVersionsResponse.ts";
import { Reader, DecodeError } from "../protocol/reader.ts";
import { Writer } from "../protocol/writer.ts";
import { GatherWriter, gatheredBytes } from "../protocol/gather-writer.ts";
import type { RecordsInit } from "../protocol/generated-support.ts";
import type * as FetchResponse from "../../generated/FetchResponse.ts";
import type * as FetchRequest from "../../generated/FetchRequest.ts";
import type * as ProduceRequest from "../../generated/ProduceRequest.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { Broker } from "../broker.ts";
import { ANONYMOUS, type RequestContext } from "../handlers/registry.ts";
import { handlers } from "../handlers/index.ts";
import { advertisedApiVersions } from "../handlers/api-versions.ts";
import { applyQuotas, clampFetch, recordProduce } from "../quota/throttle.ts";
import { authorizedHandle } from "../acl/api-checks.ts";

/** A request that must end the connection, as Kafka does for unparseable or unsupported input. */
export class DisconnectError extends Error {
  override name = "DisconnectError";
}

export interface ConnectionInfo {
  connectionId: number;
  remoteAddress: string;
  /** Kafka's principal string for the authenticated peer, "User:ANONYMOUS" when none. */
  principal?: string;
  /** Told the throttle time of a request over a client quota: the connection stops reading that long (KIP-219). */
  onThrottle?(ms: number): void;
}

/** A response frame as ordered chunks: large record sections are referenced, not copied. */
export type FrameChunks = Uint8Array[];

/** Handles one request frame; resolves to the response frame, or null when Kafka sends none (acks=0). */
export function handleFrame(broker: Broker, conn: ConnectionInfo, frame: Uint8Array): Uint8Array | null | Promise<Uint8Array | null> {
  const out = handleFrameChunks(broker, conn, frame, false);
  if (out instanceof Promise) return out.then((c) => (c === null ? null : c[0]!));
  return out === null ? null : out[0]!;
}

/**
 * As handleFrame, for a socket that writes chunks in order. With `gather`,
 * record sections of 64 KiB and more stay where they are (read buffers);
 * without it the response is always one chunk.
 */
export function handleFrameChunks(
  broker: Broker,
  conn: ConnectionInfo,
  frame: Uint8Array,
  gather: boolean,
): FrameChunks | null | Promise<FrameChunks | null> {
  const started = performance.now();
  const r = new Reader(frame);
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  const served = broker.served.get(apiKey);

  if (!served) throw new DisconnectError(`unsupported api key ${apiKey}`);
  if (apiVersion < served.min || apiVersion > served.max) {
    if (apiKey === 18) return [apiVersionsFallback(broker, correlationId)];
    throw new DisconnectError(`unsupported version ${apiVersion} of api ${apiKey}`);
  }

  r.pos = 0;
  let header: RequestHeader.RequestHeader;
  let body: object;
  try {
    header = RequestHeader.decode(r, requestHeaderVersion(apiKey, apiVersion));
    body = apis.get(apiKey)!.request.decode(r, apiVersion);
  } catch (e) {
    if (e instanceof DecodeError) throw new DisconnectError(`malformed request (api ${apiKey} v${apiVersion}): ${e.message}`);
    throw e;
  }
  const ctx: RequestContext = {
    apiKey,
    apiVersion,
    correlationId,
    clientId: header.clientId,
    connectionId: conn.connectionId,
    remoteAddress: conn.remoteAddress,
    principal: conn.principal ?? ANONYMOUS,
  };
  const entry = handlers.get(apiKey);
  if (!entry) throw new DisconnectError(`no handler for api ${apiKey}`);
  if (apiKey === PRODUCE_KEY) broker.metrics.produced(body as ProduceRequest.ProduceRequest);
  const quotas = broker.quotas.empty ? null : broker.quotas;
  const produceThrottleMs = quotas && apiKey === PRODUCE_KEY ? recordProduce(quotas, ctx, frame.length, performance.now()) : 0;
  if (produceThrottleMs > 0) conn.onThrottle?.(produceThrottleMs);
  if (quotas && apiKey === FETCH_KEY) clampFetch(quotas, ctx, body as FetchRequest.FetchRequest);
  const az = broker.authorizer;
  const result = az ? authorizedHandle(az, broker, body, ctx, (req) => entry.handle(broker, req, ctx)) : entry.handle(broker, body, ctx);
  const busyMs = performance.now() - started;
  const encode = (res: object | null): FrameChunks | null | Promise<FrameChunks | null> => {
    let delayMs = 0;
    if (quotas) {
      const t = applyQuotas(quotas, ctx, produceThrottleMs, res, busyMs, performance.now());
      res = t.res;
      if (t.throttleMs > 0) conn.onThrottle?.(t.throttleMs);
      if (t.delay) delayMs = t.throttleMs;
    }
    if (res === null) return null;
    if (apiKey === FETCH_KEY) broker.metrics.fetched(res as FetchResponse.FetchResponseInit);
    const chunks = encodeResponse(ctx, res, gather && ctx.apiKey === FETCH_KEY);
    return delayMs > 0 ? Bun.sleep(delayMs).then(() => chunks) : chunks;
  };
  if (result instanceof Promise) return result.then(encode);
  return encode(result);
}

const PRODUCE_KEY = 0;
const FETCH_KEY = 1;

/** Every partition's records of a Fetch response. */
function* fetchRecords(body: FetchResponse.FetchResponseInit): Generator<RecordsInit | null | undefined> {
  for (const t of body.responses ?? []) for (const p of t.partitions ?? []) yield p.records;
}

/** Response frame: int32 size, header (v0: correlation id; v1 adds an empty tagged section), body. */
export function encodeResponse(ctx: RequestContext, body: object, gather = false): FrameChunks {
  const mod = apis.get(ctx.apiKey)!.response;
  const hv = responseHeaderVersion(ctx.apiKey, ctx.apiVersion);
  const bodySize = mod.size(body as never, ctx.apiVersion);
  const headerSize = hv >= 1 ? 5 : 4;
  const total = 4 + headerSize + bodySize;
  const w = gather ? new GatherWriter(total, gatheredBytes(fetchRecords(body as FetchResponse.FetchResponseInit))) : Writer.alloc(total);
  w.int32(headerSize + bodySize);
  w.int32(ctx.correlationId);
  if (hv >= 1) w.uvarint(0);
  mod.encodeInto(w, body as never, ctx.apiVersion);
  return w instanceof GatherWriter ? w.finishChunks() : [w.finish()];
}

/** ApiVersions at a version we do not know: a v0 body with UNSUPPORTED_VERSION and our ranges, so the client can retry. */
function apiVersionsFallback(broker: Broker, correlationId: number): Uint8Array {
  const body: ApiVersionsResponse.ApiVersionsResponseInit = {
    errorCode: ErrorCode.UNSUPPORTED_VERSION,
    apiKeys: advertisedApiVersions(broker),
  };
  const size = ApiVersionsResponse.size(body, 0);
  const w = Writer.alloc(8 + size);
  w.int32(4 + size);
  w.int32(correlationId);
  ApiVersionsResponse.encodeInto(w, body, 0);
  return w.finish();
}
