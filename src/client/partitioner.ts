// Where a keyed record goes. The default, murmur2, is the Java client's
// (and librdkafka's `murmur2_random`): murmur2 of the key bytes with seed
// 0x9747b28c, made positive by masking the sign bit, modulo the partition
// count. `crc32` is librdkafka's default `consistent_random` (CRC-32 of the
// key modulo the count). Records without a key stick to one partition per
// run of records and move round robin to the next (the sticky idea of
// KIP-480, without its size-based switching).

export type PartitionerName = "murmur2" | "crc32";

export function murmur2(data: Uint8Array): number {
  const m = 0x5bd1e995;
  const len = data.length;
  let h = (0x9747b28c ^ len) | 0;
  const whole = len & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const tail = len & 3;
  if (tail === 3) h ^= data[whole + 2]! << 16;
  if (tail >= 2) h ^= data[whole + 1]! << 8;
  if (tail >= 1) {
    h ^= data[whole]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

export function partitionForKey(key: Uint8Array, partitions: number, how: PartitionerName = "murmur2"): number {
  if (how === "crc32") return Bun.hash.crc32(key) % partitions;
  return (murmur2(key) & 0x7fffffff) % partitions;
}

/** Chooses partitions for a stream of records: by key, or sticky round robin for keyless ones. */
export class Partitioner {
  private sticky: number;
  private left: number;

  constructor(
    private readonly how: PartitionerName = "murmur2",
    /** Keyless records sent to one partition before moving on. */
    private readonly stickyRun = 1000,
  ) {
    this.sticky = -1;
    this.left = 0;
  }

  choose(key: Uint8Array | null, partitions: number): number {
    if (key !== null) return partitionForKey(key, partitions, this.how);
    if (this.left <= 0 || this.sticky < 0) {
      this.sticky = this.sticky < 0 ? Math.floor(Math.random() * partitions) : (this.sticky + 1) % partitions;
      this.left = this.stickyRun;
    }
    this.left--;
    return this.sticky % partitions;
  }
}
