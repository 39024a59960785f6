// The ACLs, kept in <data-dir>/acls.json and replaced atomically (temporary
// file, fsync, rename, directory fsync) before CreateAcls/DeleteAcls answer,
// so an acknowledged change survives a crash and a half-written file never
// replaces the old one.

import { exists, readText } from "../log/storage.ts";
import { join } from "node:path";
import { writeFileAtomic } from "../log/atomic-file.ts";
import { bindingKey, filterMatches, invalidBinding, type AclBinding, type AclFilter } from "./model.ts";

export const ACLS_FILE = "acls.json";

interface StoredFile {
  version: 1;
  acls: AclBinding[];
}

export class AclStore {
  private byKey = new Map<string, AclBinding>();
  /** Bindings by resource type, for the authorizer's scans. */
  private readonly byType = new Map<number, AclBinding[]>();
  /** Moves on every change; decision caches compare it. */
  generation = 0;
  private readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, ACLS_FILE);
  }

  load(): void {
    if (!exists(this.path)) return;
    const file = JSON.parse(readText(this.path)) as StoredFile;
    if (file.version !== 1 || !Array.isArray(file.acls)) throw new Error(`${this.path}: unknown format`);
    for (const b of file.acls) {
      const why = invalidBinding(b);
      if (why) throw new Error(`${this.path}: bad ACL ${JSON.stringify(b)}: ${why}`);
      this.byKey.set(bindingKey(b), b);
    }
    this.reindex();
  }

  get size(): number {
    return this.byKey.size;
  }

  ofType(resourceType: number): readonly AclBinding[] {
    return this.byType.get(resourceType) ?? [];
  }

  find(filter: AclFilter): AclBinding[] {
    const out: AclBinding[] = [];
    for (const b of this.byKey.values()) if (filterMatches(filter, b)) out.push(b);
    return out;
  }

  /** Adds bindings (already validated); ones already present are no-ops, as in Kafka. */
  add(bindings: readonly AclBinding[]): void {
    const next = new Map(this.byKey);
    for (const b of bindings) {
      const k = bindingKey(b);
      if (!next.has(k)) next.set(k, { ...b });
    }
    if (next.size !== this.byKey.size) this.commit(next);
  }

  /** Removes every binding a filter matches; answers them per filter, in order. */
  remove(filters: readonly AclFilter[]): AclBinding[][] {
    const next = new Map(this.byKey);
    const removed = filters.map((f) => {
      const hit: AclBinding[] = [];
      for (const [k, b] of next) {
        if (!filterMatches(f, b)) continue;
        hit.push(b);
        next.delete(k);
      }
      return hit;
    });
    if (next.size !== this.byKey.size) this.commit(next);
    return removed;
  }

  /** Durable first: a failed write leaves the ACLs in force as they were. */
  private commit(next: Map<string, AclBinding>): void {
    const file: StoredFile = { version: 1, acls: [...next.values()] };
    writeFileAtomic(this.path, new TextEncoder().encode(JSON.stringify(file, null, 1) + "\n"));
    this.byKey = next;
    this.reindex();
  }

  private reindex(): void {
    this.byType.clear();
    for (const b of this.byKey.values()) {
      const list = this.byType.get(b.resourceType);
      if (list) list.push(b);
      else this.byType.set(b.resourceType, [b]);
    }
    this.generation++;
  }
}
