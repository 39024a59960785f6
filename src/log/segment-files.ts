// Names of a partition directory's files, Kafka's: segments are named by
// their base offset, zero-padded to 20 digits so they sort by name.

import { join } from "node:path";

export const LOG_SUFFIX = ".log";
export const INDEX_SUFFIX = ".index";
export const TIME_INDEX_SUFFIX = ".timeindex";
/** Aborted transactions whose markers are in the segment (Kafka's). */
export const TXN_INDEX_SUFFIX = ".txnindex";
/** Shortened copies of sealed segments, made by earlier builds before renaming them into place; removed at open. */
export const SWAP_SUFFIX = ".swap";
/** A segment the cleaner is writing, beside the ones it replaces (`<base>.log.cleaned`, `.index.cleaned` ...). */
export const CLEANED_SUFFIX = ".cleaned";
/** The cleaner's commit record: which segments its `.cleaned` files replace (see swap.ts). */
export const CLEANER_SWAP_FILE = "cleaner.swap";
/** First offset the cleaner has not cleaned yet (Kafka's cleaner-offset-checkpoint, per partition). */
export const CLEANER_CHECKPOINT_FILE = "cleaner-checkpoint";
export const LOG_START_OFFSET_FILE = "log-start-offset";
/** Written by a clean close: the active segment's indexes on disk are complete, no scan needed. */
export const CLEAN_SHUTDOWN_FILE = "clean-shutdown";
/** Present once a placed batch (klite mirror) left a gap before it: the active segment may have gaps. */
export const PLACED_GAPS_FILE = "placed-gaps";

const SEGMENT_NAME = /^(\d{20})\.log$/;

export function segmentName(baseOffset: number): string {
  return String(baseOffset).padStart(20, "0");
}

export function segmentPath(dir: string, baseOffset: number, suffix: string): string {
  return join(dir, segmentName(baseOffset) + suffix);
}

/** The base offset a directory entry names, or null when it is not a segment log. */
export function parseSegmentName(name: string): number | null {
  const m = SEGMENT_NAME.exec(name);
  if (!m) return null;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : null;
}
