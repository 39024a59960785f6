// ApiVersions: the version ranges from spec/apis.json and the feature flags
// klite implements, nothing more (clients pick their flows from these).

import type * as Req from "../../generated/ApiVersionsRequest.ts";
import type * as Res from "../../generated/ApiVersionsResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { RequestContext } from "./registry.ts";

export function advertisedApiVersions(broker: Broker): Res.ApiVersionInit[] {
  return [...broker.served.values()]
    .sort((a, b) => a.key - b.key)
    .map((a) => ({ apiKey: a.key, minVersion: a.advertisedMin, maxVersion: a.max }));
}

export function handleApiVersions(broker: Broker, req: Req.ApiVersionsRequest, ctx: RequestContext): Res.ApiVersionsResponseInit {
  // v3+ clients name their software; Kafka rejects malformed names with INVALID_REQUEST.
  if (ctx.apiVersion >= 3) {
    const ok = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/;
    if (!ok.test(req.clientSoftwareName) || !ok.test(req.clientSoftwareVersion)) {
      return { errorCode: ErrorCode.INVALID_REQUEST, apiKeys: advertisedApiVersions(broker) };
    }
  }
  const features = broker.features;
  // Clients that send v0-3 reject a supported range starting at 0, so Kafka leaves such features out for them (KAFKA-17492).
  const supported = ctx.apiVersion >= 4 ? features : features.filter((f) => f.minVersion > 0);
  return {
    errorCode: ErrorCode.NONE,
    apiKeys: advertisedApiVersions(broker),
    throttleTimeMs: 0,
    supportedFeatures: supported.map((f) => ({ name: f.name, minVersion: f.minVersion, maxVersion: f.maxVersion })),
    finalizedFeaturesEpoch: features.length ? 1n : -1n,
    finalizedFeatures: features.map((f) => ({ name: f.name, minVersionLevel: f.level, maxVersionLevel: f.level })),
    zkMigrationReady: false,
  };
}
