// A minimal Kafka client over one TCP connection, speaking through the
// generated codecs: requests go out one at a time and each answer is decoded
// with the response module of its API key. For protocol-level tests that need
// exact versions and fields no real client lets us choose.

import type { Socket } from "bun";
import { apis, requestHeaderVersion, responseHeaderVersion } from "../../generated/index.ts";
import * as RequestHeader from "../../generated/RequestHeader.ts";
import { Reader } from "../../src/protocol/reader.ts";
import { frameReader } from "./frames.ts";
import { buildBatch, type RecordInit } from "../../src/protocol/records.ts";
import { recordsFrom } from "../../src/client/fetched.ts";

export interface WireClient {
  /** Sends one request and resolves to its decoded response. */
  call<T = Record<string, unknown>>(apiKey: number, version: number, body: object): Promise<T>;
  close(): void;
}

export async function connectWire(port: number, clientId = "klite-wire-test"): Promise<WireClient> {
  let waiting: { resolve: (frame: Uint8Array) => void; reject: (e: Error) => void } | null = null;
  let closed: Error | null = null;
  // One request at a time, so at most one frame is ever waiting to be taken.
  const onData = frameReader((frame) => {
    const w = waiting;
    waiting = null;
    w?.resolve(frame);
  });
  const sock: Socket<undefined> = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, d) {
        onData(d);
      },
      close() {
        closed = new Error("connection closed by the broker");
        waiting?.reject(closed);
        waiting = null;
      },
    },
  });
  let correlationId = 0;
  return {
    async call<T>(apiKey: number, version: number, body: object): Promise<T> {
      if (closed) throw closed;
      const api = apis.get(apiKey);
      if (!api) throw new Error(`unknown api key ${apiKey}`);
      const id = ++correlationId;
      const header = RequestHeader.encode({ requestApiKey: apiKey, requestApiVersion: version, correlationId: id, clientId }, requestHeaderVersion(apiKey, version));
      const payload = (api.request.encode as (m: object, v: number) => Uint8Array)(body, version);
      const frame = new Uint8Array(4 + header.length + payload.length);
      new DataView(frame.buffer).setInt32(0, header.length + payload.length);
      frame.set(header, 4);
      frame.set(payload, 4 + header.length);
      const answer = new Promise<Uint8Array>((resolve, reject) => (waiting = { resolve, reject }));
      sock.write(frame);
      const res = await answer;
      const r = new Reader(res);
      const got = r.int32();
      if (got !== id) throw new Error(`correlation id ${got}, expected ${id}`);
      if (responseHeaderVersion(apiKey, version) >= 1) r.taggedFields();
      const decoded = api.response.decode(r, version) as T;
      if (r.pos !== res.length) throw new Error(`${api.name} v${version}: ${res.length - r.pos} bytes left after decoding`);
      return decoded;
    },
    close() {
      sock.end();
    },
  };
}

/** One record batch from a producer: transactional or idempotent, values as strings. */
export function producerBatch(o: { producerId: number; epoch: number; sequence: number; values: string[]; transactional?: boolean }): Uint8Array {
  const records: RecordInit[] = o.values.map((value) => ({ value }));
  return buildBatch({ records, producerId: o.producerId, producerEpoch: o.epoch, baseSequence: o.sequence, transactional: o.transactional ?? true });
}

/**
 * What a read_committed consumer keeps of fetched batches: data records below
 * the last stable offset, minus those of aborted transactions, minus control
 * batches (the client's own reader, src/client/fetched.ts, decides).
 */
export function committedValues(records: Uint8Array | null, aborted: { producerId: bigint; firstOffset: bigint }[] | null): string[] {
  return recordsFrom(records, 0n, aborted ?? []).records.map((r) => (r.value ? new TextDecoder().decode(r.value) : ""));
}
