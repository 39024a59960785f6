// Test-only crash simulation, broker side (the shape of SQLite's crash-test
// VFS). When KLITE_CRASHSIM names a directory, DataFile and the atomic-file
// writes report to this journal what reached fdatasync/fsync, per inode:
//   sync  - the file's size when an fsync started, once that fsync succeeded;
//   undo  - the old bytes of a durable range, before a write or truncate changes them;
//   new   - a fresh inode (creation), so a reused inode number starts empty;
//   dir   - a directory's entries at a directory fsync. Every file listed is
//           hard-linked into <sim>/inodes/<ino>, so a later unlink or rename
//           over it cannot take away the bytes a power cut would bring back.
// Each event is one write(2) to the journal before the call returns, so the
// journal survives kill -9 of the broker (the page cache does). The test side
// (test/helpers/crash-sim.ts) replays it to cut a data dir back to what a
// power loss would leave. Faults are injected from <sim>/faults, a line per
// rule "OP ACTION PATH-SUBSTRING": OP sync|write|dirsync, ACTION EIO|ENOSPC
// (the call fails), skip (a sync reports success but is not recorded: a
// missing fsync) or delay:MS (a background fdatasync takes MS longer, so a
// kill lands while written data waits for its fsync). Off, nothing here runs: DataFile picks its class once at open.

import { closeSync, existsSync, fstatSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, writeSync } from "node:fs";
import { join } from "node:path";

export type JournalEvent =
  | { t: "sync"; ino: string; size: number; upto: number }
  | { t: "undo"; ino: string; pos: number; data: string }
  | { t: "new"; ino: string }
  | { t: "dir"; ino: string; entries: [name: string, ino: string, isDir: boolean][] }
  | { t: "root"; ino: string };

export interface InodeState {
  /** Size at the last recorded fsync (0: never synced). */
  size: number;
  /** Journal position the last fsync started at: undo records from there on still apply. */
  upto: number;
  /** Old bytes of durable ranges, in journal order, with their journal position. */
  undos: { seq: number; pos: number; data: Uint8Array }[];
}

export interface Replayed {
  root: string | null;
  inodes: Map<string, InodeState>;
  /** Entries of each directory (by inode) at its last fsync. */
  dirs: Map<string, [string, string, boolean][]>;
  /** Events read (the next event's position). */
  seq: number;
}

/** Folds journal events into the durable state they describe. */
export function replay(events: Iterable<JournalEvent>): Replayed {
  const out: Replayed = { root: null, inodes: new Map(), dirs: new Map(), seq: 0 };
  const inode = (ino: string): InodeState => {
    let s = out.inodes.get(ino);
    if (!s) out.inodes.set(ino, (s = { size: 0, upto: 0, undos: [] }));
    return s;
  };
  for (const e of events) {
    const seq = out.seq++;
    switch (e.t) {
      case "sync": {
        const s = inode(e.ino);
        if (e.upto < s.upto) break; // an older fsync finishing after a newer one
        s.size = e.size;
        s.upto = e.upto;
        s.undos = s.undos.filter((u) => u.seq >= e.upto);
        break;
      }
      case "undo":
        inode(e.ino).undos.push({ seq, pos: e.pos, data: Buffer.from(e.data, "base64") });
        break;
      case "new":
        out.inodes.set(e.ino, { size: 0, upto: seq, undos: [] });
        break;
      case "dir":
        out.dirs.set(e.ino, e.entries);
        break;
      case "root":
        out.root = e.ino;
        break;
    }
  }
  return out;
}

export function readJournal(path: string): JournalEvent[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, "utf8");
  const events: JournalEvent[] = [];
  for (const line of text.split("\n")) if (line) events.push(JSON.parse(line) as JournalEvent);
  return events;
}

export type FaultOp = "sync" | "write" | "dirsync";

const ERRNO: Record<string, number> = { EIO: -5, ENOSPC: -28 };

function inoOf(fd: number): string {
  return String(fstatSync(fd, { bigint: true }).ino);
}

export class CrashJournal {
  private readonly fd: number;
  private seq: number;
  /** Durable size per inode, to know which writes need an undo record. */
  private readonly durable = new Map<string, number>();

  constructor(readonly dir: string) {
    mkdirSync(join(dir, "inodes"), { recursive: true });
    const state = replay(readJournal(this.journalPath));
    this.seq = state.seq;
    for (const [ino, s] of state.inodes) this.durable.set(ino, s.size);
    this.fd = openSync(this.journalPath, "a");
  }

  get journalPath(): string {
    return join(this.dir, "journal");
  }

  get inodesDir(): string {
    return join(this.dir, "inodes");
  }

  /** The position the next event gets: an fsync starting now covers every undo record before it. */
  get position(): number {
    return this.seq;
  }

  record(e: JournalEvent): void {
    const line = Buffer.from(JSON.stringify(e) + "\n");
    let done = 0;
    while (done < line.length) done += writeSync(this.fd, line, done, line.length - done);
    this.seq++;
  }

  /**
   * The fault rule for `op` on `path`: an error to raise, "skip", or null.
   * Read at every call so a test can arm a fault while the broker runs.
   */
  fault(op: FaultOp, path: string): Error | "skip" | { delayMs: number } | null {
    const rules = join(this.dir, "faults");
    if (!existsSync(rules)) return null;
    for (const line of readFileSync(rules, "utf8").split("\n")) {
      const [ruleOp, action, ...rest] = line.trim().split(/\s+/);
      const needle = rest.join(" ");
      if (ruleOp !== op || !action || !path.includes(needle)) continue;
      if (action === "skip") return "skip";
      if (action.startsWith("delay:")) return { delayMs: Number(action.slice(6)) };
      const e = new Error(`${action}: simulated failure, ${op} ${path}`) as NodeJS.ErrnoException;
      e.code = action;
      e.errno = ERRNO[action] ?? -5;
      e.syscall = op === "write" ? "write" : "fsync";
      return e;
    }
    return null;
  }

  /** A freshly created (or emptied) file: nothing of it is durable yet. */
  created(fd: number): string {
    const ino = inoOf(fd);
    this.durable.set(ino, 0);
    this.record({ t: "new", ino });
    return ino;
  }

  inode(fd: number): string {
    return inoOf(fd);
  }

  /**
   * Called before bytes from `pos` to `end` of the file change (write or
   * truncate): keeps the old bytes of the part that is durable.
   */
  beforeChange(fd: number, ino: string, pos: number, end: number): void {
    const durable = this.durable.get(ino) ?? 0;
    const stop = Math.min(end, durable, fstatSync(fd).size);
    if (pos >= stop) return;
    const old = new Uint8Array(stop - pos);
    const n = readSync(fd, old, 0, old.length, pos);
    this.record({ t: "undo", ino, pos, data: Buffer.from(old.subarray(0, n)).toString("base64") });
  }

  /** An fsync that started at journal position `upto` with the file at `size` bytes succeeded. */
  synced(ino: string, size: number, upto: number): void {
    this.durable.set(ino, size);
    this.record({ t: "sync", ino, size, upto });
  }

  close(): void {
    closeSync(this.fd);
  }

  /** A directory fsync succeeded: its entries as they are now are durable. */
  dirSynced(dir: string): void {
    const entries: [string, string, boolean][] = [];
    for (const name of readdirSync(dir)) {
      let st;
      try {
        st = lstatSync(join(dir, name), { bigint: true });
      } catch {
        continue; // removed since the listing
      }
      const ino = String(st.ino);
      if (st.isDirectory()) entries.push([name, ino, true]);
      else if (st.isFile()) {
        const keep = join(this.inodesDir, ino);
        if (!existsSync(keep)) linkSync(join(dir, name), keep);
        entries.push([name, ino, false]);
      }
    }
    const fd = openSync(dir, "r");
    try {
      this.record({ t: "dir", ino: inoOf(fd), entries });
    } finally {
      closeSync(fd);
    }
  }
}

/** The journal of this process, or null (the default): set once from KLITE_CRASHSIM. */
export const crashJournal: CrashJournal | null = process.env.KLITE_CRASHSIM ? new CrashJournal(process.env.KLITE_CRASHSIM) : null;
