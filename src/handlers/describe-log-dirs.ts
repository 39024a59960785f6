// DescribeLogDirs: klite has one log dir, the data dir. Each partition's size
// is the bytes of its segment files; total and usable bytes come from the
// data dir's filesystem, as Kafka reports its log dir's volume.

import { statfsSync } from "node:fs";
import { storageFor } from "../log/storage.ts";
import type * as Req from "../../generated/DescribeLogDirsRequest.ts";
import type * as Res from "../../generated/DescribeLogDirsResponse.ts";
import type { Broker } from "../broker.ts";
import type { Partition } from "../meta/topics.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { RequestContext } from "./registry.ts";

/** The partitions asked for (null: all of them), grouped by topic; unknown ones are left out, as Kafka does. */
function wanted(broker: Broker, topics: Req.DescribableLogDirTopic[] | null): Map<string, Partition[]> {
  const out = new Map<string, Partition[]>();
  const add = (name: string, p: Partition) => {
    const list = out.get(name);
    if (list) list.push(p);
    else out.set(name, [p]);
  };
  if (topics === null) {
    for (const t of broker.topics.all()) for (const p of t.partitions) add(t.name, p);
    return out;
  }
  for (const rt of topics) {
    const t = broker.topics.get(rt.topic);
    for (const i of new Set(rt.partitions)) {
      const p = t?.partitions[i];
      if (p && !out.get(rt.topic)?.includes(p)) add(rt.topic, p);
    }
  }
  return out;
}

export function handleDescribeLogDirs(broker: Broker, req: Req.DescribeLogDirsRequest, _ctx: RequestContext): Res.DescribeLogDirsResponseInit {
  const dir = broker.options.dataDir;
  let totalBytes = -1n;
  let usableBytes = -1n;
  let errorCode: number = ErrorCode.NONE;
  // A memory data dir has no file system to measure: both stay unknown (-1), as Kafka reports them when it cannot tell.
  if (storageFor(dir).durable) {
    try {
      const fs = statfsSync(dir);
      totalBytes = BigInt(fs.blocks) * BigInt(fs.bsize);
      usableBytes = BigInt(fs.bavail) * BigInt(fs.bsize);
    } catch {
      errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
    }
  }
  const topics = [...wanted(broker, req.topics)].map(([name, parts]) => ({
    name,
    partitions: parts.map((p) => ({
      partitionIndex: p.index,
      partitionSize: BigInt(p.log.sizeBytes()),
      // The lag of the log end behind the high watermark: none with one replica.
      offsetLag: 0n,
      isFutureKey: false,
    })),
  }));
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    results: [{ errorCode, logDir: dir, topics: errorCode === ErrorCode.NONE ? topics : [], totalBytes, usableBytes, isCordoned: false }],
  };
}
