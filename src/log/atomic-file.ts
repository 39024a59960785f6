// Crash-safe file replacement: after a crash the file holds either its old
// contents or the new ones, never a mix. Write a temporary sibling, fsync it,
// rename it over the target, then fsync the directory so the rename itself
// survives a power loss.

import { closeSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

export const TEMP_SUFFIX = ".tmp";

export interface AtomicWriteOptions {
  /** false: skip the fsyncs (still atomic against a process crash, not a power loss). */
  fsync?: boolean;
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function writeTemp(path: string, data: Uint8Array, fsync: boolean): string {
  const temp = join(dirname(path), `${basename(path)}${TEMP_SUFFIX}`);
  const fd = openSync(temp, "w");
  try {
    let done = 0;
    while (done < data.length) done += writeSync(fd, data, done, data.length - done);
    if (fsync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return temp;
}

export function writeFileAtomic(path: string, data: Uint8Array, options: AtomicWriteOptions = {}): void {
  writeFilesAtomic(dirname(path), [{ name: basename(path), data }], options);
}

/** Replaces several files of one directory, each atomically, with one directory fsync for all. */
export function writeFilesAtomic(dir: string, files: { name: string; data: Uint8Array }[], options: AtomicWriteOptions = {}): void {
  const fsync = options.fsync ?? true;
  for (const f of files) renameSync(writeTemp(join(dir, f.name), f.data, fsync), join(dir, f.name));
  if (fsync) fsyncDir(dir);
}
