// Kafka's per-data-dir offset checkpoint files (recovery-point-offset-checkpoint,
// ...): a version line, a count line, then one "topic partition offset" line
// per partition, replaced atomically.

import { exists, readText } from "./storage.ts";
import { writeFileAtomic } from "./atomic-file.ts";

export const RECOVERY_POINT_CHECKPOINT_FILE = "recovery-point-offset-checkpoint";
const VERSION = 0;

/** Offsets by `topic-partition` (the partition directory's name); empty when the file is missing or not a checkpoint. */
export function readOffsetCheckpoint(path: string): Map<string, number> {
  const out = new Map<string, number>();
  if (!exists(path)) return out;
  const lines = readText(path).split("\n").filter((l) => l.trim() !== "");
  if (lines.length < 2 || Number(lines[0]) !== VERSION || Number(lines[1]) !== lines.length - 2) return out;
  for (const line of lines.slice(2)) {
    const parts = line.trim().split(/\s+/);
    if (parts.length !== 3) return new Map();
    const [topic, partition, offset] = [parts[0]!, Number(parts[1]), Number(parts[2])];
    if (!Number.isSafeInteger(partition) || partition < 0 || !Number.isSafeInteger(offset) || offset < 0) return new Map();
    out.set(`${topic}-${partition}`, offset);
  }
  return out;
}

/** The checkpoint's text for `entries`, in a stable order so unchanged state gives the same text. */
export function formatOffsetCheckpoint(entries: { topic: string; partition: number; offset: number }[]): string {
  const lines = entries.map((e) => `${e.topic} ${e.partition} ${e.offset}`).sort();
  return [String(VERSION), String(lines.length), ...lines].join("\n") + "\n";
}

export function writeOffsetCheckpoint(path: string, text: string): void {
  writeFileAtomic(path, new TextEncoder().encode(text));
}
