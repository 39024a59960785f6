// Broker options: one table drives the command-line flags, the KLITE_*
// environment variables and the --help text, so the three never drift apart.

export interface BrokerOptions {
  listen: string;
  advertisedAddr: string | null;
  dataDir: string;
  /** Keep everything in memory (also `--data-dir :memory:`): nothing touches the disk. */
  memory: boolean;
  nodeId: number;
  autoCreateTopics: boolean;
  defaultPartitions: number;
  maxRequestBytes: number;
  fsync: "group" | "never";
  messageMaxBytes: number;
  segmentBytes: number;
  maxOpenSegmentFiles: number;
  segmentMs: number;
  retentionMs: number;
  retentionBytes: number;
  logLevel: "error" | "warn" | "info" | "debug";
  logFormat: "text" | "json";
  groupInitialRebalanceDelayMs: number;
  groupConsumerHeartbeatIntervalMs: number;
  groupConsumerSessionTimeoutMs: number;
  groupShareRecordLockDurationMs: number;
  groupShareDeliveryCountLimit: number;
  groupSharePartitionMaxRecordLocks: number;
  transactionMaxTimeoutMs: number;
  transactionalIdExpirationMs: number;
  logCleanerEnable: boolean;
  logCleanerBackoffMs: number;
  logCleanerDedupeBufferSize: number;
  logRetentionCheckIntervalMs: number;
  httpListen: string;
  maxConnections: number;
  maxConnectionsPerIp: number;
  connectionsMaxIdleMs: number;
  requestReadTimeoutMs: number;
  queuedMaxRequestBytes: number;
  maxPartitionsPerTopic: number;
  maxTopicsPerRequest: number;
  maxPartitionsPerRequest: number;
  tlsCert: string;
  tlsKey: string;
  tlsCa: string;
  tlsClientAuth: "none" | "requested" | "required";
  saslEnabledMechanisms: string;
  saslUser: string[];
  saslPassword: string[];
  saslMechanism: string[];
  connectionsMaxReauthMs: number;
  connectionFailedAuthenticationDelayMs: number;
  authorizer: boolean;
  allowEveryoneIfNoAclFound: boolean;
  superUsers: string;
}

/** "list": repeatable, each occurrence one element (the environment variable: comma-separated). */
type Kind = "string" | "int" | "bool" | "enum" | "list";
interface OptionSpec {
  key: keyof BrokerOptions;
  flag: string;
  kind: Kind;
  values?: readonly string[];
  /** A string flag that may be repeated: the occurrences are joined with commas (Kafka's `listeners` notation). */
  repeatable?: boolean;
  help: string;
}

export const OPTION_SPECS: readonly OptionSpec[] = [
  { key: "listen", flag: "--listen", kind: "string", repeatable: true, help: "listener, [PROTOCOL://]HOST:PORT with PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL; repeatable (default :9092: PLAINTEXT on every interface)" },
  { key: "advertisedAddr", flag: "--advertised-addr", kind: "string", repeatable: true, help: "HOST:PORT Metadata tells clients of each listener to connect to, in --listen order or as NAME://HOST:PORT; repeatable (default: derived from --listen)" },
  { key: "tlsCert", flag: "--tls-cert", kind: "string", help: "PEM certificate (chain) of SSL and SASL_SSL listeners" },
  { key: "tlsKey", flag: "--tls-key", kind: "string", help: "PEM private key of --tls-cert" },
  { key: "tlsCa", flag: "--tls-ca", kind: "string", help: "PEM CA certificates that client certificates must chain to" },
  { key: "tlsClientAuth", flag: "--tls-client-auth", kind: "enum", values: ["none", "requested", "required"], help: "client certificates on SSL/SASL_SSL listeners: none (default), requested, required" },
  { key: "saslEnabledMechanisms", flag: "--sasl-enabled-mechanisms", kind: "string", help: "SASL mechanisms offered, comma-separated (default PLAIN,SCRAM-SHA-256,SCRAM-SHA-512; OAUTHBEARER is unsecured, development only)" },
  { key: "saslUser", flag: "--sasl-user", kind: "list", help: "a user created at startup; repeatable, paired in order with --sasl-password" },
  { key: "saslPassword", flag: "--sasl-password", kind: "list", help: "password of the --sasl-user in the same position" },
  { key: "saslMechanism", flag: "--sasl-mechanism", kind: "list", help: "mechanisms of the --sasl-user in the same position (comma-separated), or once for all users (default PLAIN,SCRAM-SHA-256,SCRAM-SHA-512)" },
  { key: "connectionFailedAuthenticationDelayMs", flag: "--connection-failed-authentication-delay-ms", kind: "int", help: "answer to a failed authentication held back this long, doubling per failure from the same address up to 5 s (default 100; 0: none)" },
  { key: "connectionsMaxReauthMs", flag: "--connections-max-reauth-ms", kind: "int", help: "SASL session lifetime; clients re-authenticate (KIP-368), others are disconnected (default 0: sessions never expire)" },
  { key: "authorizer", flag: "--authorizer", kind: "bool", help: "enforce ACLs (Kafka's authorizer.class.name); without it every request is allowed and the ACL APIs answer SECURITY_DISABLED (default false)" },
  { key: "allowEveryoneIfNoAclFound", flag: "--allow-everyone-if-no-acl-found", kind: "bool", help: "with --authorizer, allow access to a resource no ACL names (default false: deny)" },
  { key: "superUsers", flag: "--super-users", kind: "string", help: "principals the authorizer always allows, semicolon-separated: User:admin;User:ops (default none)" },
  { key: "dataDir", flag: "--data-dir", kind: "string", help: "where partitions and metadata live (default ./data; :memory: = --memory)" },
  { key: "memory", flag: "--memory", kind: "bool", help: "keep all data in memory, nothing on disk; bounded by retention (default false)" },
  { key: "nodeId", flag: "--node-id", kind: "int", help: "this broker's node id (default 1)" },
  { key: "autoCreateTopics", flag: "--auto-create-topics", kind: "bool", help: "create unknown topics on Metadata/Produce (default true)" },
  { key: "defaultPartitions", flag: "--default-partitions", kind: "int", help: "partitions of auto-created topics and of CreateTopics without a count (default 1)" },
  { key: "maxRequestBytes", flag: "--max-request-bytes", kind: "int", help: "largest request frame accepted; larger ones close the connection (default 104857600)" },
  { key: "fsync", flag: "--fsync", kind: "enum", values: ["group", "never"], help: "group: ack after a shared fsync (default); never: ack after write(2)" },
  { key: "messageMaxBytes", flag: "--message-max-bytes", kind: "int", help: "default max.message.bytes of topics (default 1048588)" },
  { key: "segmentBytes", flag: "--segment-bytes", kind: "int", help: "default segment.bytes (default 1073741824)" },
  { key: "maxOpenSegmentFiles", flag: "--max-open-segment-files", kind: "int", help: "sealed segments kept open for reads at once; the least recently read are closed past this (default 128; active segments, one per partition, come on top)" },
  { key: "segmentMs", flag: "--segment-ms", kind: "int", help: "default segment.ms (default 604800000)" },
  { key: "retentionMs", flag: "--retention-ms", kind: "int", help: "default retention.ms, -1 forever (default 604800000)" },
  { key: "retentionBytes", flag: "--retention-bytes", kind: "int", help: "default retention.bytes per partition, -1 unlimited (default -1)" },
  { key: "logLevel", flag: "--log-level", kind: "enum", values: ["error", "warn", "info", "debug"], help: "log verbosity on stderr (default info)" },
  { key: "logFormat", flag: "--log-format", kind: "enum", values: ["text", "json"], help: "log lines as text (default) or JSON objects {time, level, msg}" },
  { key: "groupInitialRebalanceDelayMs", flag: "--group-initial-rebalance-delay-ms", kind: "int", help: "wait before the first rebalance of a new classic group (default 0)" },
  { key: "groupConsumerHeartbeatIntervalMs", flag: "--group-consumer-heartbeat-interval-ms", kind: "int", help: "heartbeat interval of KIP-848 consumer groups (default 500; Kafka's is 5000, tuned for clusters)" },
  { key: "groupConsumerSessionTimeoutMs", flag: "--group-consumer-session-timeout-ms", kind: "int", help: "session timeout of KIP-848 consumer group members (default 10000; Kafka's is 45000)" },
  { key: "groupShareRecordLockDurationMs", flag: "--group-share-record-lock-duration-ms", kind: "int", help: "share groups: how long a delivered record stays locked to its consumer (default 30000)" },
  { key: "groupShareDeliveryCountLimit", flag: "--group-share-delivery-count-limit", kind: "int", help: "share groups: deliveries of a record before it is archived (default 5)" },
  { key: "groupSharePartitionMaxRecordLocks", flag: "--group-share-partition-max-record-locks", kind: "int", help: "share groups: records in flight per share-partition (default 2000)" },
  { key: "httpListen", flag: "--http-listen", kind: "string", help: "serve /livez, /readyz and /metrics (Prometheus) over HTTP at HOST:PORT (default: off)" },
  { key: "transactionMaxTimeoutMs", flag: "--transaction-max-timeout-ms", kind: "int", help: "largest transaction.timeout.ms a producer may ask for (default 900000)" },
  { key: "transactionalIdExpirationMs", flag: "--transactional-id-expiration-ms", kind: "int", help: "forget transactional ids idle this long with no transaction open (default 604800000)" },
  { key: "logCleanerEnable", flag: "--log-cleaner-enable", kind: "bool", help: "run the log cleaner that compacts topics with cleanup.policy compact (default true)" },
  { key: "logCleanerBackoffMs", flag: "--log-cleaner-backoff-ms", kind: "int", help: "wait of the log cleaner when no compacted log needs cleaning (default 15000)" },
  { key: "logCleanerDedupeBufferSize", flag: "--log-cleaner-dedupe-buffer-size", kind: "int", help: "memory for the key map of one clean, bytes (default 134217728)" },
  { key: "logRetentionCheckIntervalMs", flag: "--log-retention-check-interval-ms", kind: "int", help: "how often retention deletes old segments (default 60000)" },
  { key: "maxConnections", flag: "--max-connections", kind: "int", help: "connections accepted at once; more are closed at once (default 2147483647)" },
  { key: "maxConnectionsPerIp", flag: "--max-connections-per-ip", kind: "int", help: "connections accepted at once from one address (default 2147483647)" },
  { key: "connectionsMaxIdleMs", flag: "--connections-max-idle-ms", kind: "int", help: "close connections idle this long (default 600000)" },
  { key: "requestReadTimeoutMs", flag: "--request-read-timeout-ms", kind: "int", help: "close a connection whose request frame is not complete this long after it began (default 30000)" },
  { key: "queuedMaxRequestBytes", flag: "--queued-max-request-bytes", kind: "int", help: "memory for requests being read or handled, all connections; reading pauses beyond it (default 268435456)" },
  { key: "maxPartitionsPerTopic", flag: "--max-partitions-per-topic", kind: "int", help: "most partitions a topic may have (CreateTopics, CreatePartitions; default 10000)" },
  { key: "maxTopicsPerRequest", flag: "--max-topics-per-request", kind: "int", help: "most topics one CreateTopics request may create (default 1000)" },
  { key: "maxPartitionsPerRequest", flag: "--max-partitions-per-request", kind: "int", help: "most partitions one CreateTopics or CreatePartitions request may create in all (default 10000)" },
];

export const DEFAULT_OPTIONS: BrokerOptions = {
  listen: ":9092",
  advertisedAddr: null,
  dataDir: "./data",
  memory: false,
  nodeId: 1,
  autoCreateTopics: true,
  defaultPartitions: 1,
  maxRequestBytes: 100 * 1024 * 1024,
  fsync: "group",
  messageMaxBytes: 1048588,
  segmentBytes: 1073741824,
  maxOpenSegmentFiles: 128,
  segmentMs: 7 * 24 * 3600 * 1000,
  retentionMs: 7 * 24 * 3600 * 1000,
  retentionBytes: -1,
  logLevel: "info",
  logFormat: "text",
  groupInitialRebalanceDelayMs: 0,
  // Development defaults: new KIP-848 consumers settle within a heartbeat or two of 500 ms instead of 5 s rounds.
  groupConsumerHeartbeatIntervalMs: 500,
  groupConsumerSessionTimeoutMs: 10_000,
  groupShareRecordLockDurationMs: 30_000,
  groupShareDeliveryCountLimit: 5,
  groupSharePartitionMaxRecordLocks: 2000,
  transactionMaxTimeoutMs: 900000,
  transactionalIdExpirationMs: 7 * 24 * 3600 * 1000,
  logCleanerEnable: true,
  logCleanerBackoffMs: 15000,
  logCleanerDedupeBufferSize: 128 * 1024 * 1024,
  logRetentionCheckIntervalMs: 60000,
  httpListen: "",
  maxConnections: 2147483647,
  maxConnectionsPerIp: 2147483647,
  connectionsMaxIdleMs: 600000,
  requestReadTimeoutMs: 30000,
  queuedMaxRequestBytes: 256 * 1024 * 1024,
  maxPartitionsPerTopic: 10000,
  maxTopicsPerRequest: 1000,
  maxPartitionsPerRequest: 10000,
  tlsCert: "",
  tlsKey: "",
  tlsCa: "",
  tlsClientAuth: "none",
  saslEnabledMechanisms: "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
  saslUser: [],
  saslPassword: [],
  saslMechanism: [],
  connectionsMaxReauthMs: 0,
  connectionFailedAuthenticationDelayMs: 100,
  authorizer: false,
  allowEveryoneIfNoAclFound: false,
  superUsers: "",
};

/** `--data-dir :memory:`: the same as `--memory`. */
export const MEMORY_DATA_DIR = ":memory:";

export class OptionError extends Error {}

function envName(flag: string): string {
  return "KLITE_" + flag.replace(/^--/, "").replace(/-/g, "_").toUpperCase();
}

function parseValue(spec: OptionSpec, raw: string): BrokerOptions[keyof BrokerOptions] {
  switch (spec.kind) {
    case "string":
      return raw;
    case "list":
      return [raw];
    case "int": {
      const n = Number(raw);
      if (!Number.isSafeInteger(n)) throw new OptionError(`${spec.flag}: not an integer: ${raw}`);
      return n;
    }
    case "bool":
      if (["true", "1", "yes", "on"].includes(raw)) return true;
      if (["false", "0", "no", "off"].includes(raw)) return false;
      throw new OptionError(`${spec.flag}: expected true or false, got ${raw}`);
    case "enum":
      if (!spec.values!.includes(raw)) throw new OptionError(`${spec.flag}: expected one of ${spec.values!.join(", ")}, got ${raw}`);
      return raw;
  }
}

/** Flags win over KLITE_* variables, which win over defaults. */
export function parseOptions(argv: readonly string[], env: Record<string, string | undefined>): BrokerOptions {
  const opts: Record<string, unknown> = { ...DEFAULT_OPTIONS };
  for (const spec of OPTION_SPECS) {
    const v = env[envName(spec.flag)];
    if (v !== undefined && v !== "") opts[spec.key] = spec.kind === "list" ? v.split(",") : parseValue(spec, v);
  }
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const spec = OPTION_SPECS.find((s) => s.flag === flag || (s.kind === "bool" && flag === `--no-${s.flag.slice(2)}`));
    if (!spec) throw new OptionError(`unknown option ${arg} (see --help)`);
    let raw: string;
    if (eq > 0) raw = arg.slice(eq + 1);
    else if (spec.kind === "bool") {
      const next = argv[i + 1];
      if (next === "true" || next === "false") raw = argv[++i]!;
      else raw = flag.startsWith("--no-") ? "false" : "true";
    } else {
      const next = argv[++i];
      if (next === undefined) throw new OptionError(`${flag} needs a value`);
      raw = next;
    }
    const value = parseValue(spec, raw);
    // Repeated flags add up; the first one replaces what the environment said.
    if (given.has(spec.key) && spec.kind === "list") opts[spec.key] = [...(opts[spec.key] as string[]), ...(value as string[])];
    else if (given.has(spec.key) && spec.repeatable) opts[spec.key] = `${opts[spec.key]},${value}`;
    else opts[spec.key] = value;
    given.add(spec.key);
  }
  const o = opts as unknown as BrokerOptions;
  if (o.defaultPartitions < 1) throw new OptionError("--default-partitions must be at least 1");
  if (o.maxRequestBytes < 1024) throw new OptionError("--max-request-bytes must be at least 1024");
  if (o.maxConnections < 1 || o.maxConnectionsPerIp < 1) throw new OptionError("--max-connections and --max-connections-per-ip must be at least 1");
  if (o.connectionsMaxIdleMs < 1 || o.requestReadTimeoutMs < 1) throw new OptionError("--connections-max-idle-ms and --request-read-timeout-ms must be at least 1");
  if (o.queuedMaxRequestBytes < 1024 * 1024) throw new OptionError("--queued-max-request-bytes must be at least 1048576");
  if (o.maxPartitionsPerTopic < 1 || o.maxTopicsPerRequest < 1 || o.maxPartitionsPerRequest < 1) throw new OptionError("--max-partitions-per-topic, --max-topics-per-request and --max-partitions-per-request must be at least 1");
  if (o.defaultPartitions > o.maxPartitionsPerTopic) throw new OptionError("--default-partitions must not exceed --max-partitions-per-topic");
  if (o.maxOpenSegmentFiles < 1) throw new OptionError("--max-open-segment-files must be at least 1");
  if (o.logCleanerBackoffMs < 1 || o.logRetentionCheckIntervalMs < 1) throw new OptionError("--log-cleaner-backoff-ms and --log-retention-check-interval-ms must be at least 1");
  if (o.groupConsumerHeartbeatIntervalMs < 1 || o.groupConsumerSessionTimeoutMs <= o.groupConsumerHeartbeatIntervalMs) {
    throw new OptionError("--group-consumer-session-timeout-ms must be longer than --group-consumer-heartbeat-interval-ms (at least 1)");
  }
  if (o.groupShareRecordLockDurationMs < 1000 || o.groupShareDeliveryCountLimit < 2 || o.groupShareDeliveryCountLimit > 10 || o.groupSharePartitionMaxRecordLocks < 100 || o.groupSharePartitionMaxRecordLocks > 10_000) {
    throw new OptionError("share groups: --group-share-record-lock-duration-ms at least 1000, --group-share-delivery-count-limit 2-10, --group-share-partition-max-record-locks 100-10000");
  }
  if (o.connectionFailedAuthenticationDelayMs < 0) throw new OptionError("--connection-failed-authentication-delay-ms must not be negative");
  if (o.connectionsMaxReauthMs < 0) throw new OptionError("--connections-max-reauth-ms must not be negative");
  for (const u of superUserList(o.superUsers)) if (!/^[^:]+:.+$/.test(u)) throw new OptionError(`--super-users: expected TYPE:NAME principals separated by ';', got ${u}`);
  return o;
}

/** --super-users as a list (Kafka's super.users: principals separated by semicolons). */
export function superUserList(s: string): string[] {
  return s.split(";").map((u) => u.trim()).filter((u) => u !== "");
}

export function helpText(): string {
  const lines = ["usage: klite [options]", "", "options (each also as a KLITE_* environment variable):"];
  for (const s of OPTION_SPECS) lines.push(`  ${(s.flag + (s.kind === "bool" ? "[=BOOL]" : " VALUE")).padEnd(38)} ${s.help}  [${envName(s.flag)}]`);
  lines.push("  --version                              print the version and the Kafka release the codecs come from");
  lines.push("  --help                                 this text");
  return lines.join("\n");
}

/** Splits HOST:PORT; an empty host means every interface; [v6]:port is accepted. */
export function splitHostPort(s: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(s);
  if (!m) throw new OptionError(`expected HOST:PORT, got ${s}`);
  const port = Number(m[3]);
  if (port > 65535) throw new OptionError(`bad port in ${s}`);
  return { host: m[1] ?? m[2] ?? "", port };
}
