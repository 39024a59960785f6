// Runs one request through the broker's dispatcher without a socket: encodes
// the frame with the generated codecs, hands it to handleFrame, and decodes
// the answer. For handler tests that want real framing and version checks.

import { apis, requestHeaderVersion, responseHeaderVersion } from "../../generated/index.ts";
import * as RequestHeader from "../../generated/RequestHeader.ts";
import type { Broker } from "../../src/broker.ts";
import { Reader } from "../../src/protocol/reader.ts";
import { handleFrame } from "../../src/server/dispatch.ts";

export type Obj = Record<string, unknown>;

/** `peer`: the connection's principal and address (default: anonymous from 10.0.0.1). */
export async function callDispatcher(broker: Broker, apiKey: number, version: number, body: Obj, peer: { principal?: string; remoteAddress?: string } = {}): Promise<Obj> {
  const api = apis.get(apiKey)!;
  const header = RequestHeader.encode({ requestApiKey: apiKey, requestApiVersion: version, correlationId: 7, clientId: "tester" }, requestHeaderVersion(apiKey, version));
  const req = api.request.encode({ ...api.request.create(), ...body } as never, version);
  const frame = new Uint8Array(header.length + req.length);
  frame.set(header);
  frame.set(req, header.length);
  const out = await handleFrame(broker, { connectionId: 1, remoteAddress: peer.remoteAddress ?? "10.0.0.1", principal: peer.principal }, frame);
  if (!out) throw new Error(`api ${apiKey} v${version}: no response`);
  const r = new Reader(out);
  r.int32();
  const correlationId = r.int32();
  if (correlationId !== 7) throw new Error(`correlation id ${correlationId}, expected 7`);
  if (responseHeaderVersion(apiKey, version) >= 1) r.taggedFields();
  return api.response.decode(r, version) as Obj;
}
