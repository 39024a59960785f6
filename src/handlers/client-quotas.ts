// DescribeClientQuotas and AlterClientQuotas over the quota store, with the
// checks and messages of Kafka's controller: entity types user and client-id
// (a null name is the type's default), keys producer_byte_rate and
// consumer_byte_rate (whole numbers) and request_percentage, values above 0;
// each entity succeeds or fails on its own.
//
// Kafka also takes `ip` entities (connection_creation_rate) and the
// controller_mutation_rate key; klite enforces neither, so it refuses them
// rather than store a quota that would do nothing.

import type * as DescribeReq from "../../generated/DescribeClientQuotasRequest.ts";
import type * as DescribeRes from "../../generated/DescribeClientQuotasResponse.ts";
import type * as AlterReq from "../../generated/AlterClientQuotasRequest.ts";
import type * as AlterRes from "../../generated/AlterClientQuotasResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { CLIENT_ID, QUOTA_KEYS, USER, entityKey, type QuotaEntity } from "../quota/store.ts";
import type { RequestContext } from "./registry.ts";

const IP = "ip";
const MATCH_EXACT = 0;
const MATCH_DEFAULT = 1;
const MATCH_SPECIFIED = 2;

class QuotaRequestError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function entityString(entity: readonly { entityType: string; entityName: string | null }[]): string {
  return `ClientQuotaEntity(entries={${entity.map((e) => `${e.entityType}=${e.entityName}`).join(", ")}})`;
}

/** Kafka's entity checks; returns the entity or throws. */
function checkEntity(entity: readonly AlterReq.EntityData[]): QuotaEntity {
  if (entity.length === 0) throw new QuotaRequestError(ErrorCode.INVALID_REQUEST, "Invalid empty client quota entity");
  const out = new Map<string, string | null>();
  for (const e of entity) {
    if (out.has(e.entityType)) throw new QuotaRequestError(ErrorCode.INVALID_REQUEST, `Invalid client quota entity, duplicate entity entry ${e.entityType}`);
    if (e.entityType === IP) throw new QuotaRequestError(ErrorCode.INVALID_REQUEST, "ip quotas (connection_creation_rate) are not supported by klite");
    if (e.entityType !== USER && e.entityType !== CLIENT_ID) throw new QuotaRequestError(ErrorCode.INVALID_REQUEST, `Unhandled client quota entity type: ${e.entityType}`);
    if (e.entityName === "") throw new QuotaRequestError(ErrorCode.INVALID_REQUEST, `Empty ${e.entityType} not supported`);
    out.set(e.entityType, e.entityName);
  }
  return out;
}

function checkValue(key: string, value: number): void {
  const type = QUOTA_KEYS.get(key);
  if (!type) throw new QuotaRequestError(ErrorCode.INVALID_REQUEST, `Invalid configuration key ${key}`);
  if (!(value > 0)) throw new QuotaRequestError(ErrorCode.INVALID_REQUEST, `Quota ${key} must be greater than 0`);
  if (type === "long") {
    if (value > 9223372036854775807) throw new QuotaRequestError(ErrorCode.INVALID_REQUEST, `Proposed value for ${key} is too large for a LONG.`);
    if (Math.abs(value % 1) > 1e-6) throw new QuotaRequestError(ErrorCode.INVALID_REQUEST, `${key} cannot be a fractional value.`);
  }
}

interface AlterResult {
  entity: readonly AlterReq.EntityData[];
  error: QuotaRequestError | null;
  change: { entity: QuotaEntity; ops: Map<string, number | null> } | null;
}

export function handleAlterClientQuotas(broker: Broker, req: AlterReq.AlterClientQuotasRequest, _ctx: RequestContext): AlterRes.AlterClientQuotasResponseInit {
  // One result per entity, in the order entities first appear (Kafka keys its results by entity).
  const results = new Map<string, AlterResult>();
  for (const entry of req.entries) {
    const key = entityKey(new Map(entry.entity.map((e) => [e.entityType, e.entityName])));
    const earlier = results.get(key);
    if (earlier) {
      earlier.error = new QuotaRequestError(ErrorCode.INVALID_REQUEST, `Ignoring duplicate entity ${entityString(entry.entity)}`);
      earlier.change = null;
      continue;
    }
    const result: AlterResult = { entity: entry.entity, error: null, change: null };
    results.set(key, result);
    try {
      const ops = new Map<string, number | null>();
      for (const op of entry.ops) {
        if (ops.has(op.key)) throw new QuotaRequestError(ErrorCode.INVALID_REQUEST, `Duplicate quota key ${op.key} not updating quota for this entity ${entityString(entry.entity)}`);
        ops.set(op.key, op.remove ? null : op.value);
      }
      const entity = checkEntity(entry.entity);
      for (const [k, v] of ops) if (v !== null) checkValue(k, v);
      result.change = { entity, ops };
    } catch (e) {
      if (!(e instanceof QuotaRequestError)) throw e;
      result.error = e;
    }
  }
  const changes = [...results.values()].flatMap((r) => (r.change && !r.error ? [r.change] : []));
  if (!req.validateOnly) broker.quotaStore.apply(changes);
  return {
    throttleTimeMs: 0,
    entries: [...results.values()].map((r) => ({
      errorCode: r.error?.code ?? ErrorCode.NONE,
      errorMessage: r.error?.message ?? null,
      entity: r.entity.map((e) => ({ entityType: e.entityType, entityName: e.entityName })),
    })),
  };
}

/** Kafka's filter: exact names (null = the default), or any entity that has the type; strict: no other types. */
function describe(broker: Broker, req: DescribeReq.DescribeClientQuotasRequest): DescribeRes.EntryDataInit[] {
  const exact = new Map<string, string | null>();
  const typed = new Set<string>();
  for (const c of req.components) {
    if (c.entityType === "") throw new QuotaRequestError(ErrorCode.INVALID_REQUEST, "Invalid empty entity type.");
    if (exact.has(c.entityType) || typed.has(c.entityType)) {
      throw new QuotaRequestError(ErrorCode.INVALID_REQUEST, `Entity type ${c.entityType} cannot appear more than once in the filter.`);
    }
    if (c.entityType !== IP && c.entityType !== USER && c.entityType !== CLIENT_ID) {
      throw new QuotaRequestError(ErrorCode.UNSUPPORTED_VERSION, `Unsupported entity type ${c.entityType}`);
    }
    if (c.matchType === MATCH_EXACT) {
      if (c.match === null) throw new QuotaRequestError(ErrorCode.INVALID_REQUEST, "Request specified MATCH_TYPE_EXACT, but set match string to null.");
      exact.set(c.entityType, c.match);
    } else if (c.matchType === MATCH_DEFAULT) {
      if (c.match !== null) throw new QuotaRequestError(ErrorCode.INVALID_REQUEST, "Request specified MATCH_TYPE_DEFAULT, but also specified a match string.");
      exact.set(c.entityType, null);
    } else if (c.matchType === MATCH_SPECIFIED) {
      if (c.match !== null) throw new QuotaRequestError(ErrorCode.INVALID_REQUEST, "Request specified MATCH_TYPE_SPECIFIED, but also specified a match string.");
      typed.add(c.entityType);
    } else throw new QuotaRequestError(ErrorCode.INVALID_REQUEST, `Unknown match type ${c.matchType}`);
  }
  const has = (t: string) => exact.has(t) || typed.has(t);
  if (has(IP) && (has(USER) || has(CLIENT_ID))) {
    throw new QuotaRequestError(
      ErrorCode.INVALID_REQUEST,
      "Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component.",
    );
  }
  const out: DescribeRes.EntryDataInit[] = [];
  for (const { entity, values } of broker.quotaStore.all()) {
    if (req.strict && entity.size !== exact.size + typed.size) continue;
    if ([...exact].some(([t, name]) => !entity.has(t) || entity.get(t) !== name)) continue;
    if ([...typed].some((t) => !entity.has(t))) continue;
    out.push({
      entity: [...entity].map(([entityType, entityName]) => ({ entityType, entityName })),
      values: [...values].map(([key, value]) => ({ key, value })),
    });
  }
  return out;
}

export function handleDescribeClientQuotas(broker: Broker, req: DescribeReq.DescribeClientQuotasRequest, _ctx: RequestContext): DescribeRes.DescribeClientQuotasResponseInit {
  try {
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, entries: describe(broker, req) };
  } catch (e) {
    if (!(e instanceof QuotaRequestError)) throw e;
    return { throttleTimeMs: 0, errorCode: e.code, errorMessage: e.message, entries: null };
  }
}
