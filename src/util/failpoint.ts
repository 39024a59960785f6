// Test-only crash points. KLITE_TEST_FAILPOINT=name[@N][,name[@N]...] makes
// the broker SIGKILL itself the Nth time (default: the first) it reaches a
// named point, so crash tests can stop it between two steps of a protocol
// (e.g. after a transaction's prepare record, before its markers). Never set
// it outside tests. Unset, a point costs one comparison against null.

function parse(spec: string | undefined): Map<string, number> | null {
  if (!spec) return null;
  const hits = new Map<string, number>();
  for (const item of spec.split(",")) {
    const [name, n] = item.split("@");
    if (name) hits.set(name, n ? Number(n) : 1);
  }
  return hits;
}

const armed = parse(process.env.KLITE_TEST_FAILPOINT);

export function failpoint(name: string): void {
  if (armed === null) return;
  const left = armed.get(name);
  if (left === undefined) return;
  if (left > 1) {
    armed.set(name, left - 1);
    return;
  }
  process.stderr.write(`failpoint ${name}: killing the broker\n`);
  process.kill(process.pid, "SIGKILL");
}
