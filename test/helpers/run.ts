// Runs a client process with a timeout and collects its output, and polls for
// conditions so that tests wait for what they need instead of sleeping.

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The process was killed because it ran past its timeout. */
  timedOut: boolean;
}

export interface RunOptions {
  stdin?: string | Uint8Array;
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

export async function run(cmd: string[], opts: RunOptions = {}): Promise<RunResult> {
  const stdin = opts.stdin === undefined ? "ignore" : typeof opts.stdin === "string" ? new TextEncoder().encode(opts.stdin) : opts.stdin;
  const p = Bun.spawn(cmd, {
    stdin,
    stdout: "pipe",
    stderr: "pipe",
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    p.kill(9);
  }, opts.timeoutMs ?? 60_000);
  try {
    const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    return { code, stdout, stderr, timedOut };
  } finally {
    clearTimeout(timer);
  }
}

/** Like run(), but throws with the output when the exit code is not 0. */
export async function runOk(cmd: string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(cmd, opts);
  if (r.code !== 0) {
    const why = r.timedOut ? `timed out after ${opts.timeoutMs ?? 60_000} ms` : `exited ${r.code}`;
    throw new Error(`${cmd.slice(0, 4).join(" ")}… ${why}\n--- stderr (tail)\n${r.stderr.slice(-4000)}\n--- stdout (tail)\n${r.stdout.slice(-2000)}`);
  }
  return r.stdout;
}

/** Runs a client script that prints one JSON document on stdout and parses it. */
export async function runJson<T = unknown>(cmd: string[], opts: RunOptions = {}): Promise<T> {
  const out = await runOk(cmd, opts);
  try {
    return JSON.parse(out) as T;
  } catch {
    throw new Error(`${cmd.slice(0, 4).join(" ")}… printed no JSON:\n${out.slice(-2000)}`);
  }
}

/** Polls until `cond` holds (instead of sleeping a fixed time). */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(20);
  }
}

/** Pushes each non-empty line of a child's stdout, parsed as JSON, onto `into` as it arrives; settles at the end of the stream. */
export function collectJsonLines<T>(stdout: ReadableStream<Uint8Array>, into: T[]): Promise<void> {
  return (async () => {
    const decoder = new TextDecoder();
    let rest = "";
    for await (const chunk of stdout) {
      rest += decoder.decode(chunk, { stream: true });
      let i: number;
      while ((i = rest.indexOf("\n")) >= 0) {
        const line = rest.slice(0, i).trim();
        rest = rest.slice(i + 1);
        if (line) into.push(JSON.parse(line) as T);
      }
    }
  })();
}
