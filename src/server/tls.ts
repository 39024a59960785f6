// TLS for SSL and SASL_SSL listeners through Bun's built-in TLS, and what a
// finished handshake means for the connection: a verified client certificate
// gives the principal Kafka's default principal builder would
// (--tls-client-auth requested or required); a certificate that does not
// verify, or none where one is required, ends the connection.

import type { Socket, TLSOptions } from "bun";
import { existsSync } from "node:fs";
import type { Broker } from "../broker.ts";
import { OptionError, type BrokerOptions } from "../config.ts";
import { tlsPrincipal } from "../auth/tls-principal.ts";
import type { ConnectionData } from "./connection.ts";

export function tlsOptions(o: Pick<BrokerOptions, "tlsCert" | "tlsKey" | "tlsCa" | "tlsClientAuth">): TLSOptions {
  if (!o.tlsCert || !o.tlsKey) throw new OptionError("SSL and SASL_SSL listeners need --tls-cert and --tls-key");
  for (const f of [o.tlsCert, o.tlsKey, o.tlsCa]) if (f && !existsSync(f)) throw new OptionError(`no such file: ${f}`);
  if (o.tlsClientAuth !== "none" && !o.tlsCa) throw new OptionError(`--tls-client-auth ${o.tlsClientAuth} needs --tls-ca (the CAs client certificates must chain to)`);
  return {
    cert: Bun.file(o.tlsCert),
    key: Bun.file(o.tlsKey),
    ...(o.tlsCa ? { ca: Bun.file(o.tlsCa) } : {}),
    requestCert: o.tlsClientAuth !== "none",
    // "required" lets the TLS layer refuse the handshake itself, so the client sees a TLS alert.
    rejectUnauthorized: o.tlsClientAuth === "required",
  };
}

export function onTlsHandshake(broker: Broker, socket: Socket<ConnectionData>, success: boolean, authorizationError: Error | null): void {
  const conn = socket.data?.conn;
  if (!conn?.auth) return;
  const mode = broker.options.tlsClientAuth;
  const cert = mode === "none" ? undefined : socket.getPeerCertificate();
  const presented = cert !== undefined && cert !== null && cert.raw !== undefined;
  let refusal: string | null = null;
  if (!success) refusal = "TLS handshake failed";
  else if (presented && authorizationError) refusal = `client certificate not trusted: ${authorizationError.message}`;
  else if (!presented && mode === "required") refusal = "no client certificate (--tls-client-auth required)";
  if (refusal) {
    broker.log.info(`connection ${conn.id} from ${conn.remoteAddress} closed: ${refusal}`);
    socket.end();
    return;
  }
  let principal: string | null = null;
  if (presented) {
    try {
      principal = tlsPrincipal(new Uint8Array(cert.raw));
    } catch (e) {
      broker.log.info(`connection ${conn.id} from ${conn.remoteAddress} closed: unreadable client certificate subject: ${(e as Error).message}`);
      socket.end();
      return;
    }
  }
  conn.auth.setTlsPrincipal(principal);
  if (principal) broker.log.debug(`connection ${conn.id} from ${conn.remoteAddress}: TLS client certificate ${principal}`);
}
