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

import { existsSync, readdirSync, readFileSync, renameSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { fsyncDir, writeFileAtomic } from "./atomic-file.ts";
import { failpoint } from "../util/failpoint.ts";
import {
  CLEANED_SUFFIX,
  CLEANER_SWAP_FILE,
  INDEX_SUFFIX,
  LOG_SUFFIX,
  TIME_INDEX_SUFFIX,
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
const SUFFIXES = [INDEX_SUFFIX, TIME_INDEX_SUFFIX, LOG_SUFFIX];

function unlinkIfExists(path: string): void {
  if (existsSync(path)) unlinkSync(path);
}

/** The commit point: from here on, recovery completes the swap. */
export function commitSwap(dir: string, plan: SwapPlan, fsync: boolean): void {
  writeFileAtomic(join(dir, CLEANER_SWAP_FILE), new TextEncoder().encode(`${plan.base} ${plan.end}\n`), { fsync });
  failpoint("cleaner-swap-committed");
}

/** Moves the cleaned files into place and removes the replaced segments, then the commit record. */
export function finishSwap(dir: string, plan: SwapPlan, fsync: boolean): void {
  for (const suffix of SUFFIXES) {
    const cleaned = segmentPath(dir, plan.base, suffix + CLEANED_SUFFIX);
    if (existsSync(cleaned)) renameSync(cleaned, segmentPath(dir, plan.base, suffix));
  }
  failpoint("cleaner-swap-renamed");
  for (const name of readdirSync(dir)) {
    const base = parseSegmentName(name);
    if (base === null || base <= plan.base || base >= plan.end) continue;
    for (const suffix of SUFFIXES) unlinkIfExists(segmentPath(dir, base, suffix));
    failpoint("cleaner-swap-unlinking");
  }
  if (fsync) fsyncDir(dir);
  failpoint("cleaner-swap-before-done");
  unlinkSync(join(dir, CLEANER_SWAP_FILE));
  // A commit record that came back after a power loss would replay this swap over later state.
  if (fsync) fsyncDir(dir);
}

/** Brings a partition directory to a state without clean in progress (run first at open). */
export function recoverSwap(dir: string): string | null {
  const record = join(dir, CLEANER_SWAP_FILE);
  let note: string | null = null;
  if (existsSync(record)) {
    const [base, end] = readFileSync(record, "utf8").trim().split(/\s+/).map(Number);
    if (Number.isSafeInteger(base) && Number.isSafeInteger(end) && base! < end!) {
      finishSwap(dir, { base: base!, end: end! }, true);
      note = `completed the cleaner's swap of segments [${base}, ${end})`;
    } else {
      unlinkSync(record);
      note = "removed an unreadable cleaner swap record";
    }
  }
  for (const name of readdirSync(dir)) {
    if (name.endsWith(CLEANED_SUFFIX)) unlinkSync(join(dir, name));
  }
  return note;
}
