// One TCP connection to one broker, speaking through the generated codecs.
// Requests are pipelined: each gets a correlation id and waits in a map for
// its answer, so a caller can keep many in flight (the bench does). The API
// versions are negotiated once with ApiVersions when the connection opens.

import type { Socket } from "bun";
import { requestHeaderVersion, responseHeaderVersion } from "../../generated/index.ts";
import * as ApiVersionsRequest from "../../generated/ApiVersionsRequest.ts";
import * as ApiVersionsResponse from "../../generated/ApiVersionsResponse.ts";
import * as RequestHeader from "../../generated/RequestHeader.ts";
import { Reader } from "../protocol/reader.ts";
import { FrameSplitter } from "../server/frames.ts";
import { KafkaError } from "./errors.ts";

/** A request module and its response module, and the highest version this client's code handles. */
export interface Api<Req, Res> {
  key: number;
  name: string;
  maxVersion: number;
  request: { encode(m: Req, version: number): Uint8Array };
  response: { decode(r: Reader, version: number): Res };
}

export function api<Req, Res>(
  key: number,
  name: string,
  maxVersion: number,
  request: { encode(m: Req, version: number): Uint8Array },
  response: { decode(r: Reader, version: number): Res },
): Api<Req, Res> {
  return { key, name, maxVersion, request, response };
}

const ApiVersions = api(18, "ApiVersions", 3, ApiVersionsRequest, ApiVersionsResponse);
const UNSUPPORTED_VERSION = 35;
/** Responses are as large as the broker makes them; cap what one frame may claim. */
const MAX_RESPONSE_BYTES = 1 << 30;
/** Smallest response: a correlation id. */
const MIN_RESPONSE_BYTES = 4;

interface Pending {
  apiKey: number;
  version: number;
  decode: (r: Reader) => unknown;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export class ConnectionError extends Error {
  override name = "ConnectionError";
}

export class BrokerConnection {
  private readonly pending = new Map<number, Pending>();
  private readonly splitter = new FrameSplitter(MAX_RESPONSE_BYTES, MIN_RESPONSE_BYTES);
  private readonly queued: Uint8Array[] = [];
  private correlationId = 0;
  private closedWith: Error | null = null;
  private sock!: Socket<undefined>;
  /** The broker's version range per API key. */
  versions = new Map<number, { min: number; max: number }>();

  private constructor(
    readonly host: string,
    readonly port: number,
    private readonly clientId: string,
  ) {}

  static async open(host: string, port: number, clientId = "klite-cli", timeoutMs = 10_000): Promise<BrokerConnection> {
    const c = new BrokerConnection(host, port, clientId);
    const frames: Uint8Array[] = [];
    let timer: Timer | undefined;
    const connecting = Bun.connect({
      hostname: host,
      port,
      socket: {
        data: (_s, d) => {
          try {
            c.splitter.push(d, frames);
          } catch (e) {
            c.fail(new ConnectionError(`${c.address}: ${(e as Error).message}`));
            c.sock.end();
            return;
          }
          for (const f of frames) c.onFrame(f);
          frames.length = 0;
        },
        drain: () => c.flush(),
        close: () => c.fail(new ConnectionError(`${c.address}: connection closed by the broker`)),
        error: (_s, e) => c.fail(new ConnectionError(`${c.address}: ${e.message}`)),
      },
    });
    try {
      c.sock = await Promise.race([
        connecting,
        new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new ConnectionError(`${host}:${port}: connect timed out after ${timeoutMs} ms`)), timeoutMs))),
      ]);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new ConnectionError(msg.includes(`${port}`) ? msg : `cannot connect to ${host}:${port}: ${msg}`);
    } finally {
      clearTimeout(timer);
    }
    await c.negotiate();
    return c;
  }

  get address(): string {
    return `${this.host.includes(":") ? `[${this.host}]` : this.host}:${this.port}`;
  }

  get closed(): boolean {
    return this.closedWith !== null;
  }

  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  private async negotiate(): Promise<void> {
    const res = await this.send(ApiVersions, 3, { clientSoftwareName: "klite-cli", clientSoftwareVersion: "1" });
    if (res.errorCode !== 0) throw new KafkaError(res.errorCode, "ApiVersions");
    for (const k of res.apiKeys) this.versions.set(k.apiKey, { min: k.minVersion, max: k.maxVersion });
  }

  /** The highest version both sides handle, or an error naming the API. */
  version(a: Api<unknown, unknown>): number {
    const theirs = this.versions.get(a.key);
    if (!theirs) throw new Error(`${this.address} does not support ${a.name}`);
    const v = Math.min(theirs.max, a.maxVersion);
    if (v < theirs.min) throw new Error(`${this.address} supports ${a.name} v${theirs.min}-${theirs.max}, this client at most v${a.maxVersion}`);
    return v;
  }

  supports(a: Api<unknown, unknown>): boolean {
    const theirs = this.versions.get(a.key);
    return theirs !== undefined && theirs.min <= a.maxVersion;
  }

  /** Sends a request at `version` (default: the negotiated one) and resolves to its decoded response. */
  send<Req, Res>(a: Api<Req, Res>, version: number | null, body: Req): Promise<Res> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const v = version ?? this.version(a as Api<unknown, unknown>);
    const id = this.write(a, v, body);
    return new Promise<Res>((resolve, reject) => {
      this.pending.set(id, { apiKey: a.key, version: v, decode: (r) => this.decodeBody(a, v, r), resolve: resolve as (x: unknown) => void, reject });
    });
  }

  /** Sends a request that gets no response (Produce with acks=0). */
  sendOneWay<Req, Res>(a: Api<Req, Res>, version: number | null, body: Req): void {
    if (this.closedWith) throw this.closedWith;
    this.write(a, version ?? this.version(a as Api<unknown, unknown>), body);
  }

  /** Resolves once everything written so far has been handed to the kernel. */
  async drained(): Promise<void> {
    while (this.queued.length > 0 && !this.closedWith) await new Promise((r) => setTimeout(r, 1));
  }

  close(): void {
    if (!this.closedWith) this.fail(new ConnectionError(`${this.address}: connection closed`));
    this.sock?.end();
  }

  private decodeBody<Req, Res>(a: Api<Req, Res>, v: number, r: Reader): Res {
    // A broker that does not know our ApiVersions version answers in v0 with error 35.
    if (a.key === 18 && v > 0 && r.remaining >= 2 && r.view.getInt16(r.pos) === UNSUPPORTED_VERSION) return a.response.decode(r, 0);
    return a.response.decode(r, v);
  }

  private write<Req, Res>(a: Api<Req, Res>, v: number, body: Req): number {
    const id = (this.correlationId = (this.correlationId + 1) | 0);
    const header = RequestHeader.encode({ requestApiKey: a.key, requestApiVersion: v, correlationId: id, clientId: this.clientId }, requestHeaderVersion(a.key, v));
    const payload = a.request.encode(body, v);
    const frame = new Uint8Array(4 + header.length + payload.length);
    new DataView(frame.buffer).setInt32(0, header.length + payload.length);
    frame.set(header, 4);
    frame.set(payload, 4 + header.length);
    this.queued.push(frame);
    if (this.queued.length === 1) this.flush();
    return id;
  }

  /** Writes what the socket takes; the rest waits for `drain`. */
  private flush(): void {
    while (this.queued.length > 0) {
      const head = this.queued[0]!;
      const n = this.sock.write(head);
      if (n < head.length) {
        this.queued[0] = head.subarray(Math.max(n, 0));
        return;
      }
      this.queued.shift();
    }
  }

  private onFrame(frame: Uint8Array): void {
    const r = new Reader(frame);
    const id = r.int32();
    const p = this.pending.get(id);
    if (!p) {
      this.fail(new ConnectionError(`${this.address}: response with unknown correlation id ${id}`));
      this.sock.end();
      return;
    }
    this.pending.delete(id);
    try {
      if (responseHeaderVersion(p.apiKey, p.version) >= 1) r.taggedFields();
      p.resolve(p.decode(r));
    } catch (e) {
      p.reject(new ConnectionError(`${this.address}: bad response to api ${p.apiKey} v${p.version}: ${(e as Error).message}`));
    }
  }

  private fail(e: Error): void {
    if (this.closedWith) return;
    this.closedWith = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    this.queued.length = 0;
  }
}
