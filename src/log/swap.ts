// The cleaner's crash-safe segment swap. A clean writes its output beside the
// live segments as `<base>.log.cleaned` (+ `.index.cleaned`, `.timeindex.cleaned`),
// makes it durable, then commits by writing `cleaner.swap` atomically: it names
// the range [base, end) of segments the cleaned one replaces. After the commit,
// the cleaned files are renamed over `<base>.*` and the other replaced segments
// are unlinked; then the commit record goes. Every step after the commit is
// idempotent, so recovery simply runs them again:
//   - no commit record: any `.cleaned` file is an unfinished clean, deleted;
//     the old segments are intact.
//   - a commit record: finish the swap (rename what is still `.cleaned`,
//     unlink what is left of the replaced range), then delete the record.
// Either way each offset is served by exactly one segment: never lost, never twice.
// The fsyncs of a live swap run on the thread pool (the event loop keeps
// serving produce and fetch); only recovery, before the broker serves, syncs in line.

import { exists, listDir, readText, renamePath, storageFor, unlinkIfExists, unlinkPath } from "./storage.ts";
import { join } from "node:path";
import { fsyncDir, TEMP_SUFFIX } from "./atomic-file.ts";
import { failpoint } from "../util/failpoint.ts";
import {
  CLEANED_SUFFIX,
  CLEANER_SWAP_FILE,
  INDEX_SUFFIX,
  LOG_SUFFIX,
  TIME_INDEX_SUFFIX,
  TXN_INDEX_SUFFIX,
  parseSegmentName,
  segmentPath,
} from "./segment-files.ts";

export interface SwapPlan {
  /** Base offset of the cleaned segment, and of the first segment it replaces. */
  base: number;
  /** Base offset of the first segment kept after the replaced ones. */
  end: number;
}

/** Index files first, the log last: a `.log.cleaned` still present means the swap is unfinished. */
const SUFFIXES = [INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX, LOG_SUFFIX];

/** fsync of a file or directory on the thread pool. */
export function syncPath(path: string): Promise<void> {
  return storageFor(path).sync(path);
}

/** The cleaned segment's files made durable (its log was synced as it was written). */
export async function syncCleaned(dir: string, base: number): Promise<void> {
  await syncPath(segmentPath(dir, base, INDEX_SUFFIX + CLEANED_SUFFIX));
  await syncPath(segmentPath(dir, base, TIME_INDEX_SUFFIX + CLEANED_SUFFIX));
  await syncPath(segmentPath(dir, base, TXN_INDEX_SUFFIX + CLEANED_SUFFIX));
  await syncPath(dir);
}

/** The commit point: written atomically (and durably when `fsync`); from here on, recovery completes the swap. */
export async function commitSwap(dir: string, plan: SwapPlan, fsync: boolean): Promise<void> {
  const path = join(dir, CLEANER_SWAP_FILE);
  const storage = storageFor(dir);
  storage.writeFile(path + TEMP_SUFFIX, new TextEncoder().encode(`${plan.base} ${plan.end}\n`));
  if (fsync) await storage.sync(path + TEMP_SUFFIX);
  storage.rename(path + TEMP_SUFFIX, path);
  if (fsync) await syncPath(dir);
  failpoint("cleaner-swap-committed");
}

/** Drops a commit record whose swap will not happen (the log changed before it could): recovery then discards the cleaned files. */
export function abandonSwap(dir: string): void {
  unlinkIfExists(join(dir, CLEANER_SWAP_FILE));
  fsyncDir(dir);
}

/** Moves the cleaned files into place and unlinks the replaced segments (no fsync: see endSwap). */
export function applySwap(dir: string, plan: SwapPlan): void {
  for (const suffix of SUFFIXES) {
    const cleaned = segmentPath(dir, plan.base, suffix + CLEANED_SUFFIX);
    if (exists(cleaned)) renamePath(cleaned, segmentPath(dir, plan.base, suffix));
  }
  failpoint("cleaner-swap-renamed");
  for (const name of listDir(dir)) {
    const base = parseSegmentName(name);
    if (base === null || base <= plan.base || base >= plan.end) continue;
    for (const suffix of SUFFIXES) unlinkIfExists(segmentPath(dir, base, suffix));
    failpoint("cleaner-swap-unlinking");
  }
}

/** Makes the applied swap durable, then removes its commit record. */
export async function endSwap(dir: string, fsync: boolean): Promise<void> {
  if (fsync) await syncPath(dir);
  failpoint("cleaner-swap-before-done");
  unlinkPath(join(dir, CLEANER_SWAP_FILE));
  // A commit record that came back after a power loss would replay this swap over later state.
  if (fsync) await syncPath(dir);
}

/** Brings a partition directory to a state without clean in progress (run first at open). */
export function recoverSwap(dir: string): string | null {
  const record = join(dir, CLEANER_SWAP_FILE);
  let note: string | null = null;
  if (exists(record)) {
    const [base, end] = readText(record).trim().split(/\s+/).map(Number);
    const valid = Number.isSafeInteger(base) && Number.isSafeInteger(end) && base! < end!;
    // Retention may have deleted the first replaced segment between the commit and the swap
    // (the swap was then abandoned): the cleaned copy must not bring it back.
    const baseGone = valid && !exists(segmentPath(dir, base!, LOG_SUFFIX));
    if (valid && !baseGone) {
      applySwap(dir, { base: base!, end: end! });
      fsyncDir(dir);
      note = `completed the cleaner's swap of segments [${base}, ${end})`;
    } else note = valid ? `discarded the cleaner's swap of segments [${base}, ${end}): they were deleted` : "removed an unreadable cleaner swap record";
    unlinkPath(record);
    fsyncDir(dir);
  }
  for (const name of listDir(dir)) {
    if (name.endsWith(CLEANED_SUFFIX)) unlinkPath(join(dir, name));
  }
  return note;
}
