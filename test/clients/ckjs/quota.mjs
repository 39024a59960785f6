// A producer that writes as fast as librdkafka lets it for SECONDS, to show a
// broker's produce quota: the bytes delivered in that time, librdkafka's own
// view of the broker's throttle times (statistics, once a second) and the
// throttle events it reported.
// usage: node quota.mjs BOOTSTRAP rate TOPIC SECONDS VALUE_BYTES CLIENT_ID
import { Kafka, base, watch, run } from "./native.mjs";

function rate(topic, seconds, valueBytes, clientId) {
  const ms = Number(seconds) * 1000;
  const value = Buffer.alloc(Number(valueBytes), 120);
  return new Promise((resolve, reject) => {
    const p = watch(
      new Kafka.Producer({
        ...base,
        "client.id": clientId,
        dr_cb: true,
        acks: "all",
        "linger.ms": 5,
        "batch.size": 100000,
        "queue.buffering.max.kbytes": 2048,
        "statistics.interval.ms": 1000,
      }),
    );
    let start = 0;
    let delivered = 0;
    let deliveredInTime = 0;
    const perSecond = [];
    let throttleMax = 0;
    let throttleEvents = 0;
    let done = false;
    p.on("event.error", reject);
    p.on("event.throttle", (t) => {
      throttleEvents++;
      throttleMax = Math.max(throttleMax, t.throttleTime ?? t.throttle_time ?? 0);
    });
    p.on("event.stats", (s) => {
      const stats = JSON.parse(s.message);
      for (const b of Object.values(stats.brokers)) throttleMax = Math.max(throttleMax, b.throttle?.max ?? 0);
    });
    p.on("delivery-report", (err, r) => {
      if (err) return reject(err);
      const at = Date.now() - start;
      delivered += r.size;
      if (at < ms) {
        deliveredInTime += r.size;
        const sec = Math.floor(at / 1000);
        perSecond[sec] = (perSecond[sec] ?? 0) + r.size;
      }
    });
    const pump = () => {
      if (done) return;
      if (Date.now() - start >= ms) {
        done = true;
        // One more stats round so the last throttle times are seen, then out.
        setTimeout(() => {
          p.disconnect();
        }, 1500);
        return;
      }
      try {
        for (let i = 0; i < 1000; i++) p.produce(topic, 0, value, null);
      } catch {
        // Queue full: the broker's throttling holds it back; try again shortly.
      }
      setTimeout(pump, 2);
    };
    p.on("ready", () => {
      start = Date.now();
      p.setPollInterval(5);
      pump();
    });
    p.on("disconnected", () => resolve({ ms, deliveredInTime, delivered, perSecond: perSecond.map((b) => b ?? 0), throttleMax, throttleEvents }));
    p.connect();
  });
}

run({ rate });
