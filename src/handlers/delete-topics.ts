// DeleteTopics: by name (v1-v5) or by name or id (v6); the registry forgets
// the topic durably before its partition data is removed from disk.

import type * as Req from "../../generated/DeleteTopicsRequest.ts";
import type * as Res from "../../generated/DeleteTopicsResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { ZERO_UUID } from "../protocol/generated-support.ts";
import type { RequestContext } from "./registry.ts";

export function handleDeleteTopics(broker: Broker, req: Req.DeleteTopicsRequest, ctx: RequestContext): Res.DeleteTopicsResponseInit {
  const wanted: { name: string | null; id: string }[] =
    ctx.apiVersion >= 6 ? req.topics.map((t) => ({ name: t.name, id: t.topicId })) : req.topicNames.map((n) => ({ name: n, id: ZERO_UUID }));
  const responses: Res.DeletableTopicResultInit[] = [];
  for (const w of wanted) {
    if (w.name !== null && w.id !== ZERO_UUID) {
      responses.push({ name: w.name, topicId: w.id, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: "Name and id cannot both be set." });
      continue;
    }
    const topic = w.name !== null ? broker.topics.get(w.name) : broker.topics.getById(w.id);
    if (!topic || topic.internal) {
      const byId = w.name === null;
      responses.push({
        name: w.name,
        topicId: w.id,
        errorCode: byId ? ErrorCode.UNKNOWN_TOPIC_ID : topic?.internal ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        errorMessage: byId ? "This server does not host this topic ID." : "This server does not host this topic-partition.",
      });
      continue;
    }
    broker.topics.delete(topic);
    broker.groups.onTopicDeleted(topic.name);
    broker.share.onTopicDeleted(topic.id);
    broker.log.info(`deleted topic ${topic.name}`);
    responses.push({ name: topic.name, topicId: topic.id, errorCode: ErrorCode.NONE, errorMessage: null });
  }
  return { throttleTimeMs: 0, responses };
}
