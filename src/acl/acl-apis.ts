// CreateAcls, DescribeAcls, DeleteAcls. Without an authorizer they answer
// SECURITY_DISABLED as Kafka does, which MirrorMaker 2 and admin tools read as
// "no ACLs here". Who may call them (ALTER, DESCRIBE on the cluster) is
// checked in the table of api-checks.ts like every other API.

import type { Broker } from "../broker.ts";
import type * as CreateAclsRequest from "../../generated/CreateAclsRequest.ts";
import type * as CreateAclsResponse from "../../generated/CreateAclsResponse.ts";
import type * as DescribeAclsRequest from "../../generated/DescribeAclsRequest.ts";
import type * as DescribeAclsResponse from "../../generated/DescribeAclsResponse.ts";
import type * as DeleteAclsRequest from "../../generated/DeleteAclsRequest.ts";
import type * as DeleteAclsResponse from "../../generated/DeleteAclsResponse.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { invalidBinding, invalidFilter, type AclBinding, type AclFilter } from "./model.ts";

const NO_AUTHORIZER = "No Authorizer is configured on the broker";

function toFilter(f: DescribeAclsRequest.DescribeAclsRequest | DeleteAclsRequest.DeleteAclsFilter): AclFilter {
  return {
    resourceType: f.resourceTypeFilter,
    resourceName: f.resourceNameFilter,
    patternType: f.patternTypeFilter,
    principal: f.principalFilter,
    host: f.hostFilter,
    operation: f.operation,
    permission: f.permissionType,
  };
}

export function handleCreateAcls(broker: Broker, req: CreateAclsRequest.CreateAclsRequest): CreateAclsResponse.CreateAclsResponseInit {
  const az = broker.authorizer;
  if (!az) return { results: req.creations.map(() => ({ errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: NO_AUTHORIZER })) };
  const bindings: AclBinding[] = req.creations.map((c) => ({
    resourceType: c.resourceType,
    resourceName: c.resourceName,
    patternType: c.resourcePatternType,
    principal: c.principal,
    host: c.host,
    operation: c.operation,
    permission: c.permissionType,
  }));
  const problems = bindings.map(invalidBinding);
  const valid = bindings.filter((_, i) => problems[i] === null);
  try {
    az.store.add(valid);
  } catch (e) {
    broker.log.error(`CreateAcls: could not persist the ACLs: ${(e as Error).message}`);
    return { results: bindings.map(() => ({ errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: "could not persist the ACLs" })) };
  }
  return {
    results: problems.map((p) => (p === null ? { errorCode: ErrorCode.NONE, errorMessage: null } : { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: p })),
  };
}

export function handleDescribeAcls(broker: Broker, req: DescribeAclsRequest.DescribeAclsRequest): DescribeAclsResponse.DescribeAclsResponseInit {
  const az = broker.authorizer;
  if (!az) return { errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: NO_AUTHORIZER, resources: [] };
  const filter = toFilter(req);
  const problem = invalidFilter(filter);
  if (problem) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: problem, resources: [] };
  const byResource = new Map<string, DescribeAclsResponse.DescribeAclsResourceInit & { acls: DescribeAclsResponse.AclDescriptionInit[] }>();
  for (const b of az.store.find(filter)) {
    const key = `${b.resourceType}\u0000${b.patternType}\u0000${b.resourceName}`;
    let r = byResource.get(key);
    if (!r) byResource.set(key, (r = { resourceType: b.resourceType, resourceName: b.resourceName, patternType: b.patternType, acls: [] }));
    r.acls.push({ principal: b.principal, host: b.host, operation: b.operation, permissionType: b.permission });
  }
  return { errorCode: ErrorCode.NONE, errorMessage: null, resources: [...byResource.values()] };
}

export function handleDeleteAcls(broker: Broker, req: DeleteAclsRequest.DeleteAclsRequest): DeleteAclsResponse.DeleteAclsResponseInit {
  const az = broker.authorizer;
  if (!az) return { filterResults: req.filters.map(() => ({ errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: NO_AUTHORIZER, matchingAcls: [] })) };
  const filters = req.filters.map(toFilter);
  const problems = filters.map(invalidFilter);
  let removed: AclBinding[][];
  try {
    removed = az.store.remove(filters.filter((_, i) => problems[i] === null));
  } catch (e) {
    broker.log.error(`DeleteAcls: could not persist the ACLs: ${(e as Error).message}`);
    return { filterResults: filters.map(() => ({ errorCode: ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: "could not persist the ACLs", matchingAcls: [] })) };
  }
  let next = 0;
  return {
    filterResults: problems.map((p) => {
      if (p !== null) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: p, matchingAcls: [] };
      return {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        matchingAcls: removed[next++]!.map((b) => ({
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          resourceType: b.resourceType,
          resourceName: b.resourceName,
          patternType: b.patternType,
          principal: b.principal,
          host: b.host,
          operation: b.operation,
          permissionType: b.permission,
        })),
      };
    }),
  };
}
