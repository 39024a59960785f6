// One client connection: frames in, responses out strictly in request order.
// Requests are handled as they arrive (so pipelined produces share one fsync),
// but each response waits for those before it. Reading pauses while too much
// output or too many requests are outstanding, so a slow reader cannot make
// us buffer without bound; while the broker-wide request memory is spent
// (request-memory.ts); and while a client quota mutes the connection. The
// connection limits (limits.ts) count it in and may close it.

import type { Socket } from "bun";
import type { Broker } from "../broker.ts";
import { ANONYMOUS } from "../handlers/registry.ts";
import { FrameError, FrameSplitter } from "./frames.ts";
import { giveBack } from "../util/buffer-pool.ts";
import { DisconnectError, handleFrameChunks, type FrameChunks } from "./dispatch.ts";
import type { CloseReason } from "../metrics/broker-metrics.ts";
import type { LimitedConnection } from "./limits.ts";
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

export class Connection implements LimitedConnection {
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
  /** Budget bytes each of `frames` holds (request-memory.ts). */
  private readonly held: number[] = [];
  /** The unread rest of a read, kept while the request-memory budget is spent. */
  private stalled: Uint8Array | null = null;
  /** performance.now() until which reading is muted by a quota (KIP-219). */
  private mutedUntil = 0;
  private muteTimer: ReturnType<typeof setTimeout> | null = null;
  /** Frames read before a mute began, handled when it ends (Kafka reads nothing more from a muted channel). */
  private readonly deferred: [Uint8Array, number][] = [];
  lastActivity = performance.now();
  /** performance.now() when the frame being read began (moved on by holds of ours), 0 between frames. */
  private frameStartedAt = 0;
  /** Since when reading is held for reasons of this connection's own (its responses, a quota), 0 when not. */
  private heldSince = 0;
  private readonly admitted: boolean;

  constructor(
    private readonly broker: Broker,
    private readonly socket: Socket<ConnectionData>,
    listener?: ListenerSpec,
  ) {
    this.remoteAddress = `${socket.remoteAddress}`;
    this.splitter = new FrameSplitter(broker.options.maxRequestBytes, undefined, broker.requestMemory);
    this.auth = listener ? broker.security.attach(this.id, listener, this.remoteAddress) : null;
    if (this.auth?.sasl) this.preAuthSplitter = new FrameSplitter(SASL_MAX_RECEIVE_BYTES);
    socket.setNoDelay(true);
    broker.metrics.opened();
    const refused = broker.connectionLimits.admit(this);
    this.admitted = refused === null;
    if (refused) this.abort(refused, "limit");
  }

  onData(data: Uint8Array): void {
    // Shutting down: requests already taken finish, new ones are not read. A
    // client that keeps producing would otherwise never let the last fsync round end.
    if (this.closed || this.broker.closing) return;
    this.broker.metrics.bytesIn += data.length;
    this.lastActivity = performance.now();
    if (this.stalled) {
      // A read that was under way when we paused: it waits behind the stalled one.
      const joined = new Uint8Array(this.stalled.length + data.length);
      joined.set(this.stalled);
      joined.set(data, this.stalled.length);
      this.stalled = joined;
      return;
    }
    this.consume(data);
  }

  /** Splits and dispatches; what the memory budget does not let in waits in `stalled`. */
  private consume(data: Uint8Array): void {
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
    let taken: number;
    try {
      // The pre-authentication splitter is small and bounded by itself, outside the request-memory budget.
      taken = (this.preAuthSplitter ?? this.splitter).push(data, this.frames, this.held);
    } catch (e) {
      if (e instanceof FrameError) return this.abort(e.message);
      throw e;
    }
    for (let i = 0; i < this.frames.length; i++) {
      if (this.closed) this.broker.requestMemory.release(this.held[i]!);
      else if (raw && auth.raw) {
        this.broker.requestMemory.release(this.held[i]!);
        this.dispatchRawSasl(auth, this.frames[i]!);
      } else if (this.mutedUntil > 0 || this.deferred.length > 0) this.deferred.push([this.frames[i]!, this.held[i]!]);
      else this.dispatch(this.frames[i]!, this.held[i]!);
    }
    this.frames.length = 0;
    this.held.length = 0;
    if (taken < data.length && !this.closed) {
      this.stalled = data.subarray(taken);
      this.broker.requestMemory.wait(() => this.unstall());
    }
    if (!(this.preAuthSplitter ?? this.splitter).midFrame) this.frameStartedAt = 0;
    else if (this.frameStartedAt === 0) this.frameStartedAt = performance.now();
    this.updateFlowControl();
  }

  private unstall(): void {
    const data = this.stalled;
    if (!data || this.closed) return;
    this.stalled = null;
    this.consume(data);
  }

  /** Stops reading for `ms` (a quota's throttle time, KIP-219). */
  mute(ms: number): void {
    if (ms <= 0 || this.closed) return;
    const until = performance.now() + ms;
    if (until <= this.mutedUntil) return;
    this.mutedUntil = until;
    if (this.muteTimer) clearTimeout(this.muteTimer);
    this.muteTimer = setTimeout(() => {
      this.muteTimer = null;
      this.mutedUntil = 0;
      while (this.deferred.length > 0 && this.mutedUntil === 0 && !this.closed) {
        const [frame, held] = this.deferred.shift()!;
        this.dispatch(frame, held);
      }
      this.updateFlowControl();
    }, ms);
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

  private dispatch(frame: Uint8Array, held: number): void {
    // A SASL listener refuses what is not allowed before (or after a failed, or past an expired) authentication.
    const refused = this.auth?.admit((frame[0]! << 8) | frame[1]!);
    if (refused) {
      this.broker.requestMemory.release(held);
      return this.abort(refused);
    }
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
    const memory = this.broker.requestMemory;
    const failed = (e: unknown) => {
      if (!early) memory.release(held);
      this.broker.metrics.failure(apiKey, apiVersion);
      this.fail(e);
    };
    let result: FrameChunks | null | Promise<FrameChunks | null>;
    try {
      result = handleFrameChunks(
        this.broker,
        { connectionId: this.id, remoteAddress: this.remoteAddress, principal: this.principal, onThrottle: (ms) => this.mute(ms) },
        frame,
        true,
      );
    } catch (e) {
      if (early) {
        giveBack(frame);
        memory.release(held);
      }
      return failed(e);
    }
    if (early) {
      giveBack(frame);
      memory.release(held);
    }
    const settle = (data: FrameChunks | null) => {
      if (!early) {
        this.requestBytes -= frame.length;
        memory.release(held);
      }
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
    this.lastActivity = performance.now();
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
    const held = this.outputBytes > MAX_PENDING_OUTPUT || this.slots.length >= MAX_IN_FLIGHT || this.requestBytes > MAX_REQUEST_BYTES_IN_FLIGHT || this.mutedUntil > 0 || this.deferred.length > 0;
    // The read timeout stops while we hold reading for the client's own sake,
    // not while it waits for request memory: a peer that is gone is noticed
    // only by reading, so a stalled connection must still time out.
    if (held && this.heldSince === 0) this.heldSince = performance.now();
    else if (!held && this.heldSince > 0) {
      if (this.frameStartedAt > 0) this.frameStartedAt += performance.now() - this.heldSince;
      this.heldSince = 0;
    }
    const busy = held || this.stalled !== null;
    if (busy && !this.paused) {
      this.paused = true;
      this.socket.pause();
    } else if (!busy && this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  }

  /** How long the frame being read has taken so far, not counting holds of ours; 0 between frames. */
  frameReadMs(now: number): number {
    return this.frameStartedAt === 0 ? 0 : (this.heldSince || now) - this.frameStartedAt;
  }

  /** In-flight requests and unsent output: what a graceful shutdown waits for. */
  get idle(): boolean {
    return this.slots.length === 0 && this.output.length === 0 && this.deferred.length === 0;
  }

  abort(reason: string, kind: CloseReason = "protocol_error"): void {
    if (this.closed) return;
    this.closeReason = kind;
    // One line per connection-level problem, with the peer; a client's bad input never gets a stack trace.
    this.broker.log.info(`connection ${this.id} from ${this.remoteAddress} closed: ${reason}`);
    this.closed = true;
    this.slots.length = 0;
    this.output.length = 0;
    this.releaseReading();
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
    this.releaseReading();
    // Share sessions live on their connection (KIP-932).
    this.broker.share.connectionClosed(this.id);
  }

  /** What reading holds goes back: the partial frame's memory, the stalled read, the mute timer, the limits' count. */
  private releaseReading(): void {
    this.splitter.dispose();
    this.stalled = null;
    for (const [, held] of this.deferred.splice(0)) this.broker.requestMemory.release(held);
    if (this.muteTimer) clearTimeout(this.muteTimer);
    this.muteTimer = null;
    if (this.admitted) this.broker.connectionLimits.leave(this);
  }
}
