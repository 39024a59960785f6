// Broker memory under 100 connections that each hold a half-sent 50 MB
// request frame, and after they go: RSS of the broker process (a separate
// process, so the figures are the broker's alone) and the produce latency of
// a well-behaved client meanwhile.
//
//   bun test/bench/abuse-memory.ts [--root OTHER-CHECKOUT] [--conns 100] [--frame-mb 50]

import { spawnBroker } from "../helpers/broker.ts";
import { halfSentFrames, rssMb, spawnProbe } from "../helpers/abuse.ts";
import { waitFor } from "../helpers/run.ts";

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1]! : dflt;
};
const root = args.includes("--root") ? opt("--root", "") : undefined;
const conns = Number(opt("--conns", "100"));
const frameMb = Number(opt("--frame-mb", "50"));

// The peers vanish while the broker holds their reading paused: it notices at the read timeout (not in an old tree).
const timeout = root ? [] : ["--request-read-timeout-ms", "15000"];
const broker = await spawnBroker({ root, args: ["--max-request-bytes", String(200 * 1024 * 1024), "--log-level", "warn", ...timeout] });
const pid = broker.proc.pid;
try {
  const probe = await spawnProbe(broker.port, "probe");
  await Bun.sleep(1000);
  const idle = rssMb(pid);
  const peers = await halfSentFrames(broker.port, conns, frameMb * 1024 * 1024, (frameMb * 1024 * 1024) / 2);
  // Until the broker takes no more: the sent total stops moving for a second.
  let last = -1;
  let peak = 0;
  const started = Date.now();
  while (peers.sent() !== last && Date.now() - started < 60_000) {
    last = peers.sent();
    await Bun.sleep(1000);
    peak = Math.max(peak, rssMb(pid));
  }
  const holding = rssMb(pid);
  const during = await probe.stop();
  peers.close();
  await waitFor(() => peers.open() === 0, 30_000, "peers closed");
  // Past the read timeout (15 s from the frames' start) and the GC that follows.
  await Bun.sleep(root ? 8000 : 12000);
  const after = rssMb(pid);
  console.log(
    JSON.stringify({
      tree: root ?? "this",
      conns,
      frameMb,
      sentMb: Math.round(peers.sent() / 1048576),
      rssIdleMb: Math.round(idle),
      rssPeakMb: Math.round(peak),
      rssHoldingMb: Math.round(holding),
      rssAfterMb: Math.round(after),
      probe: during,
    }),
  );
} finally {
  await broker.cleanup();
}
