// An in-memory file tree for `--memory` / `--data-dir :memory:`: each broker
// mounts its own volume under a root no disk path can start with
// (`:memory:<n>`), and storage.ts sends every path under that root here.
// Files are lists of byte chunks; an unlinked file's chunks go (back to a
// small pool) as soon as no open DataFile holds them, so retention and
// compaction bound memory as they bound a data dir. Nothing here is ever
// written anywhere.

import { dirname } from "node:path";

/** What every memory root starts with; a relative disk path cannot, since klite resolves data dirs to absolute paths. */
export const MEMORY_PREFIX = ":memory:";

/**
 * Files are kept in chunks of this size, so growing one never copies it; the
 * first chunk of a file grows by doubling up to it, so small files stay small.
 */
const CHUNK = 1 << 20;
/**
 * Chunks of deleted files kept for new ones, up to this many: a log under
 * retention reuses the pages it already touched instead of faulting in new
 * ones (a page fault costs more than the copy on the VMs measured).
 */
const POOL_MAX = 32;
const pool: Uint8Array[] = [];

function takeChunk(): Uint8Array {
  const c = pool.pop();
  if (!c) return new Uint8Array(CHUNK);
  c.fill(0);
  return c;
}

export class MemoryInode {
  private chunks: Uint8Array[] = [];
  size = 0;
  mtimeMs = Date.now();
  /** Open DataFiles on it; an unlinked file's chunks are recycled once none is left. */
  opens = 0;
  unlinked = false;

  write(data: Uint8Array, position: number): void {
    const end = position + data.length;
    this.reserve(end);
    let done = 0;
    while (done < data.length) {
      const at = position + done;
      const chunk = this.chunks[Math.floor(at / CHUNK)]!;
      const offset = at % CHUNK;
      const n = Math.min(data.length - done, chunk.length - offset);
      chunk.set(n === data.length ? data : data.subarray(done, done + n), offset);
      done += n;
    }
    if (end > this.size) this.size = end;
    this.mtimeMs = Date.now();
  }

  read(into: Uint8Array, position: number, length: number): number {
    const total = Math.max(0, Math.min(length, this.size - position));
    let done = 0;
    while (done < total) {
      const at = position + done;
      const chunk = this.chunks[Math.floor(at / CHUNK)]!;
      const offset = at % CHUNK;
      const n = Math.min(total - done, chunk.length - offset);
      into.set(chunk.subarray(offset, offset + n), done);
      done += n;
    }
    return total;
  }

  truncate(size: number): void {
    if (size > this.size) this.reserve(size);
    else if (size < this.size) {
      const keep = Math.ceil(size / CHUNK);
      this.release(this.chunks.splice(keep));
      // Bytes past the new end must read as zeros if the file grows again.
      if (keep > 0) this.chunks[keep - 1]!.fill(0, size - (keep - 1) * CHUNK);
    }
    this.size = size;
    this.mtimeMs = Date.now();
  }

  /** A copy of the whole file. */
  contents(): Uint8Array {
    const out = new Uint8Array(this.size);
    this.read(out, 0, this.size);
    return out;
  }

  /** Bytes held, spare capacity included. */
  capacity(): number {
    let n = 0;
    for (const c of this.chunks) n += c.length;
    return n;
  }

  /** Called when the file is unlinked or its last DataFile closes. */
  maybeRecycle(): void {
    if (!this.unlinked || this.opens > 0) return;
    this.release(this.chunks);
    this.chunks = [];
  }

  private release(chunks: Uint8Array[]): void {
    for (const c of chunks) if (c.length === CHUNK && pool.length < POOL_MAX) pool.push(c);
  }

  private reserve(end: number): void {
    if (end <= CHUNK) {
      const first = this.chunks[0];
      if (first && first.length >= end) return;
      const grown = new Uint8Array(Math.min(CHUNK, Math.max(end, 2 * (first?.length ?? 0), 256)));
      if (first) grown.set(first);
      this.chunks[0] = grown;
      return;
    }
    if (this.chunks.length > 0 && this.chunks[0]!.length < CHUNK) {
      const full = takeChunk();
      full.set(this.chunks[0]!);
      this.chunks[0] = full;
    }
    while (this.chunks.length * CHUNK < end) this.chunks.push(takeChunk());
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
    const old = this.files.get(path);
    this.files.set(path, inode);
    if (old && old !== inode) this.gone(old);
  }

  mkdir(path: string): void {
    for (let p = path; !this.dirs.has(p); p = dirname(p)) this.dirs.add(p);
  }

  unlink(path: string): void {
    const f = this.files.get(path);
    if (!f) throw notFound("unlink", path);
    this.files.delete(path);
    this.gone(f);
  }

  /** A file no name refers to any more: its memory goes back once no DataFile holds it. */
  private gone(f: MemoryInode): void {
    f.unlinked = true;
    f.maybeRecycle();
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
      this.files.delete(from);
      this.replace(to, f);
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
    for (const [p, f] of [...this.files]) {
      if (p !== path && !p.startsWith(path + "/")) continue;
      this.files.delete(p);
      this.gone(f);
    }
    for (const p of [...this.dirs]) if (p === path || p.startsWith(path + "/")) this.dirs.delete(p);
  }

  /** Bytes held by files (what `--memory` costs beside the broker's own heap). */
  bytes(): number {
    let n = 0;
    for (const f of this.files.values()) n += f.capacity();
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
