// An in-memory file tree for `--memory` / `--data-dir :memory:`: each broker
// mounts its own volume under a root no disk path can start with
// (`:memory:<n>`), and storage.ts sends every path under that root here.
// Files are growable byte arrays; an unlinked file's bytes go as soon as no
// open DataFile holds them, so retention and compaction bound memory as they
// bound a data dir. Nothing here is ever written anywhere.

import { dirname } from "node:path";

/** What every memory root starts with; a relative disk path cannot, since klite resolves data dirs to absolute paths. */
export const MEMORY_PREFIX = ":memory:";

/** Grow in steps of at most this much, so a large segment does not double its footprint. */
const MAX_GROWTH = 8 * 1024 * 1024;

export class MemoryInode {
  /** Bytes [0, size) are the file; the rest is spare capacity. */
  bytes = new Uint8Array(0);
  size = 0;
  mtimeMs = Date.now();

  write(data: Uint8Array, position: number): void {
    const end = position + data.length;
    if (end > this.bytes.length) this.grow(end);
    this.bytes.set(data, position);
    if (end > this.size) this.size = end;
    this.mtimeMs = Date.now();
  }

  read(into: Uint8Array, position: number, length: number): number {
    const n = Math.max(0, Math.min(length, this.size - position));
    if (n > 0) into.set(this.bytes.subarray(position, position + n));
    return n;
  }

  truncate(size: number): void {
    if (size > this.bytes.length) this.grow(size);
    // Bytes past the new end must read as zeros if the file grows again.
    else if (size < this.size) this.bytes.fill(0, size, this.size);
    this.size = size;
    // A file cut well below its capacity gives the spare memory back.
    if (this.bytes.length > 2 * size + MAX_GROWTH) this.bytes = this.bytes.slice(0, size);
    this.mtimeMs = Date.now();
  }

  contents(): Uint8Array {
    return this.bytes.subarray(0, this.size);
  }

  private grow(needed: number): void {
    const step = Math.min(Math.max(this.bytes.length, 4096), MAX_GROWTH);
    const next = new Uint8Array(Math.max(needed, this.bytes.length + step));
    next.set(this.bytes.subarray(0, this.size));
    this.bytes = next;
  }
}

function notFound(op: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOENT: no such file or directory, ${op} '${path}'`), { code: "ENOENT", path });
}

export class MemoryVolume {
  private readonly files = new Map<string, MemoryInode>();
  private readonly dirs = new Set<string>();

  constructor(readonly root: string) {
    this.dirs.add(root);
  }

  isFile(path: string): boolean {
    return this.files.has(path);
  }

  isDir(path: string): boolean {
    return this.dirs.has(path);
  }

  /** The file at `path`; `create` makes it (empty) when missing. */
  inode(path: string, create = false): MemoryInode {
    let f = this.files.get(path);
    if (!f) {
      if (!create) throw notFound("open", path);
      this.parentMustExist(path, "open");
      f = new MemoryInode();
      this.files.set(path, f);
    }
    return f;
  }

  /** Puts a new file at `path`, replacing any (rename of a freshly written file). */
  replace(path: string, inode: MemoryInode): void {
    this.parentMustExist(path, "open");
    this.files.set(path, inode);
  }

  mkdir(path: string): void {
    for (let p = path; !this.dirs.has(p); p = dirname(p)) this.dirs.add(p);
  }

  unlink(path: string): void {
    if (!this.files.delete(path)) throw notFound("unlink", path);
  }

  /** Direct children of `dir`, files and directories. */
  list(dir: string): { name: string; isDirectory: boolean }[] {
    if (!this.dirs.has(dir)) throw notFound("scandir", dir);
    const prefix = dir + "/";
    const out: { name: string; isDirectory: boolean }[] = [];
    const child = (p: string) => (p.startsWith(prefix) && !p.includes("/", prefix.length) ? p.slice(prefix.length) : null);
    for (const p of this.dirs) {
      const name = child(p);
      if (name) out.push({ name, isDirectory: true });
    }
    for (const p of this.files.keys()) {
      const name = child(p);
      if (name) out.push({ name, isDirectory: false });
    }
    return out;
  }

  rename(from: string, to: string): void {
    const f = this.files.get(from);
    if (f) {
      this.replace(to, f);
      this.files.delete(from);
      return;
    }
    if (!this.dirs.has(from)) throw notFound("rename", from);
    this.parentMustExist(to, "rename");
    for (const [p, inode] of [...this.files]) {
      if (!p.startsWith(from + "/")) continue;
      this.files.delete(p);
      this.files.set(to + p.slice(from.length), inode);
    }
    for (const p of [...this.dirs]) {
      if (p !== from && !p.startsWith(from + "/")) continue;
      this.dirs.delete(p);
      this.dirs.add(to + p.slice(from.length));
    }
  }

  /** rm -rf; nothing there is fine. */
  removeTree(path: string): void {
    this.files.delete(path);
    for (const p of [...this.files.keys()]) if (p.startsWith(path + "/")) this.files.delete(p);
    for (const p of [...this.dirs]) if (p === path || p.startsWith(path + "/")) this.dirs.delete(p);
  }

  /** Bytes held by files (what `--memory` costs beside the broker's own heap). */
  bytes(): number {
    let n = 0;
    for (const f of this.files.values()) n += f.bytes.length;
    return n;
  }

  private parentMustExist(path: string, op: string): void {
    if (!this.dirs.has(dirname(path))) throw notFound(op, path);
  }
}

const volumes = new Map<string, MemoryVolume>();
let mounted = 0;

/** A fresh, empty volume; its root is the data dir to give the broker. */
export function mountMemoryVolume(): MemoryVolume {
  const v = new MemoryVolume(`${MEMORY_PREFIX}${++mounted}`);
  volumes.set(v.root, v);
  return v;
}

/** Forgets a volume: its files are garbage once nothing holds them. */
export function unmountMemoryVolume(root: string): void {
  volumes.delete(root);
}

/** The volume `path` lies on, or null for a disk path. */
export function memoryVolumeOf(path: string): MemoryVolume | null {
  if (!path.startsWith(MEMORY_PREFIX)) return null;
  const slash = path.indexOf("/");
  const v = volumes.get(slash < 0 ? path : path.slice(0, slash));
  if (!v) throw new Error(`${path}: no memory volume is mounted there`);
  return v;
}
