// The table from API key to handler. Handlers are plain functions over broker
// state: they take a decoded request and return the response to encode.

import type { Broker } from "../broker.ts";

export interface RequestContext {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
  connectionId: number;
  remoteAddress: string;
  /** The peer's principal as Kafka writes it ("User:alice"); ANONYMOUS without authentication. */
  principal: string;
}

export const ANONYMOUS = "User:ANONYMOUS";

/** null: send no response at all (Produce with acks=0). */
export type HandlerResult<Res> = Res | null | Promise<Res | null>;

export interface HandlerEntry {
  handle(broker: Broker, req: object, ctx: RequestContext): object | null | Promise<object | null>;
}

export const handlers = new Map<number, HandlerEntry>();

/** Registers a typed handler; the generated decoder guarantees `req` has the request's shape. */
export function register<Req extends object, Res extends object>(
  apiKey: number,
  fn: (broker: Broker, req: Req, ctx: RequestContext) => HandlerResult<Res>,
): void {
  handlers.set(apiKey, { handle: (b, req, ctx) => fn(b, req as Req, ctx) });
}
