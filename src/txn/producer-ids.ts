// Producer id allocation. Ids are handed out from blocks whose upper bound is
// persisted before any id of the block is used, so an id is never reused
// across restarts (a crash only skips the rest of a block), as Kafka does.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../log/atomic-file.ts";

const BLOCK = 1000;

export class ProducerIdAllocator {
  private next: number;
  private limit: number;
  private readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, "producer-ids.json");
    const stored = existsSync(this.path) ? (JSON.parse(readFileSync(this.path, "utf8")) as { nextBlockStart: number }) : { nextBlockStart: 0 };
    this.next = stored.nextBlockStart;
    this.limit = stored.nextBlockStart;
  }

  allocate(): number {
    if (this.next >= this.limit) {
      this.limit = this.next + BLOCK;
      writeFileAtomic(this.path, new TextEncoder().encode(JSON.stringify({ nextBlockStart: this.limit })));
    }
    return this.next++;
  }
}
