// Share sessions (KIP-932): per (group, member), the share-partitions a
// member fetches from and the epoch its next ShareFetch or ShareAcknowledge
// must carry. Epoch 0 opens (or replaces) a session, -1 closes it; any other
// epoch must be the expected one, and each use moves it on by one.

import { ErrorCode } from "../protocol/errors.ts";

export const INITIAL_EPOCH = 0;
export const FINAL_EPOCH = -1;

export interface SessionPartition {
  topicId: string;
  partition: number;
}

export class ShareSession {
  epoch = 1;
  readonly partitions = new Map<string, SessionPartition>();
  /** The connection of the session's last request: its close ends the session (as Kafka 4.1+). */
  connectionId = -1;
  /** Where the next fetch starts among the partitions. */
  rotation = 0;

  constructor(
    readonly groupId: string,
    readonly memberId: string,
  ) {}

  add(topicId: string, partition: number): void {
    this.partitions.set(`${topicId}:${partition}`, { topicId, partition });
  }

  forget(topicId: string, partition: number): boolean {
    return this.partitions.delete(`${topicId}:${partition}`);
  }
}

export class ShareSessionCache {
  private readonly sessions = new Map<string, ShareSession>();

  /** max.share.sessions */
  constructor(private readonly maxSessions: number) {}

  private key(groupId: string, memberId: string): string {
    return `${groupId}\u0000${memberId}`;
  }

  get size(): number {
    return this.sessions.size;
  }

  get(groupId: string, memberId: string): ShareSession | undefined {
    return this.sessions.get(this.key(groupId, memberId));
  }

  /** A fresh session for the member (an older one is replaced); SHARE_SESSION_LIMIT_REACHED when the cache is full. */
  open(groupId: string, memberId: string): ShareSession | number {
    const k = this.key(groupId, memberId);
    if (!this.sessions.has(k) && this.sessions.size >= this.maxSessions) return ErrorCode.SHARE_SESSION_LIMIT_REACHED;
    const s = new ShareSession(groupId, memberId);
    this.sessions.set(k, s);
    return s;
  }

  /** The session a request at `epoch` (> 0 or -1) continues, or its error. */
  check(groupId: string, memberId: string, epoch: number): ShareSession | number {
    const s = this.sessions.get(this.key(groupId, memberId));
    if (!s) return ErrorCode.SHARE_SESSION_NOT_FOUND;
    if (epoch !== FINAL_EPOCH && epoch !== s.epoch) return ErrorCode.INVALID_SHARE_SESSION_EPOCH;
    return s;
  }

  close(s: ShareSession): void {
    const k = this.key(s.groupId, s.memberId);
    if (this.sessions.get(k) === s) this.sessions.delete(k);
  }

  *onConnection(connectionId: number): Generator<ShareSession> {
    for (const s of [...this.sessions.values()]) if (s.connectionId === connectionId) yield s;
  }

  /** Sessions of a member that left the group, or of a deleted group. */
  *ofGroup(groupId: string, memberId?: string): Generator<ShareSession> {
    for (const s of [...this.sessions.values()]) if (s.groupId === groupId && (memberId === undefined || s.memberId === memberId)) yield s;
  }
}
