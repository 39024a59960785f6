// Names of partition directories in the data dir, and their removal. A
// deleted partition's directory is first renamed Kafka-style to
// `<topic>-<partition>.<32 hex>-delete` (durably, with a directory fsync),
// then removed; a crash in between leaves a name that only klite makes, so
// startup can finish the job without ever touching a directory it did not create.

import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { fsyncDir } from "./atomic-file.ts";
import { removeTree, renamePath } from "./storage.ts";

/** `<topic>-<partition>`: what a partition directory is named. */
export const PARTITION_DIR = /^(.+)-(\d+)$/;
/** What deletePartitionDir renames a directory to before removing it. */
export const DELETED_DIR = /^.+-\d+\.[0-9a-f]{32}-delete$/;

/** Longest file name on the file systems klite runs on. */
const NAME_MAX = 255;

/** Renames `dir` to its `-delete` name (durable when `fsync`), then removes it. */
export function deletePartitionDir(dir: string, fsync: boolean): void {
  const suffix = `.${randomBytes(16).toString("hex")}-delete`;
  // As Kafka does, shorten a long topic name so that the marked name still fits.
  const name = basename(dir);
  const m = PARTITION_DIR.exec(name);
  const kept = m && name.length + suffix.length > NAME_MAX ? `${m[1]!.slice(0, NAME_MAX - suffix.length - m[2]!.length - 1)}-${m[2]}` : name;
  const marked = join(dirname(dir), kept + suffix);
  try {
    renamePath(dir, marked);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw e;
  }
  if (fsync) fsyncDir(dirname(dir));
  removeTree(marked);
}
