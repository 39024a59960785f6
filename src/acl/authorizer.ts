// Decides whether a principal connecting from a host may perform an operation
// on a resource, by Kafka's StandardAuthorizer rules: super users may do
// anything; a matching DENY wins over any ALLOW; ALLOW of READ, WRITE, DELETE
// or ALTER implies DESCRIBE and ALLOW of ALTER_CONFIGS implies
// DESCRIBE_CONFIGS (a DENY implies nothing); ACLs match a resource by
// LITERAL name, the LITERAL wildcard `*`, or a PREFIXED name; principals by
// name or `User:*`; hosts by address or `*`. A resource that no ACL names at
// all is allowed only with allow-everyone-if-no-acl-found.
//
// Decisions are cached per (principal, host, operation, resource) and the
// cache is dropped whenever the ACLs change, so Produce and Fetch pay one map
// lookup per topic once warm.

import { allowImplies, Operation, OPERATIONS_BY_RESOURCE, PatternType, Permission, WILDCARD, WILDCARD_PRINCIPAL, type AclBinding } from "./model.ts";
import type { AclStore } from "./store.ts";

/** Cached decisions are dropped wholesale past this many, so a stream of fresh names cannot grow the heap without bound. */
const CACHE_LIMIT = 100_000;

export interface AuthorizerOptions {
  superUsers: readonly string[];
  allowEveryoneIfNoAclFound: boolean;
}

export class Authorizer {
  private readonly superUsers: Set<string>;
  private readonly allowIfNoAcl: boolean;
  /** principal\0host → resource type → name → decided operations (bit op) and allowed ones (bit 16 + op). */
  private readonly cache = new Map<string, Map<number, Map<string, number>>>();
  private cached = 0;
  private cacheGeneration = -1;

  constructor(readonly store: AclStore, options: AuthorizerOptions) {
    this.superUsers = new Set(options.superUsers);
    this.allowIfNoAcl = options.allowEveryoneIfNoAclFound;
  }

  isSuperUser(principal: string): boolean {
    return this.superUsers.has(principal);
  }

  authorize(principal: string, host: string, operation: number, resourceType: number, name: string): boolean {
    return this.forPeer(principal, host)(operation, resourceType, name);
  }

  /**
   * The decisions of one principal at one host, for a request's many checks:
   * the peer's part of the cache is looked up once, then each check costs two
   * map lookups and no string building.
   */
  forPeer(principal: string, host: string): (operation: number, resourceType: number, name: string) => boolean {
    if (this.superUsers.has(principal)) return () => true;
    if (this.cacheGeneration !== this.store.generation) {
      this.cache.clear();
      this.cached = 0;
      this.cacheGeneration = this.store.generation;
    }
    const peerKey = `${principal}\u0000${host}`;
    let byType = this.cache.get(peerKey);
    if (!byType) this.cache.set(peerKey, (byType = new Map()));
    const generation = this.cacheGeneration;
    return (operation, resourceType, name) => {
      if (generation !== this.store.generation) return this.authorize(principal, host, operation, resourceType, name);
      let byName = byType.get(resourceType);
      if (!byName) byType.set(resourceType, (byName = new Map()));
      const bits = byName.get(name) ?? 0;
      if (bits & (1 << operation)) return (bits & (1 << (16 + operation))) !== 0;
      const allowed = this.decide(principal, host, operation, resourceType, name);
      if (bits === 0 && ++this.cached > CACHE_LIMIT) {
        this.cache.clear();
        this.cached = 0;
        this.cacheGeneration = -1;
      }
      byName.set(name, bits | (1 << operation) | (allowed ? 1 << (16 + operation) : 0));
      return allowed;
    };
  }

  /** The uncached decision (also what the benchmark compares the cache against). */
  decide(principal: string, host: string, operation: number, resourceType: number, name: string): boolean {
    let allowed = false;
    let resourceHasAcls = false;
    for (const acl of this.store.ofType(resourceType)) {
      if (!resourceMatches(acl, name)) continue;
      resourceHasAcls = true;
      if (acl.principal !== principal && acl.principal !== WILDCARD_PRINCIPAL) continue;
      if (acl.host !== WILDCARD && acl.host !== host) continue;
      if (acl.permission === Permission.DENY) {
        if (acl.operation === Operation.ALL || acl.operation === operation) return false;
      } else if (allowImplies(acl.operation, operation)) {
        allowed = true;
      }
    }
    return allowed || (!resourceHasAcls && this.allowIfNoAcl);
  }

  /**
   * Whether the principal may perform the operation on some resource of the
   * type (Kafka's authorizeByResourceType, which lets an idempotent producer
   * with WRITE on any topic initialise a producer id): an ALLOW that no DENY
   * of the same or a wider pattern cancels.
   */
  authorizeByResourceType(principal: string, host: string, operation: number, resourceType: number): boolean {
    if (this.superUsers.has(principal)) return true;
    const applies = (acl: AclBinding) =>
      (acl.principal === principal || acl.principal === WILDCARD_PRINCIPAL) &&
      (acl.host === WILDCARD || acl.host === host) &&
      (acl.operation === operation || acl.operation === Operation.ALL);
    const acls = this.store.ofType(resourceType);
    if (acls.length === 0) return this.allowIfNoAcl;
    const denies = acls.filter((a) => a.permission === Permission.DENY && applies(a));
    if (denies.some((d) => d.patternType === PatternType.LITERAL && d.resourceName === WILDCARD)) return false;
    const deniedBy = (allow: AclBinding) =>
      denies.some((d) =>
        d.patternType === PatternType.PREFIXED
          ? allow.resourceName.startsWith(d.resourceName)
          : allow.patternType === PatternType.LITERAL && d.resourceName === allow.resourceName,
      );
    return acls.some((a) => a.permission === Permission.ALLOW && applies(a) && !deniedBy(a));
  }

  /** Kafka's authorized-operations bit field: bit N set for each allowed operation code N. */
  authorizedOperations(principal: string, host: string, resourceType: number, name: string): number {
    let bits = 0;
    for (const op of OPERATIONS_BY_RESOURCE[resourceType] ?? []) {
      if (this.authorize(principal, host, op, resourceType, name)) bits |= 1 << op;
    }
    return bits;
  }
}

function resourceMatches(acl: AclBinding, name: string): boolean {
  if (acl.patternType === PatternType.PREFIXED) return name.startsWith(acl.resourceName);
  return acl.resourceName === name || acl.resourceName === WILDCARD;
}
