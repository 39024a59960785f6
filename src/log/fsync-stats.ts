// fsync count and latency, for /metrics. Process-wide: every broker of the
// process shares the disk, so one histogram describes what the disk did.
// Kinds: `data` (fdatasync of a segment or record log, the produce path's),
// `file` (fsync of a file written whole: checkpoints, metadata), `dir`
// (a directory's entries). Memory volumes never fsync, so they add nothing.

import { Histogram } from "../metrics/prometheus.ts";

/** From 50 µs (a write cache that absorbs flushes) to 10 s. */
const FSYNC_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

export const fsyncSeconds = new Histogram("klite_fsync_duration_seconds", "fsync and fdatasync calls on the data dir and how long each took, by kind (data, file, dir); process-wide.", FSYNC_BUCKETS);

const LABELS = { data: { kind: "data" }, file: { kind: "file" }, dir: { kind: "dir" } } as const;

/** Records one fsync that started at `startedMs` (performance.now()). */
export function fsyncDone(kind: keyof typeof LABELS, startedMs: number): void {
  fsyncSeconds.observe(LABELS[kind], (performance.now() - startedMs) / 1000);
}
