// The file system seam: every file and directory operation of the broker's
// data dir, except the open files themselves (DataFile), goes through one
// small interface with two implementations, the disk (node:fs) and a memory
// volume (memory-volume.ts, for `--memory`). Which one serves a path is
// decided by its root, fixed when the broker starts: a memory data dir is
// `:memory:<n>`, anything else is on disk. The hot paths (append, fetch)
// never come here: they use the DataFile they opened.

import {
  closeSync,
  openSync,
  writeSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  utimesSync,
} from "node:fs";
import { open } from "node:fs/promises";
import { memoryVolumeOf, MemoryInode, type MemoryVolume } from "./memory-volume.ts";
import { fsyncDone } from "./fsync-stats.ts";

export interface FileStat {
  size: number;
  mtimeMs: number;
  isDirectory: boolean;
}

export interface Storage {
  /** false: nothing survives the process, and syncs are no-ops. */
  readonly durable: boolean;
  exists(path: string): boolean;
  /** Throws ENOENT when missing. */
  stat(path: string): FileStat;
  readFile(path: string): Uint8Array;
  /** Creates or replaces the file's contents (no fsync). */
  writeFile(path: string, data: Uint8Array): void;
  /** Entries of a directory, files and subdirectories. */
  list(dir: string): { name: string; isDirectory: boolean }[];
  /** mkdir -p. */
  mkdir(dir: string): void;
  /** Throws ENOENT when missing. */
  unlink(path: string): void;
  rename(from: string, to: string): void;
  /** rm -rf; nothing there is fine. */
  removeTree(path: string): void;
  setMtime(path: string, ms: number): void;
  /** fsync of a file or directory on the thread pool. */
  sync(path: string): Promise<void>;
  /** The first `size` bytes, read-only, without reading them onto the heap (mmap on disk). */
  map(path: string, size: number): Uint8Array;
}

const EMPTY = new Uint8Array(0);

export const diskStorage: Storage = {
  durable: true,
  exists: existsSync,
  stat(path) {
    const s = statSync(path);
    return { size: s.size, mtimeMs: s.mtimeMs, isDirectory: s.isDirectory() };
  },
  readFile: (path) => new Uint8Array(readFileSync(path)),
  writeFile(path, data) {
    const fd = openSync(path, "w");
    try {
      let done = 0;
      while (done < data.length) done += writeSync(fd, data, done, data.length - done);
    } finally {
      closeSync(fd);
    }
  },
  list: (dir) => readdirSync(dir, { withFileTypes: true }).map((e) => ({ name: e.name, isDirectory: e.isDirectory() })),
  mkdir: (dir) => void mkdirSync(dir, { recursive: true }),
  unlink: unlinkSync,
  rename: renameSync,
  removeTree: (path) => rmSync(path, { recursive: true, force: true }),
  setMtime: (path, ms) => utimesSync(path, ms / 1000, ms / 1000),
  async sync(path) {
    const fh = await open(path, "r");
    try {
      const started = performance.now();
      await fh.sync();
      fsyncDone((await fh.stat()).isDirectory() ? "dir" : "file", started);
    } finally {
      await fh.close();
    }
  },
  // mmap refuses empty files; an empty file is simply no bytes.
  map: (path, size) => (size === 0 ? EMPTY : Bun.mmap(path, { size })),
};

function memoryStorage(v: MemoryVolume): Storage {
  return {
    durable: false,
    exists: (path) => v.isFile(path) || v.isDir(path),
    stat(path) {
      if (v.isDir(path)) return { size: 0, mtimeMs: 0, isDirectory: true };
      const f = v.inode(path);
      return { size: f.size, mtimeMs: f.mtimeMs, isDirectory: false };
    },
    readFile: (path) => v.inode(path).contents(),
    writeFile(path, data) {
      const f = new MemoryInode();
      f.write(data, 0);
      v.replace(path, f);
    },
    list: (dir) => v.list(dir),
    mkdir: (dir) => v.mkdir(dir),
    unlink: (path) => v.unlink(path),
    rename: (from, to) => v.rename(from, to),
    removeTree: (path) => v.removeTree(path),
    setMtime(path, ms) {
      v.inode(path).mtimeMs = ms;
    },
    sync: async () => {},
    // A copy, not a view: the chunks of a file deleted later go back to the pool for reuse.
    map: (path, size) => v.inode(path).contents().subarray(0, size),
  };
}

const memoryStorages = new WeakMap<MemoryVolume, Storage>();

/** The storage that holds `path`. */
export function storageFor(path: string): Storage {
  const v = memoryVolumeOf(path);
  if (!v) return diskStorage;
  let s = memoryStorages.get(v);
  if (!s) memoryStorages.set(v, (s = memoryStorage(v)));
  return s;
}

// Shorthands for the callers: each picks the storage of the path it is given.
export const exists = (path: string): boolean => storageFor(path).exists(path);
export const statPath = (path: string): FileStat => storageFor(path).stat(path);
export const readFile = (path: string): Uint8Array => storageFor(path).readFile(path);
export const readText = (path: string): string => new TextDecoder().decode(storageFor(path).readFile(path));
export const listDir = (dir: string): string[] => storageFor(dir).list(dir).map((e) => e.name);
export const makeDir = (dir: string): void => storageFor(dir).mkdir(dir);
export const unlinkPath = (path: string): void => storageFor(path).unlink(path);
export const renamePath = (from: string, to: string): void => storageFor(from).rename(from, to);
export const removeTree = (path: string): void => storageFor(path).removeTree(path);

/** Unlinks `path`; a missing file is fine. */
export function unlinkIfExists(path: string): void {
  try {
    unlinkPath(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
}
