// StartOptions → klite command-line flags, shared by the Node launcher and
// the Bun entry (which checks them with the broker's own parser). A broker
// option's flag is its camelCase name in kebab case, e.g.
// groupInitialRebalanceDelayMs → --group-initial-rebalance-delay-ms.

/** @param {import("./types.d.ts").StartOptions} o @param {string} dataDir @returns {string[]} */
export function brokerFlags(o, dataDir) {
  const host = o.host ?? "127.0.0.1";
  const flags = ["--listen", `${host.includes(":") ? `[${host}]` : host}:${o.port ?? 0}`, "--data-dir", dataDir, "--log-level", o.logLevel ?? "warn"];
  if (o.partitions !== undefined) flags.push("--default-partitions", String(o.partitions));
  if (o.autoCreateTopics !== undefined) flags.push(`--auto-create-topics=${o.autoCreateTopics}`);
  for (const [k, v] of Object.entries(o.broker ?? {})) flags.push(`--${k.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}=${v}`);
  for (const t of o.topics ?? []) {
    const spec = typeof t === "string" ? { name: t } : t;
    const configs = Object.entries(spec.configs ?? {}).map(([k, v]) => `,${k}=${v}`).join("");
    flags.push("--create-topic", `${spec.name}${spec.partitions === undefined ? "" : `:${spec.partitions}`}${configs}`);
  }
  return flags;
}
