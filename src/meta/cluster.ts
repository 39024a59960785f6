// meta.properties in the data dir, as Kafka writes it: the cluster id is
// created once and kept, so clients see the same cluster across restarts.

import { exists, readText } from "../log/storage.ts";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { writeFileAtomic } from "../log/atomic-file.ts";

export interface ClusterIdentity {
  clusterId: string;
  nodeId: number;
}

function parseProperties(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split("\n")) {
    const t = line.trim();
    if (!t || t.startsWith("#")) continue;
    const eq = t.indexOf("=");
    if (eq > 0) m.set(t.slice(0, eq), t.slice(eq + 1));
  }
  return m;
}

/** Reads meta.properties, creating it on first start; refuses a data dir that belongs to another node id. */
export function loadClusterIdentity(dataDir: string, nodeId: number): ClusterIdentity {
  const path = join(dataDir, "meta.properties");
  if (exists(path)) {
    const props = parseProperties(readText(path));
    const clusterId = props.get("cluster.id");
    const storedNode = Number(props.get("node.id"));
    if (!clusterId) throw new Error(`${path} has no cluster.id`);
    if (storedNode !== nodeId) throw new Error(`${path} belongs to node.id ${storedNode}, not ${nodeId}`);
    return { clusterId, nodeId };
  }
  const clusterId = randomBytes(16).toString("base64url");
  const text = `#klite\ncluster.id=${clusterId}\nnode.id=${nodeId}\nversion=1\n`;
  writeFileAtomic(path, new TextEncoder().encode(text));
  return { clusterId, nodeId };
}
