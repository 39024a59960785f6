// Client quota configuration: which entity (user, client-id, or both; a null
// name is the default entity of its type) has which quota values. Kept in
// the data dir as one JSON file, replaced atomically and fsynced before an
// AlterClientQuotas is answered, so a crash leaves the old set or the new.

import { exists, readText } from "../log/storage.ts";
import { join } from "node:path";
import { writeFileAtomic } from "../log/atomic-file.ts";

export const USER = "user";
export const CLIENT_ID = "client-id";

export const PRODUCER_BYTE_RATE = "producer_byte_rate";
export const CONSUMER_BYTE_RATE = "consumer_byte_rate";
export const REQUEST_PERCENTAGE = "request_percentage";

/** The keys a user/client-id entity takes, and whether Kafka types them as whole numbers (LONG) or DOUBLE. */
export const QUOTA_KEYS: ReadonlyMap<string, "long" | "double"> = new Map([
  [PRODUCER_BYTE_RATE, "long"],
  [CONSUMER_BYTE_RATE, "long"],
  [REQUEST_PERCENTAGE, "double"],
]);

/** Entity type → name (null: the default entity of that type). */
export type QuotaEntity = ReadonlyMap<string, string | null>;

export function entityKey(entity: QuotaEntity): string {
  return JSON.stringify([...entity].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

interface StoredEntry {
  entity: [string, string | null][];
  values: Record<string, number>;
}

const FILE = "client-quotas.json";

export class QuotaStore {
  private readonly entries = new Map<string, { entity: QuotaEntity; values: Map<string, number> }>();
  /** Bumped on every change, so resolved quotas cached elsewhere know to look again. */
  version = 0;

  constructor(private readonly dataDir: string) {}

  load(): void {
    const path = join(this.dataDir, FILE);
    if (!exists(path)) return;
    const stored = JSON.parse(readText(path)) as StoredEntry[];
    for (const e of stored) {
      const entity = new Map(e.entity);
      this.entries.set(entityKey(entity), { entity, values: new Map(Object.entries(e.values)) });
    }
    this.version++;
  }

  get size(): number {
    return this.entries.size;
  }

  get(entity: QuotaEntity): ReadonlyMap<string, number> | undefined {
    return this.entries.get(entityKey(entity))?.values;
  }

  /** Every entity with its values. */
  *all(): Iterable<{ entity: QuotaEntity; values: ReadonlyMap<string, number> }> {
    yield* this.entries.values();
  }

  /** Applies changes (null value: remove the key) to several entities, then persists once. */
  apply(changes: { entity: QuotaEntity; ops: Map<string, number | null> }[]): void {
    if (changes.length === 0) return;
    for (const { entity, ops } of changes) {
      const key = entityKey(entity);
      let entry = this.entries.get(key);
      if (!entry) this.entries.set(key, (entry = { entity, values: new Map() }));
      for (const [k, v] of ops) {
        if (v === null) entry.values.delete(k);
        else entry.values.set(k, v);
      }
      if (entry.values.size === 0) this.entries.delete(key);
    }
    this.version++;
    this.persist();
  }

  private persist(): void {
    const stored: StoredEntry[] = [...this.entries.values()].map((e) => ({ entity: [...e.entity], values: Object.fromEntries(e.values) }));
    writeFileAtomic(join(this.dataDir, FILE), new TextEncoder().encode(JSON.stringify(stored)));
  }
}
