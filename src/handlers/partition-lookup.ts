// Checks shared by the partition-addressed APIs.

import { ErrorCode } from "../protocol/errors.ts";

/** klite is the only replica and never changes leader, so every partition stays at leader epoch 0. */
export const LEADER_EPOCH = 0;

/** Kafka's fencing on a client-supplied current leader epoch (-1: the client does not know it). */
export function leaderEpochError(requested: number): number {
  if (requested < 0 || requested === LEADER_EPOCH) return ErrorCode.NONE;
  return requested > LEADER_EPOCH ? ErrorCode.UNKNOWN_LEADER_EPOCH : ErrorCode.FENCED_LEADER_EPOCH;
}
