// An open segment file: positional writes and reads, a dirty flag for group
// commit, and a close that waits for fsyncs still running on the fd (closing
// it under them could let a reused fd number be synced, or fail the sync).

import { closeSync, existsSync, fdatasync, fdatasyncSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from "node:fs";
import { crashJournal, type CrashJournal } from "./crash-journal.ts";
import { memoryVolumeOf, type MemoryInode } from "./memory-volume.ts";
import { fsyncDone } from "./fsync-stats.ts";

export class DataFile {
  /** Written to since the last fsync was started. */
  dirty = false;
  private holds = 0;
  private closeRequested = false;
  private closed = false;

  protected constructor(
    readonly path: string,
    readonly fd: number,
  ) {}

  /** Opens an existing file read-write. */
  static open(path: string): DataFile {
    const volume = memoryVolumeOf(path);
    if (volume) return new MemoryFile(path, volume.inode(path));
    const fd = openSync(path, "r+");
    return crashJournal ? new SimulatedFile(path, fd, crashJournal) : new DataFile(path, fd);
  }

  /** Opens an existing file for positional reads only (a sealed segment). */
  static openReadOnly(path: string): DataFile {
    const volume = memoryVolumeOf(path);
    if (volume) return new MemoryFile(path, volume.inode(path));
    return new DataFile(path, openSync(path, "r"));
  }

  /** Creates an empty file, replacing any leftover of that name. */
  static create(path: string): DataFile {
    const volume = memoryVolumeOf(path);
    if (volume) {
      const inode = volume.inode(path, true);
      inode.truncate(0);
      return new MemoryFile(path, inode);
    }
    if (!crashJournal) return new DataFile(path, openSync(path, "w+"));
    if (existsSync(path)) {
      // Emptying a file that may be durable: the simulator keeps what a power cut would bring back.
      const file = DataFile.open(path);
      file.truncate(0);
      return file;
    }
    const fd = openSync(path, "w+");
    crashJournal.created(fd);
    return new SimulatedFile(path, fd, crashJournal);
  }

  write(data: Uint8Array, position: number): void {
    let done = 0;
    while (done < data.length) done += writeSync(this.fd, data, done, data.length - done, position + done);
    this.dirty = true;
  }

  /** Fills `into` from `position`; returns the bytes read (fewer only at end of file). */
  read(into: Uint8Array, position: number, length = into.length): number {
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, into, done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  truncate(size: number): void {
    ftruncateSync(this.fd, size);
    this.dirty = true;
  }

  syncNow(): void {
    this.dirty = false;
    const started = performance.now();
    fdatasyncSync(this.fd);
    fsyncDone("data", started);
  }

  /** Starts an fsync on the thread pool; the fd stays open until it finishes. */
  sync(): Promise<void> {
    this.dirty = false;
    this.holds++;
    const started = performance.now();
    return new Promise<void>((resolve, reject) => {
      fdatasync(this.fd, (err) => {
        fsyncDone("data", started);
        this.holds--;
        if (this.closeRequested && this.holds === 0) this.closeFd();
        if (err) {
          this.dirty = true;
          reject(err);
        } else resolve();
      });
    });
  }

  /** Closes now, or as soon as running fsyncs finish. */
  close(): void {
    this.closeRequested = true;
    if (this.holds === 0) this.closeFd();
  }

  private closeFd(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

/**
 * A DataFile under the crash simulator (tests only, see crash-journal.ts):
 * reports what each fsync made durable, keeps old bytes of durable ranges
 * before they change, and fails or skips calls as the fault rules say.
 */
class SimulatedFile extends DataFile {
  private readonly ino: string;

  constructor(
    path: string,
    fd: number,
    private readonly journal: CrashJournal,
  ) {
    super(path, fd);
    this.ino = journal.inode(fd);
  }

  override write(data: Uint8Array, position: number): void {
    const fault = this.journal.fault("write", this.path);
    if (fault instanceof Error) throw fault;
    this.journal.beforeChange(this.fd, this.ino, position, position + data.length);
    super.write(data, position);
  }

  override truncate(size: number): void {
    this.journal.beforeChange(this.fd, this.ino, size, Number.MAX_SAFE_INTEGER);
    super.truncate(size);
  }

  override syncNow(): void {
    const fault = this.journal.fault("sync", this.path);
    if (fault instanceof Error) throw fault;
    const size = fstatSync(this.fd).size;
    const upto = this.journal.position;
    super.syncNow();
    if (fault !== "skip") this.journal.synced(this.ino, size, upto);
  }

  override async sync(): Promise<void> {
    const fault = this.journal.fault("sync", this.path);
    if (fault instanceof Error) throw fault;
    const size = fstatSync(this.fd).size;
    const upto = this.journal.position;
    await super.sync();
    // A slow disk: the fsync counts as finished (journal, acks) only later; the fd is not used meanwhile.
    if (fault && fault !== "skip") await Bun.sleep(fault.delayMs);
    if (fault !== "skip") this.journal.synced(this.ino, size, upto);
  }
}

/**
 * A DataFile of a memory volume (`--memory`): the same calls on a byte array.
 * Syncs have nothing to wait for. Disk files never see this class, so their
 * calls stay monomorphic.
 */
class MemoryFile extends DataFile {
  private released = false;

  constructor(
    path: string,
    private readonly inode: MemoryInode,
  ) {
    super(path, -1);
    inode.opens++;
  }

  override write(data: Uint8Array, position: number): void {
    this.inode.write(data, position);
    this.dirty = true;
  }

  override read(into: Uint8Array, position: number, length = into.length): number {
    return this.inode.read(into, position, length);
  }

  override truncate(size: number): void {
    this.inode.truncate(size);
    this.dirty = true;
  }

  override syncNow(): void {
    this.dirty = false;
  }

  override sync(): Promise<void> {
    this.dirty = false;
    return Promise.resolve();
  }

  override close(): void {
    if (this.released) return;
    this.released = true;
    this.inode.opens--;
    this.inode.maybeRecycle();
  }
}
