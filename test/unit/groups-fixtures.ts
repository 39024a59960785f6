// Shared helpers for the group coordinator tests: a coordinator on a manual
// clock, JoinGroup requests with consumer-protocol metadata, and a check for
// whether a parked request has been answered yet.

import * as Subscription from "../../generated/ConsumerProtocolSubscription.ts";
import * as Assignment from "../../generated/ConsumerProtocolAssignment.ts";
import { Writer } from "../../src/protocol/writer.ts";
import { GroupCoordinator, type GroupConfig } from "../../src/groups/coordinator.ts";
import type { JoinRequest } from "../../src/groups/classic-membership.ts";
import type { Protocol } from "../../src/groups/classic-group.ts";
import { ManualScheduler } from "../../src/groups/scheduler.ts";
import { ErrorCode } from "../../src/protocol/errors.ts";
import { expect } from "bun:test";

export function coordinator(config: Partial<GroupConfig> = {}, dataDir: string | null = null) {
  const s = new ManualScheduler();
  const c = new GroupCoordinator({ dataDir, fsync: "never", scheduler: s, config });
  c.load();
  return { c, s };
}

/** Consumer protocol member metadata: int16 version, then the subscription. */
export function subscription(topics: string[], version = 1): Uint8Array {
  const body = { topics, userData: null };
  const n = Subscription.size(body, version);
  const w = Writer.alloc(2 + n);
  w.int16(version);
  Subscription.encodeInto(w, body, version);
  return w.buf;
}

export function assignment(parts: { topic: string; partitions: number[] }[]): Uint8Array {
  const body = { assignedPartitions: parts, userData: null };
  const n = Assignment.size(body, 0);
  const w = Writer.alloc(2 + n);
  w.int16(0);
  Assignment.encodeInto(w, body, 0);
  return w.buf;
}

export function proto(name = "range", topics = ["t"]): Protocol {
  return { name, metadata: subscription(topics) };
}

export function joinReq(over: Partial<JoinRequest> = {}): JoinRequest {
  return {
    groupId: "g",
    memberId: "",
    groupInstanceId: null,
    clientId: "client",
    clientHost: "/127.0.0.1",
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 30_000,
    protocolType: "consumer",
    protocols: [proto()],
    requireKnownMemberId: true,
    supportsSkipAssignment: true,
    ...over,
  };
}

/** Resolves true once `p` has settled, false if it is still pending after the queued work ran. */
export async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((r) => setImmediate(r));
  return done;
}

/** First join of a dynamic member (MEMBER_ID_REQUIRED, then the real join, left parked). */
export async function startJoin(c: GroupCoordinator, over: Partial<JoinRequest> = {}) {
  const first = await c.join(joinReq(over));
  expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
  const memberId = first.memberId;
  return { memberId, pending: c.join(joinReq({ ...over, memberId })) };
}
