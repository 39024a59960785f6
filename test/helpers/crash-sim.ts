// The crash simulator, test side: a data dir whose broker runs with
// KLITE_CRASHSIM (see src/log/crash-journal.ts), and powerCut(), which turns
// the data dir into what a power loss at this instant would leave on disk:
// every file back to its bytes at its last recorded fsync (old bytes of
// durable ranges put back, unsynced tails dropped, or torn: a random part of
// them kept, optionally ending in garbage), every directory back to its
// entries at its last directory fsync (files created or renamed in since
// then are gone, files unlinked or renamed over since then are back). Run it
// after kill -9 of the broker, then start a broker on the same data dir.

import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CrashJournal, readJournal, replay, type InodeState } from "../../src/log/crash-journal.ts";
import { spawnBroker, tempDir, type SpawnedBroker, type SpawnOptions } from "./broker.ts";
import { rng } from "./random.ts";

export type TornTail =
  /** Exactly the synced bytes. */
  | "drop"
  /** A random prefix of the unsynced bytes survives, as when some pages reached the disk. */
  | "prefix"
  /** A random prefix survives and its last part is random garbage (a torn sector write). */
  | "garbage";

export interface PowerCutOptions {
  torn?: TornTail;
  /** Seed of the random choices (torn lengths, garbage), for reproducible failures. */
  seed?: number;
}

export interface PowerCutFile {
  path: string;
  /** Bytes on disk before the cut. */
  before: number;
  /** Bytes durable per the journal. */
  durable: number;
  /** Bytes after the cut (durable plus whatever torn tail was kept). */
  after: number;
}

export interface PowerCutReport {
  /** Files present after the cut, with what they lost. */
  files: PowerCutFile[];
  /** Paths (relative to the data dir) that existed before the cut and do not after. */
  vanished: string[];
  /** Bytes of all files before and after the cut. */
  bytesBefore: number;
  bytesAfter: number;
}

export interface CrashSim {
  /** The simulator's directory (journal, kept inodes, fault rules). */
  readonly dir: string;
  readonly dataDir: string;
  /** Environment for a broker process that reports to this simulator. */
  readonly env: Record<string, string>;
  /** Starts a broker on the data dir with the simulator on. */
  spawn(opts?: Omit<SpawnOptions, "dataDir">): Promise<SpawnedBroker>;
  /** Replaces the fault rules ("OP ACTION PATH-SUBSTRING" lines; none: no faults). */
  setFaults(rules: string[]): void;
  /** Cuts the power: call only with no broker running on the data dir. */
  powerCut(opts?: PowerCutOptions): PowerCutReport;
  cleanup(): void;
}

/** The bytes a power cut leaves of one inode: its current bytes with the undo records since its last fsync applied. */
function durableBytes(current: Uint8Array, state: InodeState | undefined): Uint8Array {
  if (!state) return new Uint8Array(0);
  const buf = new Uint8Array(Math.max(state.size, current.length));
  buf.set(current);
  for (let i = state.undos.length - 1; i >= 0; i--) {
    const u = state.undos[i]!;
    buf.set(u.data, u.pos);
  }
  return buf.subarray(0, state.size);
}

function listTree(root: string, rel = ""): Map<string, number> {
  const out = new Map<string, number>();
  for (const name of readdirSync(join(root, rel))) {
    const p = rel ? join(rel, name) : name;
    const st = lstatSync(join(root, p));
    if (st.isDirectory()) for (const [k, v] of listTree(root, p)) out.set(k, v);
    else out.set(p, st.size);
  }
  return out;
}

/** Records the whole tree as durable: the starting point of a simulation. */
function baseline(journal: CrashJournal, dir: string): void {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (st.isDirectory()) baseline(journal, p);
    else if (st.isFile()) {
      const ino = String(lstatSync(p, { bigint: true }).ino);
      journal.record({ t: "sync", ino, size: st.size, upto: journal.position });
    }
  }
  journal.dirSynced(dir);
}

function resetJournal(dir: string, dataDir: string): void {
  rmSync(join(dir, "journal"), { force: true });
  rmSync(join(dir, "inodes"), { recursive: true, force: true });
  const journal = new CrashJournal(dir);
  journal.record({ t: "root", ino: String(lstatSync(dataDir, { bigint: true }).ino) });
  baseline(journal, dataDir);
  journal.close();
}

export function crashSim(): CrashSim {
  const base = tempDir("klite-crashsim-");
  const dir = join(base, "sim");
  const dataDir = join(base, "data");
  mkdirSync(dir);
  mkdirSync(dataDir);
  resetJournal(dir, dataDir);
  const env = { KLITE_CRASHSIM: dir };
  return {
    dir,
    dataDir,
    env,
    spawn: (opts = {}) => spawnBroker({ ...opts, dataDir, env: { ...opts.env, ...env } }),
    setFaults(rules) {
      if (rules.length === 0) rmSync(join(dir, "faults"), { force: true });
      else writeFileSync(join(dir, "faults"), rules.join("\n") + "\n");
    },
    powerCut(opts = {}) {
      const torn = opts.torn ?? "garbage";
      const random = rng(opts.seed ?? Date.now());
      const state = replay(readJournal(join(dir, "journal")));
      if (!state.root) throw new Error("crash simulator journal has no root");
      const before = listTree(dataDir);
      const rebuilt = join(dir, "rebuilt");
      rmSync(rebuilt, { recursive: true, force: true });
      const files: PowerCutFile[] = [];
      const build = (dirIno: string, into: string, rel: string) => {
        mkdirSync(into);
        for (const [name, ino, isDir] of state.dirs.get(dirIno) ?? []) {
          const relPath = rel ? join(rel, name) : name;
          if (isDir) {
            build(ino, join(into, name), relPath);
            continue;
          }
          const kept = join(dir, "inodes", ino);
          const current = existsSync(kept) ? new Uint8Array(readFileSync(kept)) : new Uint8Array(0);
          const durable = durableBytes(current, state.inodes.get(ino));
          let tail = current.subarray(durable.length, current.length);
          if (torn === "drop" || current.length < durable.length) tail = tail.subarray(0, 0);
          else tail = Uint8Array.from(tail.subarray(0, Math.floor(random() * (tail.length + 1))));
          if (torn === "garbage" && tail.length > 0) {
            const from = Math.floor(random() * tail.length);
            for (let i = from; i < tail.length; i++) tail[i] = Math.floor(random() * 256);
          }
          const out = new Uint8Array(durable.length + tail.length);
          out.set(durable);
          out.set(tail, durable.length);
          writeFileSync(join(into, name), out);
          files.push({ path: relPath, before: before.get(relPath) ?? current.length, durable: durable.length, after: out.length });
        }
      };
      build(state.root, rebuilt, "");
      rmSync(dataDir, { recursive: true, force: true });
      renameSync(rebuilt, dataDir);
      resetJournal(dir, dataDir);
      const after = listTree(dataDir);
      const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
      return { files, vanished: [...before.keys()].filter((p) => !after.has(p)), bytesBefore: total(before), bytesAfter: total(after) };
    },
    cleanup() {
      if (process.env.KLITE_KEEP_DATA !== "1") rmSync(base, { recursive: true, force: true });
    },
  };
}
