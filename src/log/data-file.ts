// An open segment file: positional writes and reads, a dirty flag for group
// commit, and a close that waits for fsyncs still running on the fd (closing
// it under them could let a reused fd number be synced, or fail the sync).

import { closeSync, fdatasync, fdatasyncSync, ftruncateSync, openSync, readSync, writeSync } from "node:fs";

export class DataFile {
  /** Written to since the last fsync was started. */
  dirty = false;
  private holds = 0;
  private closeRequested = false;
  private closed = false;

  private constructor(
    readonly path: string,
    readonly fd: number,
  ) {}

  /** Opens an existing file read-write. */
  static open(path: string): DataFile {
    return new DataFile(path, openSync(path, "r+"));
  }

  /** Opens an existing file for positional reads only (a sealed segment). */
  static openReadOnly(path: string): DataFile {
    return new DataFile(path, openSync(path, "r"));
  }

  /** Creates an empty file, replacing any leftover of that name. */
  static create(path: string): DataFile {
    return new DataFile(path, openSync(path, "w+"));
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
    fdatasyncSync(this.fd);
  }

  /** Starts an fsync on the thread pool; the fd stays open until it finishes. */
  sync(): Promise<void> {
    this.dirty = false;
    this.holds++;
    return new Promise<void>((resolve, reject) => {
      fdatasync(this.fd, (err) => {
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
