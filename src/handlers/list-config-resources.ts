// ListConfigResources (KIP-1142, formerly ListClientMetricsResources): the
// resources DescribeConfigs can describe. v0 lists client-metrics
// subscriptions only; v1 lists the types asked for (all supported ones when
// the list is empty) in Kafka's order: groups with group configs, client
// metrics, broker loggers, brokers, topics. A type Kafka does not list fails
// the whole request with UNSUPPORTED_VERSION. Group configs are the share
// groups' (src/share); klite keeps no client-metrics subscriptions.

import type * as Req from "../../generated/ListConfigResourcesRequest.ts";
import type * as Res from "../../generated/ListConfigResourcesResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { ResourceType } from "./configs.ts";
import type { RequestContext } from "./registry.ts";

const LISTED_IN_ORDER = [ResourceType.GROUP, ResourceType.CLIENT_METRICS, ResourceType.BROKER_LOGGER, ResourceType.BROKER, ResourceType.TOPIC] as const;

function resourcesOf(broker: Broker, type: number): string[] {
  switch (type) {
    case ResourceType.BROKER:
    case ResourceType.BROKER_LOGGER:
      return [String(broker.nodeId)];
    case ResourceType.TOPIC:
      return [...broker.topics.all()].map((t) => t.name).sort();
    case ResourceType.GROUP:
      return [...broker.share.configs.keys()].sort();
    default:
      return [];
  }
}

export function handleListConfigResources(broker: Broker, req: Req.ListConfigResourcesRequest, ctx: RequestContext): Res.ListConfigResourcesResponseInit {
  const supported: readonly number[] = LISTED_IN_ORDER;
  const asked = ctx.apiVersion === 0 ? [ResourceType.CLIENT_METRICS] : req.resourceTypes.length === 0 ? supported : req.resourceTypes;
  if (asked.some((t) => !supported.includes(t))) return { throttleTimeMs: 0, errorCode: ErrorCode.UNSUPPORTED_VERSION, configResources: [] };
  const configResources = LISTED_IN_ORDER.filter((t) => asked.includes(t)).flatMap((t) => resourcesOf(broker, t).map((resourceName) => ({ resourceName, resourceType: t })));
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, configResources };
}
