// A small crash-safe store for coordinator state (group offsets, transaction
// state): an append-only file of records, each framed as
// [u32 length][u32 CRC-32C][payload], the payload's layout given by a codec.
// Appends share
// the broker's group-commit fsync rounds, so concurrent commits cost one
// fdatasync. A torn tail (a crash mid-write) is cut off on load. The file is
// rewritten to the live state from time to time: temp file, fsync, rename,
// fsync of the directory, so a crash leaves the old or the new file whole.

import { exists, readFile } from "./storage.ts";
import { crc32c } from "../codec/crc32c.ts";
import { DecodeError } from "../protocol/reader.ts";
import { Writer } from "../protocol/writer.ts";
import { writeFileAtomic } from "./atomic-file.ts";
import { DataFile } from "./data-file.ts";
import type { FlushRound, FlushScheduler, FlushTarget } from "./flush-scheduler.ts";

const FRAME_HEADER = 8;
/** No single record comes near this; a larger length field is garbage from a torn write. */
const MAX_RECORD_BYTES = 64 * 1024 * 1024;

/** How one kind of store lays out its records. */
export interface RecordCodec<R> {
  /** Named in warnings. */
  name: string;
  size(r: R): number;
  write(w: Writer, r: R): void;
  /** null for a record kind this version does not know (skipped on load); DecodeError for garbage. */
  read(payload: Uint8Array): R | null;
}

export interface RecordLogOptions {
  /** group: appends resolve after an fsync; never: after write(2). */
  fsync: "group" | "never";
  /** Shared fsync rounds; without one each append round fsyncs on its own. */
  flusher: FlushScheduler | null;
  warn?: (msg: string) => void;
}

export interface LoadedLog<R> {
  log: RecordLog<R>;
  records: R[];
  /** Bytes cut off the end as a torn or corrupt tail. */
  truncatedBytes: number;
}

export function encodeFrames<R>(codec: RecordCodec<R>, records: Iterable<R>): Uint8Array {
  const list = [...records];
  let total = 0;
  const sizes = list.map((r) => codec.size(r));
  for (const s of sizes) total += FRAME_HEADER + s;
  const w = Writer.alloc(total);
  for (let i = 0; i < list.length; i++) {
    const start = w.pos;
    w.pos += FRAME_HEADER;
    codec.write(w, list[i]!);
    const payload = w.buf.subarray(start + FRAME_HEADER, w.pos);
    if (payload.length !== sizes[i]) throw new Error(`${codec.name} record size mismatch: ${payload.length} != ${sizes[i]}`);
    w.view.setUint32(start, payload.length);
    w.view.setUint32(start + 4, crc32c(payload));
  }
  return w.buf;
}

/** Parses frames up to the first torn or corrupt one; `valid` is where the good prefix ends. */
export function decodeFrames<R>(codec: RecordCodec<R>, buf: Uint8Array, warn: (msg: string) => void = () => {}): { records: R[]; valid: number } {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const records: R[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (buf.length - pos < FRAME_HEADER) break;
    const len = view.getUint32(pos);
    if (len > MAX_RECORD_BYTES || len > buf.length - pos - FRAME_HEADER) break;
    const payload = buf.subarray(pos + FRAME_HEADER, pos + FRAME_HEADER + len);
    if (crc32c(payload) !== view.getUint32(pos + 4)) break;
    try {
      const r = codec.read(payload);
      if (r) records.push(r);
      else warn(`${codec.name} log: skipping a record of unknown kind at ${pos}`);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      warn(`${codec.name} log: skipping an unreadable record at ${pos}: ${e.message}`);
    }
    pos += FRAME_HEADER + len;
  }
  return { records, valid: pos };
}

export class RecordLog<R> implements FlushTarget {
  private round: FlushRound | null = null;
  private closed = false;
  /** A failed write or fsync: what was written may be lost, so nothing more is taken. */
  private failure: unknown = null;
  /** Records appended since the last open or rewrite: how much garbage may have piled up. */
  appended = 0;

  private constructor(
    readonly path: string,
    private file: DataFile,
    private size: number,
    private readonly codec: RecordCodec<R>,
    private readonly options: RecordLogOptions,
  ) {}

  /** Opens (or creates) the log, returning its records; a torn tail is truncated away. */
  static open<R>(path: string, codec: RecordCodec<R>, options: RecordLogOptions): LoadedLog<R> {
    const warn = options.warn ?? (() => {});
    if (!exists(path)) writeFileAtomic(path, new Uint8Array(0), { fsync: options.fsync === "group" });
    const buf = readFile(path);
    const { records, valid } = decodeFrames(codec, buf, warn);
    const file = DataFile.open(path);
    let truncatedBytes = 0;
    if (valid < buf.length) {
      truncatedBytes = buf.length - valid;
      warn(`${codec.name} log ${path}: cutting ${truncatedBytes} bytes of torn or corrupt tail at ${valid}`);
      file.truncate(valid);
      if (options.fsync === "group") file.syncNow();
    }
    const log = new RecordLog(path, file, valid, codec, options);
    log.appended = records.length;
    return { log, records, truncatedBytes };
  }

  get bytes(): number {
    return this.size;
  }

  /** Writes the records now; resolves once they are durable (per the fsync option). */
  append(records: readonly R[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`${this.codec.name} log is closed`));
    if (this.failure) return Promise.reject(this.failedError());
    if (records.length === 0) return this.flushed();
    const frames = encodeFrames(this.codec, records);
    try {
      this.file.write(frames, this.size);
    } catch (e) {
      this.afterFlush(e);
      return Promise.reject(e);
    }
    this.size += frames.length;
    this.appended += records.length;
    return this.scheduleSync();
  }

  private scheduleSync(): Promise<void> {
    if (this.options.fsync !== "group") return Promise.resolve();
    if (this.options.flusher) {
      this.round = this.options.flusher.enqueue(this);
      return this.round.outcome(this).then(() => this.checkFailure());
    }
    return this.file.sync().catch((e) => {
      this.afterFlush(e);
      throw e;
    });
  }

  /** Resolves when everything appended so far is durable. */
  flushed(): Promise<void> {
    if (this.options.fsync !== "group") return Promise.resolve();
    if (this.failure) return Promise.reject(this.failedError());
    if (this.options.flusher) return this.round && !this.round.done ? this.round.outcome(this).then(() => this.checkFailure()) : Promise.resolve();
    return this.file.dirty ? this.file.sync() : Promise.resolve();
  }

  takeDirtyFiles(): DataFile[] {
    return !this.closed && this.file.dirty ? [this.file] : [];
  }

  private failedError(): Error {
    return new Error(`${this.codec.name} log ${this.path} failed earlier: ${this.failure}`);
  }

  /** A round that succeeded after an earlier one failed proves nothing about the writes before it. */
  private checkFailure(): void {
    if (this.failure) throw this.failedError();
  }

  afterFlush(error: unknown): void {
    if (error === null || this.failure) return;
    this.failure = error;
    this.options.warn?.(`${this.codec.name} log ${this.path}: ${error}; writes to it are refused until restart`);
  }

  /** Replaces the whole file by `records` (the live state), atomically. */
  rewrite(records: Iterable<R>): void {
    if (this.closed) return;
    const frames = encodeFrames(this.codec, records);
    writeFileAtomic(this.path, frames, { fsync: this.options.fsync === "group" });
    const old = this.file;
    this.file = DataFile.open(this.path);
    this.size = frames.length;
    this.appended = 0;
    // Appends still waiting for the old file's fsync are in the new file, which is already durable.
    old.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flushed().catch(() => {});
    if (this.options.fsync === "group" && this.file.dirty) this.file.syncNow();
    this.closed = true;
    this.file.close();
  }
}
