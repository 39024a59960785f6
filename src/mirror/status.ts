// Lag per partition without copying anything (`klite mirror --status`): the
// source's last stable offset against what the target holds, read from the
// target's log end (offsets preserved) or the last offset sync (translated).
// Also the Prometheus text of a running mirror's /metrics.

import { LATEST, type KafkaClient } from "../client/client.ts";
import type { PartitionLag } from "./mirror.ts";
import type { MirrorOptions } from "./options.ts";
import { ProgressStore, progressKey } from "./progress.ts";
import { sourceTopics } from "./topics.ts";

const READ_COMMITTED = 1;

export async function mirrorStatus(source: KafkaClient, target: KafkaClient, o: MirrorOptions): Promise<PartitionLag[]> {
  const cluster = (await source.metadata([])).clusterId ?? "source";
  const progress = new ProgressStore(target, o.progressTopic);
  await progress.load();
  const out: PartitionLag[] = [];
  for (const t of (await sourceTopics(source, o)).sort((a, b) => a.name.localeCompare(b.name))) {
    const ps = t.partitions.map((p) => p.partition);
    const ends = await source.listOffsets(t, ps, LATEST, READ_COMMITTED);
    const md = await target.metadata([t.name]);
    const tt = md.topics.find((x) => x.name === t.name && x.errorCode === 0);
    const targetEnds = tt ? await target.listOffsets(tt, tt.partitions.map((p) => p.partition), LATEST) : new Map<number, bigint>();
    for (const p of ps) {
      const e = progress.entries.get(progressKey(cluster, t.name, p));
      const sourceEnd = ends.get(p)!;
      const mirrored = !e ? 0n : e.mode === "identity" ? (targetEnds.get(p) ?? 0n) : e.source;
      out.push({ topic: t.name, partition: p, mode: e?.mode ?? "map", sourceEnd, mirrored, lag: sourceEnd > mirrored ? sourceEnd - mirrored : 0n });
    }
  }
  return out;
}

function label(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

export function renderMetrics(lags: readonly PartitionLag[], records: number, bytes: number): string {
  const lines = [
    "# HELP klite_mirror_lag_offsets Offsets on the source not yet on the target (-1 before the first fetch).",
    "# TYPE klite_mirror_lag_offsets gauge",
    ...lags.map((l) => `klite_mirror_lag_offsets{topic="${label(l.topic)}",partition="${l.partition}"} ${l.lag}`),
    "# HELP klite_mirror_source_end_offset The source partition's last stable offset.",
    "# TYPE klite_mirror_source_end_offset gauge",
    ...lags.map((l) => `klite_mirror_source_end_offset{topic="${label(l.topic)}",partition="${l.partition}"} ${l.sourceEnd}`),
    "# HELP klite_mirror_records_total Records written to the target.",
    "# TYPE klite_mirror_records_total counter",
    `klite_mirror_records_total ${records}`,
    "# HELP klite_mirror_bytes_total Record batch bytes written to the target.",
    "# TYPE klite_mirror_bytes_total counter",
    `klite_mirror_bytes_total ${bytes}`,
  ];
  return lines.join("\n") + "\n";
}
