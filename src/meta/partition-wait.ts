// Long polls: wait until one of some partitions has new data (or another
// waker set fires), or a timeout. Each waiter removes itself everywhere.

import type { Partition } from "./topics.ts";

export function waitForPartitions(parts: Iterable<Partition>, ms: number, also?: Set<() => void>): Promise<void> {
  return new Promise((resolve) => {
    const registered: Partition[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const wake = () => {
      clearTimeout(timer);
      for (const p of registered) p.waiters.delete(wake);
      also?.delete(wake);
      resolve();
    };
    for (const p of parts) {
      p.waiters.add(wake);
      registered.push(p);
    }
    also?.add(wake);
    timer = setTimeout(wake, ms);
  });
}
