// The test harness itself: process runner, polling, and broker start/stop/
// restart/cleanup, so that a broken helper shows up here and not as a
// mysterious failure somewhere else.

import { describe, expect, test } from "bun:test";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnBroker, tempDir, withInProcessBroker, withSpawnedBroker } from "../helpers/broker.ts";
import { run, runJson, runOk, waitFor } from "../helpers/run.ts";
import { frameReader } from "../helpers/frames.ts";

/** A Kafka request frame: ApiVersions v0 (header v1, empty body). */
function apiVersionsV0(correlationId: number): Uint8Array {
  const client = new TextEncoder().encode("harness");
  const frame = new Uint8Array(4 + 2 + 2 + 4 + 2 + client.length);
  const v = new DataView(frame.buffer);
  v.setInt32(0, frame.length - 4);
  v.setInt16(4, 18);
  v.setInt16(6, 0);
  v.setInt32(8, correlationId);
  v.setInt16(12, client.length);
  frame.set(client, 14);
  return frame;
}

/** Sends ApiVersions v0 and resolves to the correlation id of the answer. */
async function ping(port: number): Promise<number> {
  let resolve!: (n: number) => void;
  const answered = new Promise<number>((r) => (resolve = r));
  const onData = frameReader((frame) => resolve(new DataView(frame.buffer, frame.byteOffset).getInt32(0)));
  const sock = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, d) {
        onData(d);
      },
    },
  });
  sock.write(apiVersionsV0(4242));
  try {
    return await answered;
  } finally {
    sock.end();
  }
}

describe.concurrent("run", () => {
  test("collects stdout, stderr, exit code and stdin", async () => {
    const r = await run(["sh", "-c", "cat; echo err >&2; exit 3"], { stdin: "hello" });
    expect(r).toEqual({ code: 3, stdout: "hello", stderr: "err\n", timedOut: false });
  });

  test("passes env and cwd", async () => {
    const dir = tempDir();
    const out = await runOk(["sh", "-c", 'echo "$KLITE_X $(pwd)"'], { env: { KLITE_X: "x1" }, cwd: dir });
    expect(out.trim()).toBe(`x1 ${dir}`);
  });

  test("kills a process that runs past its timeout", async () => {
    const r = await run(["sleep", "30"], { timeoutMs: 200 });
    expect(r.timedOut).toBe(true);
    expect(r.code).not.toBe(0);
    await expect(runOk(["sleep", "30"], { timeoutMs: 200 })).rejects.toThrow(/timed out after 200 ms/);
  });

  test("runOk and runJson report failures with the output", async () => {
    await expect(runOk(["sh", "-c", "echo boom >&2; exit 1"])).rejects.toThrow(/exited 1[\s\S]*boom/);
    expect(await runJson(["echo", '{"a":1}'])).toEqual({ a: 1 });
    await expect(runJson(["echo", "not json"])).rejects.toThrow(/printed no JSON/);
  });

  test("waitFor polls until the condition holds, or names what it waited for", async () => {
    let n = 0;
    await waitFor(() => ++n >= 3, 5000);
    expect(n).toBe(3);
    await expect(waitFor(() => false, 100, "the impossible")).rejects.toThrow(/the impossible/);
  });
});

describe.concurrent("brokers", () => {
  test("a subprocess broker: listening line, stop = SIGTERM exit 0, restart on the same port and dir, cleanup", async () => {
    const b = await spawnBroker({ args: ["--fsync", "never"], env: { KLITE_LOG_LEVEL: "debug" } });
    expect(b.host).toBe("127.0.0.1");
    expect(b.port).toBeGreaterThan(0);
    expect(b.bootstrap).toBe(`127.0.0.1:${b.port}`);
    expect(b.stdout()).toMatch(/listening on 127\.0\.0\.1:\d+/);
    expect(await ping(b.port)).toBe(4242);
    expect(await b.stop()).toBe(0);
    const again = await b.restart();
    expect(again.port).toBe(b.port);
    expect(again.dataDir).toBe(b.dataDir);
    expect(await ping(again.port)).toBe(4242);
    await again.kill9();
    expect(again.proc.signalCode).toBe("SIGKILL");
    const third = await again.restart();
    // Cleaning up the first one takes its successors with it.
    await b.cleanup();
    expect(third.proc.killed || third.proc.exitCode !== null).toBe(true);
    await third.proc.exited;
    expect(existsSync(b.dataDir)).toBe(false);
  });

  test("a broker that cannot start fails with its stderr, and a caller's data dir is kept", async () => {
    const dir = tempDir();
    const file = join(dir, "not-a-dir");
    writeFileSync(file, "x");
    await expect(spawnBroker({ args: ["--fsync", "sometimes"] })).rejects.toThrow(/exited with code 2[\s\S]*--- stderr[\s\S]*fsync/);
    const b = await spawnBroker({ dataDir: dir, keep: false });
    await b.cleanup();
    expect(existsSync(file)).toBe(true);
    rmSync(dir, { recursive: true });
  });

  test("withSpawnedBroker and withInProcessBroker clean up after themselves", async () => {
    let spawnedDir = "";
    await withSpawnedBroker({}, async (b) => {
      spawnedDir = b.dataDir;
      expect(await ping(b.port)).toBe(4242);
    });
    expect(existsSync(spawnedDir)).toBe(false);
    let inDir = "";
    await expect(
      withInProcessBroker({}, async (b) => {
        inDir = b.dataDir;
        expect(b.bootstrap).toBe(`127.0.0.1:${b.port}`);
        expect(await ping(b.port)).toBe(4242);
        throw new Error("test failed");
      }),
    ).rejects.toThrow("test failed");
    expect(existsSync(inDir)).toBe(false);
  });
});
