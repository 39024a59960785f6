// Memory stays flat however much data is on disk: sealed and active segments
// alike are read with reads sized by the request, only the small index files
// are mapped. Prints the figures; asserts on anonymous (heap) memory and on
// mapped file pages, with wide margins.

import { afterAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PartitionLog } from "../../src/log/partition-log.ts";
import { FlushScheduler, config, makeBatch, splitBatches, tempDir } from "./log-fixtures.ts";

const { dir, cleanup } = tempDir("klite-logmem-");
afterAll(cleanup);

function rss(): { anon: number; file: number } {
  const status = readFileSync("/proc/self/status", "utf8");
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
  return { anon: kb("RssAnon"), file: kb("RssFile") };
}

const MB = 1 << 20;
const mb = (n: number) => `${(n / MB).toFixed(1)} MB`;

test("appending and reading back 200 MB does not grow the heap with the data", () => {
  const total = 200 * MB;
  const cfg = config({ segmentBytes: 16 * MB });
  const log = PartitionLog.open(join(dir, "mem-0"), cfg, new FlushScheduler());
  const batch = makeBatch({ records: 64, valueSize: 1000 });
  Bun.gc(true);
  const before = rss();
  let written = 0;
  while (written < total) {
    log.append(batch);
    written += batch.length;
  }
  Bun.gc(true);
  const afterWrite = rss();

  let offset = 0;
  let read = 0;
  let batches = 0;
  let checksum = 0;
  while (offset < log.logEndOffset) {
    const r = log.read(offset, MB, true);
    if (r === "out_of_range" || r.size === 0) throw new Error(`read stalled at ${offset}`);
    for (const c of r.chunks) for (let i = 0; i < c.length; i += 4096) checksum += c[i]!; // touch every page
    const got = splitBatches(r.chunks);
    batches += got.length;
    read += r.size;
    offset = got[got.length - 1]!.lastOffset + 1;
  }
  Bun.gc(true);
  const afterRead = rss();
  log.close();

  const reopened = PartitionLog.open(join(dir, "mem-0"), cfg, new FlushScheduler());
  Bun.gc(true);
  const afterReopen = rss();
  expect(reopened.logEndOffset).toBe(log.logEndOffset);
  reopened.close();

  console.log(
    `log memory: wrote ${mb(written)} in ${log.segmentCount} segments, read back ${mb(read)} (${batches} batches, checksum ${checksum})\n` +
      `  RssAnon  before ${mb(before.anon)}  after write ${mb(afterWrite.anon)}  after read ${mb(afterRead.anon)}  after reopen ${mb(afterReopen.anon)}\n` +
      `  RssFile  before ${mb(before.file)}  after write ${mb(afterWrite.file)}  after read ${mb(afterRead.file)}  (mapped file pages, reclaimable)`,
  );
  expect(read).toBe(written);
  expect(afterRead.anon - before.anon).toBeLessThan(total / 4);
  // Only index files are mapped (about 50 KB per 16 MB segment here): reading
  // 200 MB must not leave the log's pages resident in the broker.
  expect(afterRead.file - before.file).toBeLessThan(total * 0.1);
});
