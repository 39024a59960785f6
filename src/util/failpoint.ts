// Test-only crash points. KLITE_TEST_FAILPOINT=<name> makes the broker kill
// itself with SIGKILL the moment it reaches failpoint(<name>), so crash tests
// can stop a real process at an exact step of a multi-step operation (the
// cleaner's swap). Never set it in production. When the variable is unset,
// failpoint() is an empty function: nothing is compared or allocated.

const armed = process.env.KLITE_TEST_FAILPOINT ?? "";

function crashAt(name: string): void {
  if (name !== armed) return;
  process.stderr.write(`klite: test failpoint ${name} reached, killing the process\n`);
  process.kill(process.pid, "SIGKILL");
}

export const failpoint: (name: string) => void = armed === "" ? () => {} : crashAt;
