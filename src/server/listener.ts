// TCP listeners. An empty host listens on every interface (IPv6 and IPv4 via
// a dual-stack socket); "localhost" listens on both loopbacks, because
// librdkafka resolves localhost to ::1 first and the JVM often to 127.0.0.1.

import type { TCPSocketListener, TLSOptions } from "bun";
import type { Broker } from "../broker.ts";
import { Connection, type ConnectionData } from "./connection.ts";
import type { ListenerSpec } from "./listeners.ts";
import { onTlsHandshake } from "./tls.ts";

export interface Listening {
  spec: ListenerSpec;
  host: string;
  port: number;
  connections: Set<Connection>;
  /** Stops accepting; existing connections stay open. */
  stopAccepting(): void;
  /** Closes every connection. */
  closeAll(): void;
}

function listenOne(broker: Broker, spec: ListenerSpec, tls: TLSOptions | undefined, hostname: string, port: number, connections: Set<Connection>): TCPSocketListener<ConnectionData> {
  return Bun.listen<ConnectionData>({
    hostname,
    port,
    ...(tls ? { tls } : {}),
    socket: {
      open(socket) {
        const conn = new Connection(broker, socket, spec);
        socket.data = { conn };
        connections.add(conn);
      },
      handshake(socket, success, authorizationError) {
        onTlsHandshake(broker, socket, success, authorizationError);
      },
      data(socket, data) {
        socket.data.conn.onData(data);
      },
      drain(socket) {
        socket.data.conn.onDrain();
      },
      close(socket) {
        socket.data.conn.onClose();
        connections.delete(socket.data.conn);
      },
      error(socket, err) {
        broker.log.debug(`socket error: ${err.message}`);
        socket.data?.conn.onClose();
      },
    },
  });
}

export function listen(broker: Broker, spec: ListenerSpec, tls?: TLSOptions): Listening {
  const { host, port } = spec;
  const connections = new Set<Connection>();
  const servers: TCPSocketListener<ConnectionData>[] = [];
  const hosts = host === "" ? ["::"] : host === "localhost" ? ["127.0.0.1", "::1"] : [host];
  for (const h of hosts) {
    try {
      const s = listenOne(broker, spec, tls, h, servers.length ? servers[0]!.port : port, connections);
      servers.push(s);
    } catch (e) {
      // No IPv6 on this machine: fall back to IPv4 only.
      if (h === "::") servers.push(listenOne(broker, spec, tls, "0.0.0.0", port, connections));
      else if (h === "::1" && servers.length > 0) broker.log.warn(`cannot listen on [::1]:${servers[0]!.port}: ${(e as Error).message}`);
      else throw e;
    }
  }
  return {
    spec,
    host,
    port: servers[0]!.port,
    connections,
    stopAccepting() {
      for (const s of servers) s.stop(false);
    },
    closeAll() {
      for (const s of servers) s.stop(true);
    },
  };
}
