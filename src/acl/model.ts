// Kafka's ACL model: a binding is a resource pattern (type, name, LITERAL or
// PREFIXED) plus an entry (principal, host, operation, ALLOW or DENY). The
// numeric codes are the wire values of Kafka's enums. Filters (DescribeAcls,
// DeleteAcls) add ANY to every field and MATCH to the pattern type.

export const ResourceType = { UNKNOWN: 0, ANY: 1, TOPIC: 2, GROUP: 3, CLUSTER: 4, TRANSACTIONAL_ID: 5, DELEGATION_TOKEN: 6, USER: 7 } as const;
export const PatternType = { UNKNOWN: 0, ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const;
export const Operation = {
  UNKNOWN: 0, ANY: 1, ALL: 2, READ: 3, WRITE: 4, CREATE: 5, DELETE: 6, ALTER: 7, DESCRIBE: 8,
  CLUSTER_ACTION: 9, DESCRIBE_CONFIGS: 10, ALTER_CONFIGS: 11, IDEMPOTENT_WRITE: 12, CREATE_TOKENS: 13, DESCRIBE_TOKENS: 14,
  TWO_PHASE_COMMIT: 15,
} as const;
export const Permission = { UNKNOWN: 0, ANY: 1, DENY: 2, ALLOW: 3 } as const;

export const CLUSTER_NAME = "kafka-cluster";
export const WILDCARD = "*";
export const WILDCARD_PRINCIPAL = "User:*";

export interface AclBinding {
  resourceType: number;
  resourceName: string;
  patternType: number;
  principal: string;
  host: string;
  operation: number;
  permission: number;
}

export interface AclFilter {
  resourceType: number;
  resourceName: string | null;
  patternType: number;
  principal: string | null;
  host: string | null;
  operation: number;
  permission: number;
}

const inRange = (v: number, max: number) => Number.isInteger(v) && v >= 0 && v <= max;

/** Why a binding cannot be stored (Kafka answers INVALID_REQUEST), or null. */
export function invalidBinding(b: AclBinding): string | null {
  if (!inRange(b.resourceType, 7) || b.resourceType <= ResourceType.ANY) return "invalid resource type";
  if (b.patternType !== PatternType.LITERAL && b.patternType !== PatternType.PREFIXED) return "pattern type must be LITERAL or PREFIXED";
  if (!inRange(b.operation, 15) || b.operation <= Operation.ANY) return "invalid operation";
  if (b.permission !== Permission.ALLOW && b.permission !== Permission.DENY) return "permission type must be ALLOW or DENY";
  if (b.resourceName === "") return "Invalid empty resource name";
  if (b.resourceType === ResourceType.CLUSTER && b.resourceName !== CLUSTER_NAME) return `The only valid name for the CLUSTER resource is ${CLUSTER_NAME}`;
  if (!validPrincipal(b.principal)) return `Could not parse principal ${JSON.stringify(b.principal)}: expected TYPE:NAME`;
  if (b.host === "") return "Invalid empty host";
  return null;
}

/** Kafka's principal syntax: a type, a colon, a name (SecurityUtils.parseKafkaPrincipal). */
function validPrincipal(p: string): boolean {
  const i = p.indexOf(":");
  return i > 0 && i < p.length - 1;
}

/** Why a filter is unusable: a field that is UNKNOWN or outside its enum. */
export function invalidFilter(f: AclFilter): string | null {
  if (!inRange(f.resourceType, 7) || f.resourceType === ResourceType.UNKNOWN) return "The filter contains an unknown resource type";
  if (!inRange(f.patternType, 4) || f.patternType === PatternType.UNKNOWN) return "The filter contains an unknown pattern type";
  if (!inRange(f.operation, 15) || f.operation === Operation.UNKNOWN) return "The filter contains an unknown operation";
  if (!inRange(f.permission, 3) || f.permission === Permission.UNKNOWN) return "The filter contains an unknown permission type";
  return null;
}

/** Kafka's ResourcePatternFilter.matches: MATCH finds the patterns that would apply to the named resource. */
function patternMatches(f: AclFilter, b: AclBinding): boolean {
  if (f.resourceType !== ResourceType.ANY && f.resourceType !== b.resourceType) return false;
  if (f.patternType !== PatternType.ANY && f.patternType !== PatternType.MATCH && f.patternType !== b.patternType) return false;
  if (f.resourceName === null) return true;
  if (f.patternType === PatternType.ANY || f.patternType === b.patternType) return f.resourceName === b.resourceName;
  // MATCH
  if (b.patternType === PatternType.LITERAL) return f.resourceName === b.resourceName || b.resourceName === WILDCARD;
  return f.resourceName.startsWith(b.resourceName);
}

export function filterMatches(f: AclFilter, b: AclBinding): boolean {
  return (
    patternMatches(f, b) &&
    (f.principal === null || f.principal === b.principal) &&
    (f.host === null || f.host === b.host) &&
    (f.operation === Operation.ANY || f.operation === b.operation) &&
    (f.permission === Permission.ANY || f.permission === b.permission)
  );
}

export function bindingKey(b: AclBinding): string {
  return `${b.resourceType}\u0000${b.patternType}\u0000${b.resourceName}\u0000${b.principal}\u0000${b.host}\u0000${b.operation}\u0000${b.permission}`;
}

/** Operations an ALLOW of `granted` gives besides itself (DESCRIBE and DESCRIBE_CONFIGS are implied, never the other way). */
export function allowImplies(granted: number, wanted: number): boolean {
  if (granted === Operation.ALL || granted === wanted) return true;
  if (wanted === Operation.DESCRIBE) return granted === Operation.READ || granted === Operation.WRITE || granted === Operation.DELETE || granted === Operation.ALTER;
  if (wanted === Operation.DESCRIBE_CONFIGS) return granted === Operation.ALTER_CONFIGS;
  return false;
}

/** The operations Kafka reports as authorized for each resource type (include*AuthorizedOperations). */
export const OPERATIONS_BY_RESOURCE: Record<number, readonly number[]> = {
  [ResourceType.TOPIC]: [Operation.READ, Operation.WRITE, Operation.CREATE, Operation.DESCRIBE, Operation.DELETE, Operation.ALTER, Operation.DESCRIBE_CONFIGS, Operation.ALTER_CONFIGS],
  [ResourceType.GROUP]: [Operation.READ, Operation.DESCRIBE, Operation.DELETE, Operation.DESCRIBE_CONFIGS, Operation.ALTER_CONFIGS],
  [ResourceType.CLUSTER]: [Operation.CREATE, Operation.CLUSTER_ACTION, Operation.DESCRIBE_CONFIGS, Operation.ALTER_CONFIGS, Operation.IDEMPOTENT_WRITE, Operation.ALTER, Operation.DESCRIBE],
  [ResourceType.TRANSACTIONAL_ID]: [Operation.DESCRIBE, Operation.WRITE, Operation.TWO_PHASE_COMMIT],
  [ResourceType.DELEGATION_TOKEN]: [Operation.DESCRIBE],
  [ResourceType.USER]: [Operation.CREATE_TOKENS, Operation.DESCRIBE_TOKENS],
};
