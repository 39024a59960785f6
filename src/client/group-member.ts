// Membership of a classic consumer group (JoinGroup, SyncGroup, Heartbeat,
// LeaveGroup), with the range assignor run here when this member leads. The
// CLI's `consume --group` uses it, so it shares partitions with other
// consumers of the group, and its commits carry its generation.

import { Heartbeat, JoinGroup, LeaveGroup, SyncGroup } from "./apis.ts";
import { commit, type Offsets } from "./offsets.ts";
import type { KafkaClient } from "./client.ts";
import type { BrokerConnection } from "./connection.ts";
import { decodeAssignment, encodeAssignment, encodeSubscription, rangeAssign, type TopicPartitions } from "./consumer-protocol.ts";
import { check, KafkaError } from "./errors.ts";
import { subscribedTopics } from "../groups/consumer-protocol.ts";

const MEMBER_ID_REQUIRED = 79;
const REBALANCE_IN_PROGRESS = 27;
const UNKNOWN_MEMBER_ID = 25;
const ILLEGAL_GENERATION = 22;
const COORDINATOR_ERRORS = new Set([14, 15, 16]);

export interface MemberOptions {
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
}

export const DEFAULT_MEMBER: MemberOptions = { sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 30_000, heartbeatIntervalMs: 1_000 };

export class GroupMember {
  memberId = "";
  generationId = -1;
  assignment: TopicPartitions[] = [];
  /** Set when a heartbeat learns of a rebalance: commit, then join() again. */
  rejoinNeeded = false;
  private conn: BrokerConnection | null = null;
  private timer: Timer | undefined;
  private readonly options: MemberOptions;

  constructor(
    private readonly client: KafkaClient,
    readonly group: string,
    private readonly topics: string[],
    options: Partial<MemberOptions> = {},
  ) {
    this.options = { ...DEFAULT_MEMBER, ...options };
  }

  /** Joins (or rejoins) the group and resolves to this member's partitions. */
  async join(): Promise<TopicPartitions[]> {
    this.stopHeartbeats();
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.joinOnce();
      } catch (e) {
        if (!(e instanceof KafkaError) || attempt >= 20) throw e;
        if (e.code === UNKNOWN_MEMBER_ID || e.code === ILLEGAL_GENERATION) this.memberId = "";
        else if (COORDINATOR_ERRORS.has(e.code)) this.conn = null;
        else if (e.code !== REBALANCE_IN_PROGRESS) throw e;
      }
    }
  }

  private async joinOnce(): Promise<TopicPartitions[]> {
    this.conn ??= await this.client.coordinator(this.group);
    const conn = this.conn;
    let res = await conn.send(JoinGroup, null, this.joinRequest());
    if (res.errorCode === MEMBER_ID_REQUIRED) {
      this.memberId = res.memberId;
      res = await conn.send(JoinGroup, null, this.joinRequest());
    }
    check(res.errorCode, `JoinGroup ${this.group}`);
    this.memberId = res.memberId;
    this.generationId = res.generationId;
    let assignments: { memberId: string; assignment: Uint8Array }[] = [];
    if (res.leader === res.memberId && !res.skipAssignment) {
      const members = res.members.map((m) => ({ memberId: m.memberId, topics: subscribedTopics(m.metadata) ?? [] }));
      const wanted = [...new Set(members.flatMap((m) => m.topics))];
      const md = await this.client.metadata(wanted);
      const counts = new Map(md.topics.filter((t) => t.errorCode === 0).map((t) => [t.name, t.partitions.length]));
      assignments = [...rangeAssign(members, counts)].map(([memberId, a]) => ({ memberId, assignment: encodeAssignment(a) }));
    }
    const v = conn.version(SyncGroup);
    const sync = await conn.send(SyncGroup, v, {
      groupId: this.group,
      generationId: this.generationId,
      memberId: this.memberId,
      groupInstanceId: null,
      // v5+ names the protocol the coordinator checks against the group's.
      ...(v >= 5 ? { protocolType: "consumer", protocolName: res.protocolName ?? "range" } : {}),
      assignments,
    });
    check(sync.errorCode, `SyncGroup ${this.group}`);
    this.assignment = decodeAssignment(sync.assignment);
    this.rejoinNeeded = false;
    this.startHeartbeats();
    return this.assignment;
  }

  private joinRequest() {
    return {
      groupId: this.group,
      sessionTimeoutMs: this.options.sessionTimeoutMs,
      rebalanceTimeoutMs: this.options.rebalanceTimeoutMs,
      memberId: this.memberId,
      groupInstanceId: null,
      protocolType: "consumer",
      protocols: [{ name: "range", metadata: encodeSubscription(this.topics) }],
      reason: null,
    };
  }

  private startHeartbeats(): void {
    this.timer = setInterval(() => {
      const conn = this.conn;
      if (!conn || this.rejoinNeeded) return;
      conn.send(Heartbeat, null, { groupId: this.group, generationId: this.generationId, memberId: this.memberId, groupInstanceId: null }).then(
        (r) => {
          if (r.errorCode === 0) return;
          // A rebalance, or this member was dropped: join again (as a new member if it is unknown).
          if (r.errorCode === UNKNOWN_MEMBER_ID) this.memberId = "";
          this.rejoinNeeded = true;
        },
        () => {
          this.conn = null;
          this.rejoinNeeded = true;
        },
      );
    }, this.options.heartbeatIntervalMs);
  }

  private stopHeartbeats(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Commits offsets under this member's generation. */
  async commit(offsets: Offsets): Promise<void> {
    if (this.conn) await commit(this.conn, this.group, offsets, this.generationId, this.memberId);
  }

  /** Leaves the group so the others get its partitions at once. */
  async leave(): Promise<void> {
    this.stopHeartbeats();
    if (!this.conn || !this.memberId) return;
    const v = this.conn.version(LeaveGroup);
    // v3+ leaves as a batch of members; before, one member id.
    const body = v >= 3 ? { groupId: this.group, members: [{ memberId: this.memberId, groupInstanceId: null, reason: "klite consume done" }] } : { groupId: this.group, memberId: this.memberId };
    const res = await this.conn.send(LeaveGroup, v, body);
    check(res.errorCode, `LeaveGroup ${this.group}`);
  }
}
