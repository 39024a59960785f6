// Checks shared by the partition-addressed APIs.

import { ErrorCode } from "../protocol/errors.ts";

/**
 * Kafka's fencing on a client-supplied current leader epoch (-1: the client
 * does not know it): an older one than the partition's is FENCED (its
 * metadata is stale), a newer one UNKNOWN (the broker's would be).
 */
export function leaderEpochError(requested: number, current: number): number {
  if (requested < 0 || requested === current) return ErrorCode.NONE;
  return requested > current ? ErrorCode.UNKNOWN_LEADER_EPOCH : ErrorCode.FENCED_LEADER_EPOCH;
}
