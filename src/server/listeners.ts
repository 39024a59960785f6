// Listener specs in Kafka's notation: `--listen` entries PROTOCOL://HOST:PORT
// (a bare HOST:PORT is PLAINTEXT), each advertised as the matching
// `--advertised-addr` entry (by position, or by NAME://). The listener name is
// the protocol, as in a Kafka config without listener.security.protocol.map,
// so one listener per protocol.

import { OptionError, splitHostPort, type BrokerOptions } from "../config.ts";

export type SecurityProtocol = "PLAINTEXT" | "SSL" | "SASL_PLAINTEXT" | "SASL_SSL";
const PROTOCOLS: readonly SecurityProtocol[] = ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"];

export interface ListenerSpec {
  name: string;
  protocol: SecurityProtocol;
  host: string;
  port: number;
  /** From --advertised-addr; null: derived from where it listens. */
  advertised: { host: string; port: number } | null;
}

export function usesTls(p: SecurityProtocol): boolean {
  return p === "SSL" || p === "SASL_SSL";
}

export function usesSasl(p: SecurityProtocol): boolean {
  return p === "SASL_PLAINTEXT" || p === "SASL_SSL";
}

function splitEntries(s: string | null): string[] {
  return (s ?? "")
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "");
}

function splitName(entry: string): { name: string | null; rest: string } {
  const m = /^([A-Za-z0-9_]+):\/\/(.*)$/.exec(entry);
  return m ? { name: m[1]!.toUpperCase(), rest: m[2]! } : { name: null, rest: entry };
}

export function parseListeners(options: Pick<BrokerOptions, "listen" | "advertisedAddr">): ListenerSpec[] {
  const specs: ListenerSpec[] = [];
  for (const entry of splitEntries(options.listen)) {
    const { name, rest } = splitName(entry);
    const protocol = (name ?? "PLAINTEXT") as SecurityProtocol;
    if (!PROTOCOLS.includes(protocol)) throw new OptionError(`--listen ${entry}: unknown security protocol ${name} (expected ${PROTOCOLS.join(", ")})`);
    if (specs.some((s) => s.name === protocol)) throw new OptionError(`--listen: more than one ${protocol} listener`);
    specs.push({ name: protocol, protocol, ...splitHostPort(rest), advertised: null });
  }
  if (specs.length === 0) throw new OptionError("--listen: no listener given");
  // A named entry goes to its listener, an unnamed one to the listener in the same position.
  const advertised = splitEntries(options.advertisedAddr);
  if (advertised.length > specs.length) throw new OptionError("--advertised-addr: more entries than --listen");
  advertised.forEach((entry, i) => {
    const { name, rest } = splitName(entry);
    const spec = name === null ? specs[i] : specs.find((s) => s.name === name);
    if (!spec) throw new OptionError(`--advertised-addr ${entry}: no such listener`);
    if (spec.advertised) throw new OptionError(`--advertised-addr ${entry}: ${spec.name} is advertised twice`);
    spec.advertised = splitHostPort(rest);
  });
  return specs;
}

/** Kafka's "localhost" and loopback addresses; anything else is reachable from elsewhere. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}
