// Test-only crash points. KLITE_TEST_FAILPOINT=name[,name...] makes the
// broker SIGKILL itself when it reaches a named point, so crash tests can stop
// it between two steps of a protocol (e.g. after a transaction's prepare
// record, before its markers). Never set it outside tests. Unset, a point
// costs one comparison against null.

const armed: ReadonlySet<string> | null = process.env.KLITE_TEST_FAILPOINT ? new Set(process.env.KLITE_TEST_FAILPOINT.split(",")) : null;

export function failpoint(name: string): void {
  if (armed === null || !armed.has(name)) return;
  process.stderr.write(`failpoint ${name}: killing the broker\n`);
  process.kill(process.pid, "SIGKILL");
}
