// The public API of the `klite` package: `import { startBroker } from "klite"`.
// Under Bun the broker runs in the calling process (bun.ts); under Node it
// runs as a child process on the Bun binary the package brings (node.mjs).
// Both take these options and give back this handle.

export interface TopicSpec {
  name: string;
  /** Default: `partitions` of the options, else 1. */
  partitions?: number;
  configs?: Record<string, string>;
}

export interface StartOptions {
  /** Topics created before startBroker resolves (an existing one is left as it is). */
  topics?: (string | TopicSpec)[];
  /** Partitions of the topics above without a count, and of auto-created topics (default 1). */
  partitions?: number;
  /** Create unknown topics on Metadata and Produce (default true). */
  autoCreateTopics?: boolean;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Where partitions live, kept after stop(). Default: in memory (`":memory:"`), nothing on disk. */
  dataDir?: string;
  /** Broker log on stderr (default "warn"). */
  logLevel?: "error" | "warn" | "info" | "debug";
  /**
   * Any other broker option, named as its flag in camelCase (`--fsync` → fsync,
   * `--group-initial-rebalance-delay-ms` → groupInitialRebalanceDelayMs); see `klite --help`.
   */
  broker?: Record<string, string | number | boolean>;
}

export interface KliteBroker {
  /** `HOST:PORT`, for bootstrap.servers / brokers. */
  bootstrap: string;
  host: string;
  port: number;
  /** The data dir, or `":memory:"`. */
  dataDir: string;
  /** "in-process" under Bun, "child-process" under Node. */
  mode: "in-process" | "child-process";
  /** The process the broker runs in. */
  pid: number;
  /** Stops accepting, finishes in-flight requests, closes the log; an in-memory broker's data is gone. Idempotent. */
  stop(): Promise<void>;
}

export declare function startBroker(options?: StartOptions): Promise<KliteBroker>;
