// Crash-safe file replacement: after a crash the file holds either its old
// contents or the new ones, never a mix. Write a temporary sibling, fsync it,
// rename it over the target, then fsync the directory so the rename itself
// survives a power loss.

import { closeSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { crashJournal } from "./crash-journal.ts";
import { storageFor } from "./storage.ts";
import { fsyncDone } from "./fsync-stats.ts";

export const TEMP_SUFFIX = ".tmp";

export interface AtomicWriteOptions {
  /** false: skip the fsyncs (still atomic against a process crash, not a power loss). */
  fsync?: boolean;
}

export function fsyncDir(dir: string): void {
  const storage = storageFor(dir);
  if (!storage.durable) return;
  const fault = crashJournal?.fault("dirsync", dir);
  if (fault instanceof Error) throw fault;
  const fd = openSync(dir, "r");
  try {
    const started = performance.now();
    fsyncSync(fd);
    fsyncDone("dir", started);
  } finally {
    closeSync(fd);
  }
  if (crashJournal && fault !== "skip") crashJournal.dirSynced(dir);
}

/** fsync of a file just written from scratch, reported to the crash simulator when it runs. */
function fsyncNew(fd: number, path: string, size: number): void {
  const started = performance.now();
  if (!crashJournal) {
    fsyncSync(fd);
    return fsyncDone("file", started);
  }
  const fault = crashJournal.fault("sync", path);
  if (fault instanceof Error) throw fault;
  const upto = crashJournal.position;
  fsyncSync(fd);
  fsyncDone("file", started);
  if (fault !== "skip") crashJournal.synced(crashJournal.inode(fd), size, upto);
}

function writeTemp(path: string, data: Uint8Array, fsync: boolean): string {
  const temp = join(dirname(path), `${basename(path)}${TEMP_SUFFIX}`);
  const fd = openSync(temp, "w");
  try {
    crashJournal?.created(fd);
    let done = 0;
    while (done < data.length) done += writeSync(fd, data, done, data.length - done);
    if (fsync) fsyncNew(fd, temp, data.length);
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
  const storage = storageFor(dir);
  if (!storage.durable) {
    // A memory volume's files are replaced whole in one step: atomic without a temporary.
    for (const f of files) storage.writeFile(join(dir, f.name), f.data);
    return;
  }
  const fsync = options.fsync ?? true;
  for (const f of files) renameSync(writeTemp(join(dir, f.name), f.data, fsync), join(dir, f.name));
  if (fsync) fsyncDir(dir);
}
