// Producer id allocation. Ids are handed out in blocks whose upper bound is
// saved (transaction state log) before any id of the block is given to a
// client, so an id is never reused across restarts (a crash only skips the
// rest of a block), as Kafka does.

import type { TxnStateStore } from "./state-store.ts";

const BLOCK = 1000;

export class ProducerIdAllocator {
  private next: number;
  private limit: number;
  private saved: Promise<void> = Promise.resolve();

  constructor(private readonly store: TxnStateStore) {
    this.next = store.nextBlockStart;
    this.limit = store.nextBlockStart;
  }

  /** The next id; hand it out only once `durable()` resolves. */
  allocate(): number {
    if (this.next >= this.limit) {
      this.limit = this.next + BLOCK;
      this.saved = this.store.saveBlock(this.limit);
    }
    return this.next++;
  }

  /** Resolves once the block of every id allocated so far is durable. */
  durable(): Promise<void> {
    return this.saved;
  }
}
