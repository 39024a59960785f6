// Run by crash-sim.test.ts as a separate process with KLITE_CRASHSIM set (the
// simulator is chosen once, at load): a script of file operations whose
// durable outcome is known, in the data dir given as argument.

import { mkdirSync, renameSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { DataFile } from "../../src/log/data-file.ts";
import { fsyncDir, writeFileAtomic } from "../../src/log/atomic-file.ts";

const dir = process.argv[2]!;
const text = (s: string) => new TextEncoder().encode(s);

const a = DataFile.create(join(dir, "a"));
a.write(text("hello "), 0);
await a.sync();
const b = DataFile.create(join(dir, "b"));
b.write(text("0123456789"), 0);
b.syncNow();
writeFileAtomic(join(dir, "e"), text("keep-me"));
writeFileAtomic(join(dir, "f"), text("old-name"));
writeFileAtomic(join(dir, "d"), text("v1")); // the last directory fsync of dir: a, b, d, e, f are durable
writeFileAtomic(join(dir, "d"), text("v2"), { fsync: false });
const c = DataFile.create(join(dir, "c"));
c.write(text("never-linked"), 0);
c.syncNow();
a.write(text("world"), 6);
b.write(text("abc"), 2);
b.truncate(5);
unlinkSync(join(dir, "e"));
renameSync(join(dir, "f"), join(dir, "g"));
mkdirSync(join(dir, "sub"));
writeFileAtomic(join(dir, "sub", "x"), text("in-sub")); // durable inside sub, but sub itself is not in dir
fsyncDir(join(dir, "sub"));
