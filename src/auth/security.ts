// The broker's authentication side: the user store, the SASL mechanisms on
// offer, each connection's state (by connection id, so handlers stay plain
// functions of the request context), and the per-address delay that slows
// down password guessing.

import type { BrokerOptions } from "../config.ts";
import { OptionError } from "../config.ts";
import type { Logger } from "../util/logger.ts";
import type { ListenerSpec } from "../server/listeners.ts";
import { ConnectionAuth } from "./connection-auth.ts";
import { newCredential, type PasswordMechanism, type ScramMechanism } from "./credentials.ts";
import { OAuthBearerExchange } from "./oauthbearer.ts";
import { PlainExchange } from "./plain.ts";
import type { SaslExchange, SaslStep } from "./sasl-exchange.ts";
import { ScramExchange } from "./scram.ts";
import { UserStore } from "./user-store.ts";
import { ANONYMOUS } from "../handlers/registry.ts";
import { ErrorCode } from "../protocol/errors.ts";

export const KNOWN_MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"] as const;
const PASSWORD_MECHANISMS: readonly PasswordMechanism[] = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"];

/** Longest wait of a failed attempt's answer; the first waits --connection-failed-authentication-delay-ms, doubling per failure. */
const MAX_FAILURE_DELAY_MS = 5000;
/** An address without failures this long starts over. */
const FAILURE_MEMORY_MS = 60_000;
/** Addresses remembered at most; the oldest are forgotten first. */
const MAX_TRACKED_ADDRESSES = 10_000;

export interface BootstrapUser {
  name: string;
  password: string;
  mechanisms: PasswordMechanism[];
}

function listOf(s: string): string[] {
  return s
    .split(",")
    .map((m) => m.trim().toUpperCase())
    .filter((m) => m !== "");
}

/** Pairs --sasl-user, --sasl-password and --sasl-mechanism by position (one mechanism entry may serve every user). */
export function bootstrapUsers(o: Pick<BrokerOptions, "saslUser" | "saslPassword" | "saslMechanism">): BootstrapUser[] {
  const { saslUser: names, saslPassword: passwords, saslMechanism: mechs } = o;
  if (passwords.length !== names.length) throw new OptionError(`--sasl-user given ${names.length} times but --sasl-password ${passwords.length} times`);
  if (mechs.length > 1 && mechs.length !== names.length) throw new OptionError("--sasl-mechanism must be given once (for every user) or once per --sasl-user");
  return names.map((name, i) => {
    if (name === "") throw new OptionError("--sasl-user: empty user name");
    const raw = mechs.length === 0 ? "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512" : mechs.length === 1 ? mechs[0]! : mechs[i]!;
    const mechanisms = listOf(raw) as PasswordMechanism[];
    for (const m of mechanisms) if (!PASSWORD_MECHANISMS.includes(m)) throw new OptionError(`--sasl-mechanism: ${m} has no password (expected PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)`);
    return { name, password: passwords[i]!, mechanisms };
  });
}

export function enabledMechanisms(s: string): string[] {
  const list = listOf(s);
  for (const m of list) if (!(KNOWN_MECHANISMS as readonly string[]).includes(m)) throw new OptionError(`--sasl-enabled-mechanisms: unknown mechanism ${m} (expected ${KNOWN_MECHANISMS.join(", ")})`);
  return list;
}

export class Security {
  readonly users: UserStore;
  readonly mechanisms: string[];
  readonly reauthMs: number;
  private readonly connections = new Map<number, ConnectionAuth>();
  private readonly failures = new Map<string, { count: number; last: number }>();

  constructor(
    private readonly options: BrokerOptions,
    private readonly log: Logger,
  ) {
    this.mechanisms = enabledMechanisms(options.saslEnabledMechanisms);
    this.reauthMs = options.connectionsMaxReauthMs;
    this.users = new UserStore(options.dataDir);
    this.users.load();
  }

  /**
   * Writes the --sasl-user credentials into the store at each start (new
   * salts, so the file changes even when the passwords did not), like Kafka's
   * `kafka-storage format --add-scram`; AlterUserScramCredentials may change
   * them afterwards, until the next start.
   */
  async addBootstrapUsers(): Promise<void> {
    const changes = [];
    for (const u of bootstrapUsers(this.options)) {
      for (const m of u.mechanisms) changes.push({ user: u.name, mechanism: m, credential: await newCredential(m, u.password) });
    }
    this.users.apply(changes);
  }

  attach(connectionId: number, listener: ListenerSpec, remoteAddress: string): ConnectionAuth {
    const a = new ConnectionAuth(connectionId, listener, remoteAddress);
    this.connections.set(connectionId, a);
    return a;
  }

  detach(connectionId: number): void {
    this.connections.delete(connectionId);
  }

  of(connectionId: number): ConnectionAuth | undefined {
    return this.connections.get(connectionId);
  }

  exchangeFor(mechanism: string): SaslExchange {
    switch (mechanism) {
      case "PLAIN":
        return new PlainExchange(this.users);
      case "OAUTHBEARER":
        return new OAuthBearerExchange();
      default:
        return new ScramExchange(mechanism as ScramMechanism, this.users);
    }
  }

  /** Starts an exchange after SaslHandshake; an error message when the mechanism cannot be used now. */
  beginExchange(a: ConnectionAuth, mechanism: string, raw: boolean): { error: number; message: string } | null {
    if (a.state === "complete") {
      // KIP-368 re-authentication keeps the mechanism of the session.
      if (mechanism !== a.mechanism) return { error: ErrorCode.ILLEGAL_SASL_STATE, message: `re-authentication must use ${a.mechanism}` };
      a.reauthenticating = true;
    } else if (a.state !== "initial") {
      return { error: ErrorCode.ILLEGAL_SASL_STATE, message: "unexpected SaslHandshake" };
    }
    if (!this.mechanisms.includes(mechanism)) return { error: ErrorCode.UNSUPPORTED_SASL_MECHANISM, message: `unsupported mechanism ${mechanism}` };
    a.mechanism = mechanism;
    a.exchange = this.exchangeFor(mechanism);
    a.state = "handshaken";
    a.raw = raw;
    return null;
  }

  /**
   * Runs one step of the connection's exchange. On success the principal is
   * set and the session lifetime is the answer's; on failure the connection is
   * marked to close, the attempt is logged and the answer is held back by the
   * address's failure delay.
   */
  async step(a: ConnectionAuth, token: Uint8Array): Promise<SaslStep & { lifetimeMs: number }> {
    const exchange = a.exchange;
    if (!exchange || a.state !== "handshaken") return this.fail(a, "Authentication failed: no SASL exchange in progress (SaslHandshake first)");
    let step: SaslStep;
    try {
      step = await exchange.next(token);
    } catch (e) {
      this.log.error(`connection ${a.connectionId}: SASL ${a.mechanism} failed: ${(e as Error).message}`);
      step = { bytes: new Uint8Array(0), error: "Authentication failed: internal error" };
    }
    if (step.error !== undefined) return this.fail(a, step.error);
    if (step.user === undefined) return { ...step, lifetimeMs: 0 };
    const principal = `User:${step.user}`;
    if (a.reauthenticating && principal !== a.principal) return this.fail(a, "Authentication failed: cannot change principals during re-authentication");
    const now = Date.now();
    let lifetimeMs = 0;
    if (this.reauthMs > 0) {
      // A token that ends sooner than the configured lifetime ends the session with it (Kafka does the same).
      lifetimeMs = Math.max(0, Math.min(this.reauthMs, step.expiresAtMs !== undefined ? step.expiresAtMs - now : Infinity));
      a.sessionExpiresAt = now + lifetimeMs;
    }
    a.principal = principal;
    a.state = "complete";
    a.reauthenticating = false;
    a.exchange = null;
    a.raw = false;
    this.failures.delete(a.remoteAddress);
    this.log.debug(`connection ${a.connectionId} from ${a.remoteAddress} authenticated as ${principal} (${a.mechanism})`);
    return { ...step, lifetimeMs };
  }

  private async fail(a: ConnectionAuth, message: string): Promise<SaslStep & { lifetimeMs: number }> {
    a.state = "failed";
    a.exchange = null;
    a.closeAfterResponse = true;
    const delay = this.noteFailure(a.remoteAddress);
    this.log.warn(`authentication failed: connection ${a.connectionId} from ${a.remoteAddress} on ${a.listener.name}, mechanism ${a.mechanism ?? "none"}: ${message} (answer delayed ${delay} ms)`);
    await Bun.sleep(delay);
    return { bytes: new Uint8Array(0), error: message, lifetimeMs: 0 };
  }

  /** Records a failure from `address`; the delay its answer waits. */
  noteFailure(address: string, now = Date.now()): number {
    const prev = this.failures.get(address);
    const count = prev && now - prev.last < FAILURE_MEMORY_MS ? prev.count + 1 : 1;
    this.failures.delete(address);
    this.failures.set(address, { count, last: now });
    if (this.failures.size > MAX_TRACKED_ADDRESSES) this.failures.delete(this.failures.keys().next().value!);
    const base = this.options.connectionFailedAuthenticationDelayMs;
    return Math.min(Math.max(base, MAX_FAILURE_DELAY_MS), base * 2 ** Math.min(count - 1, 16));
  }

  /** The principal a request runs as on a connection (ANONYMOUS when unknown, e.g. in-process calls). */
  principalOf(connectionId: number): string {
    return this.connections.get(connectionId)?.principal ?? ANONYMOUS;
  }
}
