// One client connection: frames in, responses out strictly in request order.
// Requests are handled as they arrive (so pipelined produces share one fsync),
// but each response waits for those before it. Reading pauses while too much
// output or too many requests are outstanding, so a slow reader cannot make
// us buffer without bound.

import type { Socket } from "bun";
import type { Broker } from "../broker.ts";
import { ANONYMOUS } from "../handlers/registry.ts";
import { FrameError, FrameSplitter } from "./frames.ts";
import { giveBack } from "../util/buffer-pool.ts";
import { DisconnectError, handleFrameChunks, type FrameChunks } from "./dispatch.ts";
import type { CloseReason } from "../metrics/broker-metrics.ts";
import type { ConnectionAuth } from "../auth/connection-auth.ts";
import { SASL_MAX_RECEIVE_BYTES, rawSaslToken } from "../auth/raw-sasl.ts";
import type { ListenerSpec } from "./listeners.ts";

const MAX_IN_FLIGHT = 64;
/** How long a connection whose authentication failed stays open after the answer (Kafka: 100 ms). */
const REFUSED_CLOSE_DELAY_MS = 500;
const PRODUCE_KEY = 0;
const MAX_PENDING_OUTPUT = 8 * 1024 * 1024;
/**
 * Bytes of requests still being handled (produce frames excepted, see
 * isProduce): past this, reading pauses until some are answered. One request
 * of any allowed size always proceeds. Without it, 64 pipelined requests of
 * up to --max-request-bytes each could all be held at the same time.
 */
const MAX_REQUEST_BYTES_IN_FLIGHT = 32 * 1024 * 1024;

/**
 * Produce is the one API whose frames run to megabytes, and its handler keeps
 * nothing of the request after its synchronous part. Other handlers may keep
 * views (group member metadata, say), so their frames are left to the GC and
 * count towards MAX_REQUEST_BYTES_IN_FLIGHT until answered.
 */
function isProduce(frame: Uint8Array): boolean {
  return frame.length >= 2 && frame[0] === 0 && frame[1] === PRODUCE_KEY;
}

interface Slot {
  done: boolean;
  data: FrameChunks | null;
}

export interface ConnectionData {
  conn: Connection;
}

let nextConnectionId = 1;

export class Connection {
  readonly id = nextConnectionId++;
  readonly remoteAddress: string;
  /** Authentication state: SASL, TLS client certificate, the listener it came in on. */
  readonly auth: ConnectionAuth | null;
  private readonly splitter: FrameSplitter;
  /**
   * Frames before SASL authentication completes are Kafka's
   * sasl.server.max.receive.size at most (512 KiB), so an unauthenticated
   * peer cannot make us buffer --max-request-bytes.
   */
  private preAuthSplitter: FrameSplitter | null = null;
  private refusalTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly slots: Slot[] = [];
  private readonly output: Uint8Array[] = [];
  private outputBytes = 0;
  private requestBytes = 0;
  private paused = false;
  private closed = false;
  /** Why we closed it, for the metrics; null when the client did. */
  private closeReason: CloseReason | null = null;
  private counted = false;
  private readonly frames: Uint8Array[] = [];

  constructor(
    private readonly broker: Broker,
    private readonly socket: Socket<ConnectionData>,
    listener?: ListenerSpec,
  ) {
    this.remoteAddress = `${socket.remoteAddress}`;
    this.splitter = new FrameSplitter(broker.options.maxRequestBytes);
    this.auth = listener ? broker.security.attach(this.id, listener, this.remoteAddress) : null;
    if (this.auth?.sasl) this.preAuthSplitter = new FrameSplitter(SASL_MAX_RECEIVE_BYTES);
    socket.setNoDelay(true);
    broker.metrics.opened();
  }

  onData(data: Uint8Array): void {
    // Shutting down: requests already taken finish, new ones are not read. A
    // client that keeps producing would otherwise never let the last fsync round end.
    if (this.closed || this.broker.closing) return;
    this.broker.metrics.bytesIn += data.length;
    const auth = this.auth;
    if (this.preAuthSplitter && auth?.authenticated) {
      // Authentication ended with a frame: anything buffered past it was sent before the answer, which no client does.
      if (this.preAuthSplitter.bufferedBytes > 0) return this.abort("request bytes sent before SASL authentication completed");
      this.preAuthSplitter = null;
    }
    const raw = auth?.raw === true;
    if (raw && this.preAuthSplitter?.bufferedBytes === 0) {
      // Bare tokens may be shorter than any Kafka request.
      this.preAuthSplitter = new FrameSplitter(SASL_MAX_RECEIVE_BYTES, 0);
    }
    try {
      (this.preAuthSplitter ?? this.splitter).push(data, this.frames);
    } catch (e) {
      if (e instanceof FrameError) return this.abort(e.message);
      throw e;
    }
    for (const frame of this.frames) {
      if (this.closed) break;
      if (raw && auth.raw) this.dispatchRawSasl(auth, frame);
      else this.dispatch(frame);
    }
    this.frames.length = 0;
    this.updateFlowControl();
  }

  /** A bare SASL token after SaslHandshake v0, answered as a bare length-prefixed token. */
  private dispatchRawSasl(auth: ConnectionAuth, token: Uint8Array): void {
    const slot: Slot = { done: false, data: null };
    this.slots.push(slot);
    rawSaslToken(this.broker.security, auth, token).then(
      (out) => this.complete(slot, out),
      (e) => this.fail(e),
    );
  }

  get principal(): string {
    return this.auth?.principal ?? ANONYMOUS;
  }

  private dispatch(frame: Uint8Array): void {
    // A SASL listener refuses what is not allowed before (or after a failed, or past an expired) authentication.
    const refused = this.auth?.admit((frame[0]! << 8) | frame[1]!);
    if (refused) return this.abort(refused);
    const slot: Slot = { done: false, data: null };
    this.slots.push(slot);
    // A produce frame is done with once the handler returns: it appends before
    // its first await (see handlers/produce.ts) and keeps no views, so the
    // bytes go back now rather than after the fsync, which would hold every
    // frame of a group-commit window and make each new one fresh memory.
    const early = isProduce(frame);
    if (!early) this.requestBytes += frame.length;
    const started = performance.now();
    // The frame is at least 10 bytes (FrameSplitter): api key and version are there.
    const apiKey = (frame[0]! << 8) | frame[1]!;
    const apiVersion = (frame[2]! << 8) | frame[3]!;
    const failed = (e: unknown) => {
      this.broker.metrics.failure(apiKey, apiVersion);
      this.fail(e);
    };
    let result: FrameChunks | null | Promise<FrameChunks | null>;
    try {
      result = handleFrameChunks(this.broker, { connectionId: this.id, remoteAddress: this.remoteAddress, principal: this.principal }, frame, true);
    } catch (e) {
      if (early) giveBack(frame);
      return failed(e);
    }
    if (early) giveBack(frame);
    const settle = (data: FrameChunks | null) => {
      if (!early) this.requestBytes -= frame.length;
      this.broker.metrics.request(apiKey, apiVersion, (performance.now() - started) / 1000);
      this.complete(slot, data);
    };
    if (result instanceof Promise) result.then(settle, failed);
    else settle(result);
  }

  private fail(e: unknown): void {
    if (e instanceof DisconnectError) this.abort(e.message);
    else {
      this.broker.log.error(`connection ${this.id}: request failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      this.abort("internal error", "internal_error");
    }
  }

  private complete(slot: Slot, data: FrameChunks | null): void {
    if (this.closed) return;
    slot.done = true;
    slot.data = data;
    while (this.slots.length > 0 && this.slots[0]!.done) {
      const s = this.slots.shift()!;
      if (s.data) {
        for (const chunk of s.data) {
          this.broker.metrics.bytesOut += chunk.length;
          this.write(chunk);
        }
      }
    }
    this.closeIfRefused();
    this.updateFlowControl();
  }

  /**
   * After a failed authentication, once its answer is on its way, the
   * connection ends (as Kafka closes it), a moment later: closing at once
   * makes librdkafka see the hang-up before the answer and report a transport
   * error instead of the authentication failure. Any request meanwhile closes it at once.
   */
  private closeIfRefused(): void {
    if (this.auth?.closeAfterResponse && this.slots.length === 0 && this.output.length === 0 && !this.closed && !this.refusalTimer) {
      this.refusalTimer = setTimeout(() => {
        if (this.closed) return;
        this.closeReason = "protocol_error";
        this.closed = true;
        this.socket.end();
      }, REFUSED_CLOSE_DELAY_MS);
    }
  }

  /** Queues one chunk; pooled buffers (active-segment reads) go back once the socket has all their bytes. */
  private write(data: Uint8Array): void {
    if (this.output.length === 0) {
      const n = this.socket.write(data);
      if (n === data.length) return giveBack(data);
      data = data.subarray(Math.max(0, n));
    }
    this.output.push(data);
    this.outputBytes += data.length;
  }

  onDrain(): void {
    while (this.output.length > 0 && !this.closed) {
      const data = this.output[0]!;
      const n = this.socket.write(data);
      if (n < data.length) {
        this.output[0] = data.subarray(Math.max(0, n));
        this.outputBytes -= Math.max(0, n);
        break;
      }
      this.output.shift();
      this.outputBytes -= data.length;
      giveBack(data);
    }
    this.closeIfRefused();
    this.updateFlowControl();
  }

  private updateFlowControl(): void {
    if (this.closed) return;
    const busy = this.outputBytes > MAX_PENDING_OUTPUT || this.slots.length >= MAX_IN_FLIGHT || this.requestBytes > MAX_REQUEST_BYTES_IN_FLIGHT;
    if (busy && !this.paused) {
      this.paused = true;
      this.socket.pause();
    } else if (!busy && this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  }

  /** In-flight requests and unsent output: what a graceful shutdown waits for. */
  get idle(): boolean {
    return this.slots.length === 0 && this.output.length === 0;
  }

  private abort(reason: string, kind: CloseReason = "protocol_error"): void {
    if (this.closed) return;
    this.closeReason = kind;
    // One line per connection-level problem, with the peer; a client's bad input never gets a stack trace.
    this.broker.log.info(`connection ${this.id} from ${this.remoteAddress} closed: ${reason}`);
    this.closed = true;
    this.slots.length = 0;
    this.output.length = 0;
    this.socket.end();
  }

  onClose(): void {
    if (this.refusalTimer) clearTimeout(this.refusalTimer);
    if (this.auth) this.broker.security.detach(this.id);
    if (!this.counted) {
      this.counted = true;
      this.broker.metrics.closed(this.closeReason ?? (this.broker.closing ? "shutdown" : "client"));
    }
    this.closed = true;
    this.slots.length = 0;
    this.output.length = 0;
    this.outputBytes = 0;
  }
}
