// What each API asks of the authorizer, as Kafka's KafkaApis does, in one
// table from API key to check. A check runs before the handler (only when
// --authorizer is on) and either lets the request through, answers it
// itself (the whole request is refused: GROUP_/CLUSTER_/
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED where Kafka refuses it whole), or
// narrows it to what the principal may touch and puts the refused parts back
// into the handler's answer with TOPIC_AUTHORIZATION_FAILED (or the
// resource's code) in the place Kafka puts them. Authorized-operation fields
// are filled here too.
//
// Other modules serving new APIs add their row with `check(apiKey, fn)`;
// an API without a row is refused (the connection is closed) while the
// authorizer is on, so nothing is ever served unchecked.

import type { Broker } from "../broker.ts";
import type { RequestContext } from "../handlers/registry.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { ZERO_UUID } from "../protocol/generated-support.ts";
import { CLUSTER_NAME, Operation as Op, ResourceType as RT } from "./model.ts";
import type { Authorizer } from "./authorizer.ts";
import type * as ProduceReq from "../../generated/ProduceRequest.ts";
import type * as ProduceRes from "../../generated/ProduceResponse.ts";
import type * as FetchReq from "../../generated/FetchRequest.ts";
import type * as FetchRes from "../../generated/FetchResponse.ts";
import type * as ListOffsetsReq from "../../generated/ListOffsetsRequest.ts";
import type * as ListOffsetsRes from "../../generated/ListOffsetsResponse.ts";
import type * as MetadataReq from "../../generated/MetadataRequest.ts";
import type * as MetadataRes from "../../generated/MetadataResponse.ts";
import type * as OffsetCommitReq from "../../generated/OffsetCommitRequest.ts";
import type * as OffsetCommitRes from "../../generated/OffsetCommitResponse.ts";
import type * as OffsetFetchReq from "../../generated/OffsetFetchRequest.ts";
import type * as OffsetFetchRes from "../../generated/OffsetFetchResponse.ts";
import type * as FindCoordinatorReq from "../../generated/FindCoordinatorRequest.ts";
import type * as FindCoordinatorRes from "../../generated/FindCoordinatorResponse.ts";
import type * as DescribeGroupsReq from "../../generated/DescribeGroupsRequest.ts";
import type * as DescribeGroupsRes from "../../generated/DescribeGroupsResponse.ts";
import type * as ListGroupsRes from "../../generated/ListGroupsResponse.ts";
import type * as DeleteGroupsReq from "../../generated/DeleteGroupsRequest.ts";
import type * as DeleteGroupsRes from "../../generated/DeleteGroupsResponse.ts";
import type * as CreateTopicsReq from "../../generated/CreateTopicsRequest.ts";
import type * as CreateTopicsRes from "../../generated/CreateTopicsResponse.ts";
import type * as DeleteTopicsReq from "../../generated/DeleteTopicsRequest.ts";
import type * as DeleteTopicsRes from "../../generated/DeleteTopicsResponse.ts";
import type * as DeleteRecordsReq from "../../generated/DeleteRecordsRequest.ts";
import type * as DeleteRecordsRes from "../../generated/DeleteRecordsResponse.ts";
import type * as InitProducerIdReq from "../../generated/InitProducerIdRequest.ts";
import type * as OffsetForLeaderEpochReq from "../../generated/OffsetForLeaderEpochRequest.ts";
import type * as OffsetForLeaderEpochRes from "../../generated/OffsetForLeaderEpochResponse.ts";
import type * as AddPartitionsToTxnReq from "../../generated/AddPartitionsToTxnRequest.ts";
import type * as AddPartitionsToTxnRes from "../../generated/AddPartitionsToTxnResponse.ts";
import type * as AddOffsetsToTxnReq from "../../generated/AddOffsetsToTxnRequest.ts";
import type * as EndTxnReq from "../../generated/EndTxnRequest.ts";
import type * as TxnOffsetCommitReq from "../../generated/TxnOffsetCommitRequest.ts";
import type * as TxnOffsetCommitRes from "../../generated/TxnOffsetCommitResponse.ts";
import type * as DescribeConfigsReq from "../../generated/DescribeConfigsRequest.ts";
import type * as DescribeConfigsRes from "../../generated/DescribeConfigsResponse.ts";
import type * as AlterConfigsReq from "../../generated/AlterConfigsRequest.ts";
import type * as AlterConfigsRes from "../../generated/AlterConfigsResponse.ts";
import type * as IncrementalAlterConfigsReq from "../../generated/IncrementalAlterConfigsRequest.ts";
import type * as CreatePartitionsReq from "../../generated/CreatePartitionsRequest.ts";
import type * as CreatePartitionsRes from "../../generated/CreatePartitionsResponse.ts";
import type * as OffsetDeleteReq from "../../generated/OffsetDeleteRequest.ts";
import type * as OffsetDeleteRes from "../../generated/OffsetDeleteResponse.ts";
import type * as DescribeClusterReq from "../../generated/DescribeClusterRequest.ts";
import type * as DescribeClusterRes from "../../generated/DescribeClusterResponse.ts";
import type * as DescribeProducersReq from "../../generated/DescribeProducersRequest.ts";
import type * as DescribeProducersRes from "../../generated/DescribeProducersResponse.ts";
import type * as DescribeTransactionsReq from "../../generated/DescribeTransactionsRequest.ts";
import type * as DescribeTransactionsRes from "../../generated/DescribeTransactionsResponse.ts";
import type * as ListTransactionsRes from "../../generated/ListTransactionsResponse.ts";
import type * as GroupHeartbeatReq from "../../generated/ConsumerGroupHeartbeatRequest.ts";
import type * as DescribeTopicPartitionsReq from "../../generated/DescribeTopicPartitionsRequest.ts";
import type * as DescribeTopicPartitionsRes from "../../generated/DescribeTopicPartitionsResponse.ts";
import type * as ElectLeadersRes from "../../generated/ElectLeadersResponse.ts";
import type * as DescribeLogDirsRes from "../../generated/DescribeLogDirsResponse.ts";
import type * as ListConfigResourcesRes from "../../generated/ListConfigResourcesResponse.ts";

/** What a check decides: nothing (go on unchanged), a whole answer, or a narrowed request and a fix-up of its answer. */
export type Gate<Req, Res> = void | { respond: Res } | { req?: Req; after?: (res: Res) => Res };

/** The authorizer bound to one request's principal and peer address. */
export interface Access {
  readonly principal: string;
  readonly host: string;
  readonly broker: Broker;
  readonly version: number;
  can(op: number, type: number, name: string): boolean;
  canCluster(op: number): boolean;
  ops(type: number, name: string): number;
  anyOfType(op: number, type: number): boolean;
}

type Check = (a: Access, req: object) => Gate<object, object>;
export const apiChecks = new Map<number, Check>();

/** Adds (or replaces) the row of an API. */
export function check<Req extends object, Res extends object>(apiKey: number, fn: (a: Access, req: Req) => Gate<Req, Res>): void {
  apiChecks.set(apiKey, fn as unknown as Check);
}

/** APIs Kafka serves without authorization: version negotiation and authentication itself. */
export const UNCHECKED_APIS: ReadonlySet<number> = new Set([17, 18, 36]);

/** IPv4 peers of a dual-stack socket arrive as ::ffff:a.b.c.d; ACL hosts name them as a.b.c.d, as Kafka does. */
export function aclHost(remoteAddress: string): string {
  return remoteAddress.startsWith("::ffff:") && remoteAddress.includes(".") ? remoteAddress.slice(7) : remoteAddress;
}

export function access(az: Authorizer, broker: Broker, ctx: RequestContext): Access {
  const principal = ctx.principal;
  const host = aclHost(ctx.remoteAddress);
  const can = az.forPeer(principal, host);
  return {
    principal,
    host,
    broker,
    version: ctx.apiVersion,
    can,
    canCluster: (op) => can(op, RT.CLUSTER, CLUSTER_NAME),
    ops: (type, name) => az.authorizedOperations(principal, host, type, name),
    anyOfType: (op, type) => az.authorizeByResourceType(principal, host, op, type),
  };
}

type Handle = (req: object) => object | null | Promise<object | null>;

/** Runs a request through its row of the table, then (unless answered) the handler. */
export function authorizedHandle(az: Authorizer, broker: Broker, req: object, ctx: RequestContext, handle: Handle): object | null | Promise<object | null> {
  if (UNCHECKED_APIS.has(ctx.apiKey)) return handle(req);
  const row = apiChecks.get(ctx.apiKey);
  if (!row) throw new Error(`api ${ctx.apiKey} has no authorization rule; refused while the authorizer is on`);
  const gate = row(access(az, broker, ctx), req);
  if (!gate) return handle(req);
  if ("respond" in gate) return gate.respond;
  const res = handle(gate.req ?? req);
  const after = gate.after;
  if (!after) return res;
  if (res instanceof Promise) return res.then((r) => (r === null ? null : after(r)));
  return res === null ? null : after(res);
}

// ---- helpers ---------------------------------------------------------------

function split<T>(items: readonly T[], ok: (t: T) => boolean): [T[], T[]] {
  const yes: T[] = [];
  const no: T[] = [];
  for (const t of items) (ok(t) ? yes : no).push(t);
  return [yes, no];
}

/** A topic's name from a request that may address it by id (unknown ids keep their id: the handler answers them). */
function topicName(a: Access, name: string | null | undefined, id: string | undefined, byId: boolean): string | null {
  if (byId && id !== undefined && id !== ZERO_UUID) return a.broker.topics.getById(id)?.name ?? null;
  return name ?? null;
}

const TOPIC_DENIED = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
const GROUP_DENIED = ErrorCode.GROUP_AUTHORIZATION_FAILED;
const CLUSTER_DENIED = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
const TXN_DENIED = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
const NOT_REQUESTED = -2147483648;

/** Config resource types (DescribeConfigs, AlterConfigs) and the ACL resource that guards each. */
function configResource(type: number, name: string): { rt: number; name: string; denied: number } | null {
  switch (type) {
    case 2:
      return { rt: RT.TOPIC, name, denied: TOPIC_DENIED };
    case 32:
      return { rt: RT.GROUP, name, denied: GROUP_DENIED };
    case 4:
    case 8:
    case 16:
      return { rt: RT.CLUSTER, name: CLUSTER_NAME, denied: CLUSTER_DENIED };
    default:
      return null; // the handler answers an unknown type
  }
}

// ---- the table ---------------------------------------------------------------

// Produce: WRITE on the transactional id of a transactional produce (every
// partition refused otherwise), WRITE on each topic. klite auto-creates on
// Produce; with an authorizer that also needs CREATE, else the topic is
// unknown as it would be on Kafka.
check<ProduceReq.ProduceRequest, ProduceRes.ProduceResponseInit>(0, (a, req) => {
  const byId = a.version >= 13;
  const partitionsDenied = (t: ProduceReq.TopicProduceData, code: number): ProduceRes.TopicProduceResponseInit => ({
    name: t.name,
    topicId: t.topicId,
    partitionResponses: t.partitionData.map((p) => ({ index: p.index, errorCode: code, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n })),
  });
  if (req.transactionalId !== null && !a.can(Op.WRITE, RT.TRANSACTIONAL_ID, req.transactionalId)) {
    return req.acks === 0 ? { respond: null as unknown as ProduceRes.ProduceResponseInit } : { respond: { responses: req.topicData.map((t) => partitionsDenied(t, TXN_DENIED)) } };
  }
  const refused: [ProduceReq.TopicProduceData, number][] = [];
  const allowed = req.topicData.filter((t) => {
    const name = topicName(a, t.name, t.topicId, byId);
    if (name === null) return true;
    if (!a.can(Op.WRITE, RT.TOPIC, name)) refused.push([t, TOPIC_DENIED]);
    else if (!a.broker.topics.get(name) && !a.canCluster(Op.CREATE) && !a.can(Op.CREATE, RT.TOPIC, name)) refused.push([t, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
    else return true;
    return false;
  });
  if (refused.length === 0) return;
  if (req.acks === 0) return { req: { ...req, topicData: allowed } };
  return { req: { ...req, topicData: allowed }, after: (res) => ({ ...res, responses: [...(res.responses ?? []), ...refused.map(([t, code]) => partitionsDenied(t, code))] }) };
});

// Fetch: a follower's fetch needs CLUSTER_ACTION; a consumer's READ on each topic.
check<FetchReq.FetchRequest, FetchRes.FetchResponseInit>(1, (a, req) => {
  if (req.replicaId >= 0 || (req.replicaState?.replicaId ?? -1) >= 0) {
    if (!a.canCluster(Op.CLUSTER_ACTION)) return { respond: { errorCode: CLUSTER_DENIED, responses: [] } };
    return;
  }
  const byId = a.version >= 13;
  const [allowed, denied] = split(req.topics, (t) => {
    const name = topicName(a, t.topic, t.topicId, byId);
    return name === null || a.can(Op.READ, RT.TOPIC, name);
  });
  if (denied.length === 0) return;
  return {
    req: { ...req, topics: allowed },
    after: (res) => ({
      ...res,
      responses: [
        ...(res.responses ?? []),
        ...denied.map((t) => ({
          topic: t.topic,
          topicId: t.topicId,
          partitions: t.partitions.map((p) => ({ partitionIndex: p.partition, errorCode: TOPIC_DENIED, highWatermark: -1n, lastStableOffset: -1n, logStartOffset: -1n, records: new Uint8Array(0) })),
        })),
      ],
    }),
  };
});

// ListOffsets: DESCRIBE on each topic.
check<ListOffsetsReq.ListOffsetsRequest, ListOffsetsRes.ListOffsetsResponseInit>(2, (a, req) => {
  const [allowed, denied] = split(req.topics, (t) => a.can(Op.DESCRIBE, RT.TOPIC, t.name));
  if (denied.length === 0) return;
  return {
    req: { ...req, topics: allowed },
    after: (res) => ({
      ...res,
      topics: [...(res.topics ?? []), ...denied.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: TOPIC_DENIED, timestamp: -1n, offset: -1n, leaderEpoch: -1 })) }))],
    }),
  };
});

// Metadata: only topics the principal may DESCRIBE are listed; a requested
// one it may not is answered TOPIC_AUTHORIZATION_FAILED; auto-creation needs
// CREATE on the cluster or the topic. Authorized operations when asked.
check<MetadataReq.MetadataRequest, MetadataRes.MetadataResponseInit>(3, (a, req) => {
  const all = req.topics === null || (a.version === 0 && req.topics.length === 0);
  const refused: MetadataRes.MetadataResponseTopicInit[] = [];
  let narrowed = req;
  let requested: Set<string> | null = null;
  if (!all) {
    const autoCreate = a.broker.options.autoCreateTopics && (a.version < 4 || req.allowAutoTopicCreation);
    const clusterCreate = autoCreate && a.canCluster(Op.CREATE);
    requested = new Set();
    const kept = req.topics!.filter((rt) => {
      const byId = rt.name === null;
      const name = topicName(a, rt.name, rt.topicId, byId);
      if (name === null) return true;
      if (!a.can(Op.DESCRIBE, RT.TOPIC, name)) {
        refused.push({ errorCode: TOPIC_DENIED, name: byId ? null : name, topicId: byId ? rt.topicId : ZERO_UUID, partitions: [] });
        return false;
      }
      if (autoCreate && !clusterCreate && !a.broker.topics.get(name) && !a.can(Op.CREATE, RT.TOPIC, name)) {
        refused.push({ errorCode: TOPIC_DENIED, name, topicId: ZERO_UUID, partitions: [] });
        return false;
      }
      requested!.add(name);
      return true;
    });
    // An empty list means "all topics" to v0: answer the refusals alone.
    if (kept.length === 0 && a.version === 0) requested = new Set();
    narrowed = { ...req, topics: kept };
  }
  return {
    req: narrowed,
    after: (res) => {
      const topics = (res.topics ?? []).filter((t) => {
        if (t.errorCode !== ErrorCode.NONE || t.name === null || t.name === undefined) return requested !== null;
        if (requested !== null) return requested.has(t.name);
        return a.can(Op.DESCRIBE, RT.TOPIC, t.name);
      });
      if (req.includeTopicAuthorizedOperations) {
        for (const t of topics) if (t.errorCode === ErrorCode.NONE && t.name) t.topicAuthorizedOperations = a.ops(RT.TOPIC, t.name);
      }
      let clusterOps = res.clusterAuthorizedOperations;
      if (req.includeClusterAuthorizedOperations) clusterOps = a.canCluster(Op.DESCRIBE) ? a.ops(RT.CLUSTER, CLUSTER_NAME) : NOT_REQUESTED;
      return { ...res, topics: [...topics, ...refused], clusterAuthorizedOperations: clusterOps };
    },
  };
});

// OffsetCommit: READ on the group (every partition refused otherwise), READ on each topic.
check<OffsetCommitReq.OffsetCommitRequest, OffsetCommitRes.OffsetCommitResponseInit>(8, (a, req) => {
  const byId = a.version >= 10;
  const answer = (t: OffsetCommitReq.OffsetCommitRequestTopic, code: number): OffsetCommitRes.OffsetCommitResponseTopicInit => ({
    name: t.name,
    topicId: t.topicId,
    partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: code })),
  });
  if (!a.can(Op.READ, RT.GROUP, req.groupId)) return { respond: { topics: req.topics.map((t) => answer(t, GROUP_DENIED)) } };
  const [allowed, denied] = split(req.topics, (t) => {
    const name = topicName(a, t.name, t.topicId, byId);
    return name === null || a.can(Op.READ, RT.TOPIC, name);
  });
  if (denied.length === 0) return;
  return { req: { ...req, topics: allowed }, after: (res) => ({ ...res, topics: [...(res.topics ?? []), ...denied.map((t) => answer(t, TOPIC_DENIED))] }) };
});

// OffsetFetch: DESCRIBE on each group; of its topics only the describable
// ones are answered (asked-for ones that are not get TOPIC_AUTHORIZATION_FAILED).
check<OffsetFetchReq.OffsetFetchRequest, OffsetFetchRes.OffsetFetchResponseInit>(9, (a, req) => {
  const describable = (name: string | null | undefined, id: string | undefined) => {
    const n = topicName(a, name, id, a.version >= 10);
    return n === null || a.can(Op.DESCRIBE, RT.TOPIC, n);
  };
  type Part = { partitionIndex?: number; committedOffset?: bigint; committedLeaderEpoch?: number; metadata?: string | null; errorCode?: number };
  type Topic = { name?: string; topicId?: string; partitions?: readonly Part[] };
  const fixTopics = <T extends Topic>(topics: readonly T[], explicit: boolean): T[] =>
    topics.flatMap((t) => {
      if (describable(t.name, t.topicId)) return [t];
      if (!explicit) return [];
      return [{ ...t, partitions: (t.partitions ?? []).map((p) => ({ ...p, committedOffset: -1n, committedLeaderEpoch: -1, metadata: "", errorCode: TOPIC_DENIED })) }];
    });
  if (a.version < 8) {
    if (!a.can(Op.DESCRIBE, RT.GROUP, req.groupId)) {
      if (a.version >= 2) return { respond: { errorCode: GROUP_DENIED, topics: [] } };
      return { respond: { topics: (req.topics ?? []).map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((i) => ({ partitionIndex: i, committedOffset: -1n, metadata: "", errorCode: GROUP_DENIED })) })) } };
    }
    return { after: (res) => ({ ...res, topics: fixTopics(res.topics ?? [], req.topics !== null) }) };
  }
  const explicit = new Map(req.groups.map((g) => [g.groupId, g.topics !== null]));
  const [allowed, denied] = split(req.groups, (g) => a.can(Op.DESCRIBE, RT.GROUP, g.groupId));
  return {
    req: { ...req, groups: allowed },
    after: (res) => ({
      ...res,
      groups: [
        ...(res.groups ?? []).map((g) => ({ ...g, topics: fixTopics(g.topics ?? [], explicit.get(g.groupId ?? "") ?? false) })),
        ...denied.map((g) => ({ groupId: g.groupId, errorCode: GROUP_DENIED, topics: [] })),
      ],
    }),
  };
});

// FindCoordinator: DESCRIBE on the group or transactional id; share-group keys need CLUSTER_ACTION.
const coordinatorDenial = (a: Access, keyType: number, key: string): number => {
  if (keyType === 0) return a.can(Op.DESCRIBE, RT.GROUP, key) ? ErrorCode.NONE : GROUP_DENIED;
  if (keyType === 1) return a.can(Op.DESCRIBE, RT.TRANSACTIONAL_ID, key) ? ErrorCode.NONE : TXN_DENIED;
  if (keyType === 2) return a.canCluster(Op.CLUSTER_ACTION) ? ErrorCode.NONE : CLUSTER_DENIED;
  return ErrorCode.NONE;
};
check<FindCoordinatorReq.FindCoordinatorRequest, FindCoordinatorRes.FindCoordinatorResponseInit>(10, (a, req) => {
  if (a.version < 4) {
    const code = coordinatorDenial(a, req.keyType, req.key);
    if (code !== ErrorCode.NONE) return { respond: { errorCode: code, nodeId: -1, host: "", port: -1 } };
    return;
  }
  const refused = new Map<string, number>();
  for (const k of req.coordinatorKeys) {
    const code = coordinatorDenial(a, req.keyType, k);
    if (code !== ErrorCode.NONE) refused.set(k, code);
  }
  if (refused.size === 0) return;
  return {
    req: { ...req, coordinatorKeys: req.coordinatorKeys.filter((k) => !refused.has(k)) },
    after: (res) => ({ ...res, coordinators: [...(res.coordinators ?? []), ...[...refused].map(([key, errorCode]) => ({ key, nodeId: -1, host: "", port: -1, errorCode }))] }),
  };
});

// Classic and consumer group membership: READ on the group, refused whole.
for (const key of [11, 12, 13, 14]) {
  check<{ groupId: string }, object>(key, (a, req) => (a.can(Op.READ, RT.GROUP, req.groupId) ? undefined : { respond: { errorCode: GROUP_DENIED } }));
}
check<GroupHeartbeatReq.ConsumerGroupHeartbeatRequest, object>(68, (a, req) =>
  a.can(Op.READ, RT.GROUP, req.groupId) ? undefined : { respond: { errorCode: GROUP_DENIED, memberEpoch: -1, heartbeatIntervalMs: 0, assignment: null } },
);

// DescribeGroups: DESCRIBE on each group; authorized operations when asked.
check<DescribeGroupsReq.DescribeGroupsRequest, DescribeGroupsRes.DescribeGroupsResponseInit>(15, (a, req) => {
  const [allowed, denied] = split(req.groups, (g) => a.can(Op.DESCRIBE, RT.GROUP, g));
  return {
    req: { ...req, groups: allowed },
    after: (res) => {
      const groups = res.groups ?? [];
      if (req.includeAuthorizedOperations) for (const g of groups) if (g.groupId !== undefined) g.authorizedOperations = a.ops(RT.GROUP, g.groupId);
      return { ...res, groups: [...groups, ...denied.map((groupId) => ({ groupId, errorCode: GROUP_DENIED, groupState: "", protocolType: "", protocolData: "", members: [] }))] };
    },
  };
});

// ListGroups: every group with DESCRIBE on the cluster, else the describable ones.
check<object, ListGroupsRes.ListGroupsResponseInit>(16, (a) => {
  if (a.canCluster(Op.DESCRIBE)) return;
  return { after: (res) => ({ ...res, groups: (res.groups ?? []).filter((g) => g.groupId !== undefined && a.can(Op.DESCRIBE, RT.GROUP, g.groupId)) }) };
});

// CreateTopics: CREATE on the cluster or on each topic; configs in the answer need DESCRIBE_CONFIGS.
check<CreateTopicsReq.CreateTopicsRequest, CreateTopicsRes.CreateTopicsResponseInit>(19, (a, req) => {
  const clusterCreate = a.canCluster(Op.CREATE);
  const [allowed, denied] = split(req.topics, (t) => clusterCreate || a.can(Op.CREATE, RT.TOPIC, t.name));
  return {
    req: { ...req, topics: allowed },
    after: (res) => {
      const topics = (res.topics ?? []).map((t) =>
        a.version >= 5 && t.errorCode === ErrorCode.NONE && t.name !== undefined && !a.can(Op.DESCRIBE_CONFIGS, RT.TOPIC, t.name)
          ? { ...t, topicConfigErrorCode: TOPIC_DENIED, configs: [], numPartitions: -1, replicationFactor: -1 }
          : t,
      );
      return { ...res, topics: [...topics, ...denied.map((t) => ({ name: t.name, errorCode: TOPIC_DENIED, numPartitions: -1, replicationFactor: -1, configs: a.version >= 5 ? [] : null }))] };
    },
  };
});

// DeleteTopics: DELETE on each topic (by id: one that is not even describable is refused the same way).
check<DeleteTopicsReq.DeleteTopicsRequest, DeleteTopicsRes.DeleteTopicsResponseInit>(20, (a, req) => {
  const refused: DeleteTopicsRes.DeletableTopicResultInit[] = [];
  const topicNames = req.topicNames.filter((n) => {
    if (a.can(Op.DELETE, RT.TOPIC, n)) return true;
    refused.push({ name: n, errorCode: TOPIC_DENIED });
    return false;
  });
  const topics = req.topics.filter((t) => {
    const byId = t.name === null;
    const name = topicName(a, t.name, t.topicId, byId);
    if (name === null || a.can(Op.DELETE, RT.TOPIC, name)) return true;
    refused.push({ name: byId ? null : name, topicId: t.topicId, errorCode: TOPIC_DENIED });
    return false;
  });
  if (refused.length === 0) return;
  return { req: { ...req, topicNames, topics }, after: (res) => ({ ...res, responses: [...(res.responses ?? []), ...refused] }) };
});

// DeleteRecords: DELETE on each topic.
check<DeleteRecordsReq.DeleteRecordsRequest, DeleteRecordsRes.DeleteRecordsResponseInit>(21, (a, req) => {
  const [allowed, denied] = split(req.topics, (t) => a.can(Op.DELETE, RT.TOPIC, t.name));
  if (denied.length === 0) return;
  return {
    req: { ...req, topics: allowed },
    after: (res) => ({ ...res, topics: [...(res.topics ?? []), ...denied.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode: TOPIC_DENIED })) }))] }),
  };
});

// InitProducerId: WRITE on the transactional id; an idempotent producer needs
// IDEMPOTENT_WRITE on the cluster or WRITE on some topic.
check<InitProducerIdReq.InitProducerIdRequest, object>(22, (a, req) => {
  const refuse = (errorCode: number) => ({ respond: { errorCode, producerId: -1n, producerEpoch: -1 } });
  if (req.transactionalId !== null) return a.can(Op.WRITE, RT.TRANSACTIONAL_ID, req.transactionalId) ? undefined : refuse(TXN_DENIED);
  if (a.canCluster(Op.IDEMPOTENT_WRITE) || a.anyOfType(Op.WRITE, RT.TOPIC)) return;
  return refuse(CLUSTER_DENIED);
});

// OffsetForLeaderEpoch: a follower's request needs CLUSTER_ACTION, a consumer's DESCRIBE on each topic.
check<OffsetForLeaderEpochReq.OffsetForLeaderEpochRequest, OffsetForLeaderEpochRes.OffsetForLeaderEpochResponseInit>(23, (a, req) => {
  if (req.replicaId >= 0 && a.canCluster(Op.CLUSTER_ACTION)) return;
  const [allowed, denied] = split(req.topics, (t) => a.can(Op.DESCRIBE, RT.TOPIC, t.topic));
  if (denied.length === 0) return;
  return {
    req: { ...req, topics: allowed },
    after: (res) => ({ ...res, topics: [...(res.topics ?? []), ...denied.map((t) => ({ topic: t.topic, partitions: t.partitions.map((p) => ({ partition: p.partition, errorCode: TOPIC_DENIED, leaderEpoch: -1, endOffset: -1n })) }))] }),
  };
});

// AddPartitionsToTxn: v0-3 (clients) WRITE on the transactional id, then
// WRITE on each topic (the others answer OPERATION_NOT_ATTEMPTED, as Kafka
// adds none of them); v4+ batches come from brokers and need CLUSTER_ACTION.
check<AddPartitionsToTxnReq.AddPartitionsToTxnRequest, AddPartitionsToTxnRes.AddPartitionsToTxnResponseInit>(24, (a, req) => {
  if (a.version >= 4) return a.canCluster(Op.CLUSTER_ACTION) ? undefined : { respond: { errorCode: CLUSTER_DENIED, resultsByTransaction: [] } };
  const results = (code: (topic: string) => number): AddPartitionsToTxnRes.AddPartitionsToTxnTopicResultInit[] =>
    req.v3AndBelowTopics.map((t) => ({ name: t.name, resultsByPartition: t.partitions.map((partitionIndex) => ({ partitionIndex, partitionErrorCode: code(t.name) })) }));
  if (!a.can(Op.WRITE, RT.TRANSACTIONAL_ID, req.v3AndBelowTransactionalId)) return { respond: { resultsByTopicV3AndBelow: results(() => TXN_DENIED) } };
  const denied = new Set(req.v3AndBelowTopics.filter((t) => !a.can(Op.WRITE, RT.TOPIC, t.name)).map((t) => t.name));
  if (denied.size === 0) return;
  return { respond: { resultsByTopicV3AndBelow: results((n) => (denied.has(n) ? TOPIC_DENIED : ErrorCode.OPERATION_NOT_ATTEMPTED)) } };
});

// AddOffsetsToTxn: WRITE on the transactional id, then READ on the group.
check<AddOffsetsToTxnReq.AddOffsetsToTxnRequest, object>(25, (a, req) => {
  if (!a.can(Op.WRITE, RT.TRANSACTIONAL_ID, req.transactionalId)) return { respond: { errorCode: TXN_DENIED } };
  if (!a.can(Op.READ, RT.GROUP, req.groupId)) return { respond: { errorCode: GROUP_DENIED } };
});

// EndTxn: WRITE on the transactional id.
check<EndTxnReq.EndTxnRequest, object>(26, (a, req) =>
  a.can(Op.WRITE, RT.TRANSACTIONAL_ID, req.transactionalId) ? undefined : { respond: { errorCode: TXN_DENIED, producerId: -1n, producerEpoch: -1 } },
);

// WriteTxnMarkers: brokers only (ALTER or CLUSTER_ACTION on the cluster).
check<object, object>(27, (a) => (a.canCluster(Op.ALTER) || a.canCluster(Op.CLUSTER_ACTION) ? undefined : { respond: { markers: [] } }));

// TxnOffsetCommit: WRITE on the transactional id, READ on the group, READ on each topic.
check<TxnOffsetCommitReq.TxnOffsetCommitRequest, TxnOffsetCommitRes.TxnOffsetCommitResponseInit>(28, (a, req) => {
  const answer = (t: TxnOffsetCommitReq.TxnOffsetCommitRequestTopic, code: number) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: code })) });
  if (!a.can(Op.WRITE, RT.TRANSACTIONAL_ID, req.transactionalId)) return { respond: { topics: req.topics.map((t) => answer(t, TXN_DENIED)) } };
  if (!a.can(Op.READ, RT.GROUP, req.groupId)) return { respond: { topics: req.topics.map((t) => answer(t, GROUP_DENIED)) } };
  const [allowed, denied] = split(req.topics, (t) => a.can(Op.READ, RT.TOPIC, t.name));
  if (denied.length === 0) return;
  return { req: { ...req, topics: allowed }, after: (res) => ({ ...res, topics: [...(res.topics ?? []), ...denied.map((t) => answer(t, TOPIC_DENIED))] }) };
});

// The ACL APIs themselves: DESCRIBE on the cluster to list, ALTER to change.
check<{ creations: unknown[] }, object>(30, (a, req) =>
  a.canCluster(Op.ALTER) ? undefined : { respond: { results: req.creations.map(() => ({ errorCode: CLUSTER_DENIED, errorMessage: "Cluster authorization failed." })) } },
);
check<object, object>(29, (a) => (a.canCluster(Op.DESCRIBE) ? undefined : { respond: { errorCode: CLUSTER_DENIED, errorMessage: "Cluster authorization failed.", resources: [] } }));
check<{ filters: unknown[] }, object>(31, (a, req) =>
  a.canCluster(Op.ALTER) ? undefined : { respond: { filterResults: req.filters.map(() => ({ errorCode: CLUSTER_DENIED, errorMessage: "Cluster authorization failed.", matchingAcls: [] })) } },
);

// DescribeConfigs: DESCRIBE_CONFIGS on the topic, group or cluster (broker configs).
check<DescribeConfigsReq.DescribeConfigsRequest, DescribeConfigsRes.DescribeConfigsResponseInit>(32, (a, req) => {
  const refused: DescribeConfigsRes.DescribeConfigsResultInit[] = [];
  const resources = req.resources.filter((r) => {
    const g = configResource(r.resourceType, r.resourceName);
    if (!g || a.can(Op.DESCRIBE_CONFIGS, g.rt, g.name)) return true;
    refused.push({ errorCode: g.denied, errorMessage: null, resourceType: r.resourceType, resourceName: r.resourceName, configs: [] });
    return false;
  });
  if (refused.length === 0) return;
  return { req: { ...req, resources }, after: (res) => ({ ...res, results: [...(res.results ?? []), ...refused] }) };
});

// AlterConfigs and IncrementalAlterConfigs: ALTER_CONFIGS on the topic, group or cluster.
function alterConfigsCheck<Req extends AlterConfigsReq.AlterConfigsRequest | IncrementalAlterConfigsReq.IncrementalAlterConfigsRequest>(a: Access, req: Req): Gate<Req, AlterConfigsRes.AlterConfigsResponseInit> {
  const refused: AlterConfigsRes.AlterConfigsResourceResponseInit[] = [];
  const resources = (req.resources as { resourceType: number; resourceName: string }[]).filter((r) => {
    const g = configResource(r.resourceType, r.resourceName);
    if (!g || a.can(Op.ALTER_CONFIGS, g.rt, g.name)) return true;
    refused.push({ errorCode: g.denied, errorMessage: null, resourceType: r.resourceType, resourceName: r.resourceName });
    return false;
  });
  if (refused.length === 0) return;
  return { req: { ...req, resources }, after: (res) => ({ ...res, responses: [...(res.responses ?? []), ...refused] }) };
}
check(33, alterConfigsCheck<AlterConfigsReq.AlterConfigsRequest>);
check(44, alterConfigsCheck<IncrementalAlterConfigsReq.IncrementalAlterConfigsRequest>);

// DescribeLogDirs: DESCRIBE on the cluster, refused whole.
check<object, DescribeLogDirsRes.DescribeLogDirsResponseInit>(35, (a) => (a.canCluster(Op.DESCRIBE) ? undefined : { respond: { errorCode: CLUSTER_DENIED, results: [] } }));

// CreatePartitions: ALTER on each topic.
check<CreatePartitionsReq.CreatePartitionsRequest, CreatePartitionsRes.CreatePartitionsResponseInit>(37, (a, req) => {
  const [allowed, denied] = split(req.topics, (t) => a.can(Op.ALTER, RT.TOPIC, t.name));
  if (denied.length === 0) return;
  return { req: { ...req, topics: allowed }, after: (res) => ({ ...res, results: [...(res.results ?? []), ...denied.map((t) => ({ name: t.name, errorCode: TOPIC_DENIED, errorMessage: null }))] }) };
});

// DeleteGroups: DELETE on each group.
check<DeleteGroupsReq.DeleteGroupsRequest, DeleteGroupsRes.DeleteGroupsResponseInit>(42, (a, req) => {
  const [allowed, denied] = split(req.groupsNames, (g) => a.can(Op.DELETE, RT.GROUP, g));
  if (denied.length === 0) return;
  return { req: { ...req, groupsNames: allowed }, after: (res) => ({ ...res, results: [...(res.results ?? []), ...denied.map((groupId) => ({ groupId, errorCode: GROUP_DENIED }))] }) };
});

// ElectLeaders: ALTER on the cluster, refused whole.
check<object, ElectLeadersRes.ElectLeadersResponseInit>(43, (a) => (a.canCluster(Op.ALTER) ? undefined : { respond: { errorCode: CLUSTER_DENIED, replicaElectionResults: [] } }));

// OffsetDelete: DELETE on the group, READ on each topic.
check<OffsetDeleteReq.OffsetDeleteRequest, OffsetDeleteRes.OffsetDeleteResponseInit>(47, (a, req) => {
  if (!a.can(Op.DELETE, RT.GROUP, req.groupId)) return { respond: { errorCode: GROUP_DENIED, topics: [] } };
  const [allowed, denied] = split(req.topics, (t) => a.can(Op.READ, RT.TOPIC, t.name));
  if (denied.length === 0) return;
  return {
    req: { ...req, topics: allowed },
    after: (res) => ({ ...res, topics: [...(res.topics ?? []), ...denied.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: TOPIC_DENIED })) }))] }),
  };
});

// SCRAM credentials: DESCRIBE / ALTER on the cluster, refused whole.
check<object, object>(50, (a) => (a.canCluster(Op.DESCRIBE) ? undefined : { respond: { errorCode: CLUSTER_DENIED, errorMessage: "Cluster authorization failed.", results: [] } }));
check<{ deletions: { name: string }[]; upsertions: { name: string }[] }, object>(51, (a, req) =>
  a.canCluster(Op.ALTER)
    ? undefined
    : { respond: { results: [...new Set([...req.deletions, ...req.upsertions].map((u) => u.name))].map((user) => ({ user, errorCode: CLUSTER_DENIED, errorMessage: "Cluster authorization failed." })) } },
);

// DescribeCluster: DESCRIBE on the cluster for its authorized operations only (the answer itself needs nothing).
check<DescribeClusterReq.DescribeClusterRequest, DescribeClusterRes.DescribeClusterResponseInit>(60, (a, req) => {
  if (!req.includeClusterAuthorizedOperations) return;
  return { after: (res) => ({ ...res, clusterAuthorizedOperations: a.canCluster(Op.DESCRIBE) ? a.ops(RT.CLUSTER, CLUSTER_NAME) : NOT_REQUESTED }) };
});

// DescribeProducers: READ on each topic.
check<DescribeProducersReq.DescribeProducersRequest, DescribeProducersRes.DescribeProducersResponseInit>(61, (a, req) => {
  const [allowed, denied] = split(req.topics, (t) => a.can(Op.READ, RT.TOPIC, t.name));
  if (denied.length === 0) return;
  return {
    req: { ...req, topics: allowed },
    after: (res) => ({ ...res, topics: [...(res.topics ?? []), ...denied.map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, errorCode: TOPIC_DENIED, errorMessage: null, activeProducers: [] })) }))] }),
  };
});

// DescribeTransactions: DESCRIBE on each transactional id; topics of a transaction only when describable.
check<DescribeTransactionsReq.DescribeTransactionsRequest, DescribeTransactionsRes.DescribeTransactionsResponseInit>(65, (a, req) => {
  const [allowed, denied] = split(req.transactionalIds, (id) => a.can(Op.DESCRIBE, RT.TRANSACTIONAL_ID, id));
  return {
    req: { ...req, transactionalIds: allowed },
    after: (res) => ({
      ...res,
      transactionStates: [
        ...(res.transactionStates ?? []).map((s) => ({ ...s, topics: (s.topics ?? []).filter((t) => t.topic !== undefined && a.can(Op.DESCRIBE, RT.TOPIC, t.topic)) })),
        ...denied.map((transactionalId) => ({ transactionalId, errorCode: TXN_DENIED, transactionState: "", transactionTimeoutMs: 0, transactionStartTimeMs: -1n, producerId: -1n, producerEpoch: -1, topics: [] })),
      ],
    }),
  };
});

// ListTransactions: only the transactional ids the principal may DESCRIBE.
check<object, ListTransactionsRes.ListTransactionsResponseInit>(66, (a) => ({
  after: (res) => ({ ...res, transactionStates: (res.transactionStates ?? []).filter((s) => s.transactionalId !== undefined && a.can(Op.DESCRIBE, RT.TRANSACTIONAL_ID, s.transactionalId)) }),
}));

// ConsumerGroupDescribe and ShareGroupDescribe: DESCRIBE on each group; authorized operations when asked.
type GroupIdsReq = { groupIds: string[]; includeAuthorizedOperations: boolean };
type DescribedGroups = { groups?: readonly { groupId?: string; authorizedOperations?: number }[] };
function describeGroupIds(a: Access, req: GroupIdsReq): Gate<GroupIdsReq, DescribedGroups> {
  const [allowed, denied] = split(req.groupIds, (g) => a.can(Op.DESCRIBE, RT.GROUP, g));
  return {
    req: { ...req, groupIds: allowed },
    after: (res) => {
      const groups = res.groups ?? [];
      if (req.includeAuthorizedOperations) for (const g of groups) if (g.groupId !== undefined) g.authorizedOperations = a.ops(RT.GROUP, g.groupId);
      return { ...res, groups: [...groups, ...denied.map((groupId) => ({ groupId, errorCode: GROUP_DENIED, groupState: "", groupEpoch: -1, assignmentEpoch: -1, assignorName: "", members: [] }))] };
    },
  };
}
check(69, describeGroupIds);

// ListConfigResources: DESCRIBE_CONFIGS on the cluster (Kafka's ListClientMetricsResources rule).
check<object, ListConfigResourcesRes.ListConfigResourcesResponseInit>(74, (a) => (a.canCluster(Op.DESCRIBE_CONFIGS) ? undefined : { respond: { errorCode: CLUSTER_DENIED, configResources: [] } }));

// DescribeTopicPartitions: DESCRIBE on each topic (asked-for ones refused, the rest hidden); operations always.
check<DescribeTopicPartitionsReq.DescribeTopicPartitionsRequest, DescribeTopicPartitionsRes.DescribeTopicPartitionsResponseInit>(75, (a, req) => {
  const [allowed, denied] = split(req.topics, (t) => a.can(Op.DESCRIBE, RT.TOPIC, t.name));
  return {
    req: { ...req, topics: allowed },
    after: (res) => {
      const topics = (res.topics ?? []).filter((t) => t.name !== null && t.name !== undefined && (t.errorCode !== ErrorCode.NONE || a.can(Op.DESCRIBE, RT.TOPIC, t.name)));
      for (const t of topics) if (t.errorCode === ErrorCode.NONE && t.name) t.topicAuthorizedOperations = a.ops(RT.TOPIC, t.name);
      return { ...res, topics: [...topics, ...denied.map((t) => ({ errorCode: TOPIC_DENIED, name: t.name, topicId: ZERO_UUID, isInternal: false, partitions: [] }))] };
    },
  };
});

// ---- rows for APIs served by other modules (quotas, share groups) ------------

// DescribeClientQuotas / AlterClientQuotas: DESCRIBE_CONFIGS / ALTER_CONFIGS on the cluster.
check<object, object>(48, (a) => (a.canCluster(Op.DESCRIBE_CONFIGS) ? undefined : { respond: { errorCode: CLUSTER_DENIED, errorMessage: "Cluster authorization failed.", entries: null } }));
check<{ entries: { entity: object[] }[] }, object>(49, (a, req) =>
  a.canCluster(Op.ALTER_CONFIGS) ? undefined : { respond: { entries: req.entries.map((e) => ({ errorCode: CLUSTER_DENIED, errorMessage: "Cluster authorization failed.", entity: e.entity })) } },
);

// ShareGroupHeartbeat: READ on the group, refused whole.
check<{ groupId: string }, object>(76, (a, req) =>
  a.can(Op.READ, RT.GROUP, req.groupId) ? undefined : { respond: { errorCode: GROUP_DENIED, memberEpoch: -1, heartbeatIntervalMs: 0, assignment: null } },
);

// ShareGroupDescribe: as ConsumerGroupDescribe.
check(77, describeGroupIds);

// ShareFetch / ShareAcknowledge: READ on the group (refused whole), READ on each topic (addressed by id).
type ShareTopic = { topicId: string; partitions: { partitionIndex: number }[] };
type ShareReq = { groupId: string | null; topics: ShareTopic[] };
type ShareRes = { errorCode?: number; responses?: readonly object[] };
function shareCheck(a: Access, req: ShareReq, fetch: boolean): Gate<ShareReq, ShareRes> {
  if (req.groupId !== null && !a.can(Op.READ, RT.GROUP, req.groupId)) return { respond: { errorCode: GROUP_DENIED, responses: [] } };
  const [allowed, denied] = split(req.topics, (t) => {
    const name = topicName(a, null, t.topicId, true);
    return name === null || a.can(Op.READ, RT.TOPIC, name);
  });
  if (denied.length === 0) return;
  const refusedPartition = (partitionIndex: number) => (fetch ? { partitionIndex, errorCode: TOPIC_DENIED, acknowledgeErrorCode: TOPIC_DENIED, records: new Uint8Array(0), acquiredRecords: [] } : { partitionIndex, errorCode: TOPIC_DENIED });
  return {
    req: { ...req, topics: allowed },
    after: (res) => ({ ...res, responses: [...(res.responses ?? []), ...denied.map((t) => ({ topicId: t.topicId, partitions: t.partitions.map((p) => refusedPartition(p.partitionIndex)) }))] }),
  };
}
check<ShareReq, ShareRes>(78, (a, req) => shareCheck(a, req, true));
check<ShareReq, ShareRes>(79, (a, req) => shareCheck(a, req, false));

// DescribeShareGroupOffsets: DESCRIBE on each group; asked-for topics without DESCRIBE are refused, others hidden.
type ShareOffsetsTopic = { topicName?: string; partitions?: readonly object[] };
check<{ groups: { groupId: string; topics: { topicName: string; partitions: number[] }[] | null }[] }, { groups?: readonly { groupId?: string; topics?: readonly ShareOffsetsTopic[] }[] }>(90, (a, req) => {
  const [allowed, denied] = split(req.groups, (g) => a.can(Op.DESCRIBE, RT.GROUP, g.groupId));
  const explicit = new Map(req.groups.map((g) => [g.groupId, g.topics !== null]));
  return {
    req: { ...req, groups: allowed },
    after: (res) => ({
      ...res,
      groups: [
        ...(res.groups ?? []).map((g) => ({
          ...g,
          topics: (g.topics ?? []).flatMap((t) => {
            if (t.topicName === undefined || a.can(Op.DESCRIBE, RT.TOPIC, t.topicName)) return [t];
            if (!explicit.get(g.groupId ?? "")) return [];
            return [{ ...t, partitions: (t.partitions ?? []).map((p) => ({ ...p, startOffset: -1n, lag: -1n, errorCode: TOPIC_DENIED })) }];
          }),
        })),
        ...denied.map((g) => ({ groupId: g.groupId, errorCode: GROUP_DENIED, topics: [] })),
      ],
    }),
  };
});

// AlterShareGroupOffsets / DeleteShareGroupOffsets: READ / DELETE on the group (refused whole), READ on each topic.
check<{ groupId: string; topics: { topicName: string; partitions: { partitionIndex: number }[] }[] }, ShareRes>(91, (a, req) => {
  if (!a.can(Op.READ, RT.GROUP, req.groupId)) return { respond: { errorCode: GROUP_DENIED, responses: [] } };
  const [allowed, denied] = split(req.topics, (t) => a.can(Op.READ, RT.TOPIC, t.topicName));
  if (denied.length === 0) return;
  return {
    req: { ...req, topics: allowed },
    after: (res) => ({ ...res, responses: [...(res.responses ?? []), ...denied.map((t) => ({ topicName: t.topicName, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: TOPIC_DENIED })) }))] }),
  };
});
check<{ groupId: string; topics: { topicName: string }[] }, ShareRes>(92, (a, req) => {
  if (!a.can(Op.DELETE, RT.GROUP, req.groupId)) return { respond: { errorCode: GROUP_DENIED, responses: [] } };
  const [allowed, denied] = split(req.topics, (t) => a.can(Op.READ, RT.TOPIC, t.topicName));
  if (denied.length === 0) return;
  return { req: { ...req, topics: allowed }, after: (res) => ({ ...res, responses: [...(res.responses ?? []), ...denied.map((t) => ({ topicName: t.topicName, errorCode: TOPIC_DENIED }))] }) };
});
