// --http-listen HOST:PORT: /livez (the process answers), /readyz (listening
// for Kafka clients with its data loaded, and not shutting down) and
// /metrics (Prometheus text).

import type { Broker } from "../broker.ts";
import { splitHostPort } from "../config.ts";

export interface HttpEndpoint {
  port: number;
  stop(): void;
}

/** Started once the broker listens with its data loaded: from then on it is ready until it begins to shut down. */
export function serveHttp(broker: Broker, address: string): HttpEndpoint {
  const { host, port } = splitHostPort(address);
  const server = Bun.serve({
    hostname: host === "" ? "::" : host,
    port,
    fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/livez") return new Response("ok\n");
      if (path === "/readyz") return !broker.closing ? new Response("ok\n") : new Response("not ready\n", { status: 503 });
      if (path === "/metrics") return new Response(broker.metrics.render(), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } });
      return new Response("not found: try /livez, /readyz or /metrics\n", { status: 404 });
    },
  });
  return { port: server.port ?? port, stop: () => void server.stop(true) };
}
