// The server-side assignors a ConsumerGroupHeartbeat may name; "uniform" is the default, as in Kafka.

import type { ServerAssignor } from "./assignor.ts";
import { rangeAssignor } from "./range.ts";
import { uniformAssignor } from "./uniform.ts";

export const DEFAULT_ASSIGNOR = "uniform";

export const SERVER_ASSIGNORS: ReadonlyMap<string, ServerAssignor> = new Map([
  [uniformAssignor.name, uniformAssignor],
  [rangeAssignor.name, rangeAssignor],
]);
