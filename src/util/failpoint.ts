// Test-only crash points. KLITE_TEST_FAILPOINT=name[@N][,name[@N]...] makes
// the broker SIGKILL itself the Nth time (default: the first) it reaches a
// named point, so crash tests can stop a real process between two steps of a
// protocol (a transaction's prepare record and its markers, the cleaner's
// segment swap). Never set it outside tests. Unset, failpoint() is an empty
// function: nothing is compared or allocated.

function parse(spec: string | undefined): Map<string, number> | null {
  if (!spec) return null;
  const hits = new Map<string, number>();
  for (const item of spec.split(",")) {
    const [name, n] = item.split("@");
    if (name) hits.set(name, n ? Number(n) : 1);
  }
  return hits.size > 0 ? hits : null;
}

const armed = parse(process.env.KLITE_TEST_FAILPOINT);

function crashAt(name: string): void {
  const left = armed!.get(name);
  if (left === undefined) return;
  if (left > 1) {
    armed!.set(name, left - 1);
    return;
  }
  process.stderr.write(`klite: test failpoint ${name} reached, killing the process\n`);
  process.kill(process.pid, "SIGKILL");
}

export const failpoint: (name: string) => void = armed === null ? () => {} : crashAt;
