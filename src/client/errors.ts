// A Kafka error code from a broker, named as Kafka names it, so that a
// command can fail with one line such as
// `CreateTopics orders: TOPIC_ALREADY_EXISTS (36): Topic 'orders' already exists.`

import { ErrorCode } from "../protocol/errors.ts";

const NAMES = new Map<number, string>(Object.entries(ErrorCode).map(([name, code]) => [code, name]));

export function errorName(code: number): string {
  return NAMES.get(code) ?? `ERROR_${code}`;
}

export class KafkaError extends Error {
  override name = "KafkaError";
  constructor(
    readonly code: number,
    /** What failed: an API and the resource, e.g. "CreateTopics orders". */
    readonly what: string,
    readonly brokerMessage: string | null = null,
  ) {
    super(`${what}: ${errorName(code)} (${code})${brokerMessage ? `: ${brokerMessage}` : ""}`);
  }
}

/** Throws a KafkaError when `code` is not 0. */
export function check(code: number, what: string, message: string | null = null): void {
  if (code !== 0) throw new KafkaError(code, what, message);
}
