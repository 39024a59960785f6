import { expect, test } from "bun:test";
// The memory volume behind --memory: chunked files (reads and writes across
// chunk boundaries, truncation zeroes what grows back) and the directory
// operations the broker uses, through the storage seam as the broker calls them.
import { join } from "node:path";
import { DataFile } from "../../src/log/data-file.ts";
import { MemoryInode, mountMemoryVolume, unmountMemoryVolume } from "../../src/log/memory-volume.ts";
import { exists, listDir, makeDir, readText, removeTree, renamePath, statPath, storageFor, unlinkPath } from "../../src/log/storage.ts";
import { writeFileAtomic } from "../../src/log/atomic-file.ts";
test("chunked inode round trip", () => {
  const f = new MemoryInode();
  const data = new Uint8Array(3_500_000).map((_, i) => (i * 7) & 255);
  for (let p = 0; p < data.length; p += 12345) f.write(data.subarray(p, Math.min(data.length, p + 12345)), p);
  expect(f.size).toBe(data.length);
  expect(f.contents()).toEqual(data);
  const part = new Uint8Array(2_000_000);
  expect(f.read(part, 1_000_000, 2_000_000)).toBe(2_000_000);
  expect(part).toEqual(data.subarray(1_000_000, 3_000_000));
  f.truncate(1_500_000);
  f.truncate(2_500_000);
  const back = f.contents();
  expect(back.subarray(0, 1_500_000)).toEqual(data.subarray(0, 1_500_000));
  expect(back.subarray(1_500_000).every((b) => b === 0)).toBe(true);
  const small = new MemoryInode();
  small.write(new Uint8Array([1, 2, 3]), 10);
  expect([...small.contents()]).toEqual([0,0,0,0,0,0,0,0,0,0,1,2,3]);
  expect(small.capacity()).toBeLessThan(1024);
});

test("directory operations through the storage seam, and open files outliving their unlink", () => {
  const v = mountMemoryVolume();
  try {
    const dir = join(v.root, "t-0");
    expect(storageFor(dir).durable).toBe(false);
    expect(() => DataFile.create(join(dir, "a.log"))).toThrow(/ENOENT/);
    makeDir(dir);
    expect(exists(dir)).toBe(true);
    const f = DataFile.create(join(dir, "a.log"));
    f.write(new TextEncoder().encode("hello"), 0);
    writeFileAtomic(join(dir, "meta"), new TextEncoder().encode("m1"));
    writeFileAtomic(join(dir, "meta"), new TextEncoder().encode("m2"));
    expect(readText(join(dir, "meta"))).toBe("m2");
    expect(listDir(dir).sort()).toEqual(["a.log", "meta"]);
    expect(listDir(v.root)).toEqual(["t-0"]);
    expect(statPath(join(dir, "a.log")).size).toBe(5);
    unlinkPath(join(dir, "a.log"));
    expect(() => unlinkPath(join(dir, "a.log"))).toThrow(/ENOENT/);
    // Like a POSIX fd: the open file still reads what it had.
    const back = new Uint8Array(5);
    expect(f.read(back, 0)).toBe(5);
    expect(new TextDecoder().decode(back)).toBe("hello");
    f.close();
    renamePath(dir, join(v.root, "t-0.x-delete"));
    expect(listDir(v.root)).toEqual(["t-0.x-delete"]);
    expect(readText(join(v.root, "t-0.x-delete", "meta"))).toBe("m2");
    removeTree(join(v.root, "t-0.x-delete"));
    expect(listDir(v.root)).toEqual([]);
  } finally {
    unmountMemoryVolume(v.root);
  }
  expect(() => exists(join(v.root, "x"))).toThrow(/no memory volume/);
});
