"""A producer that writes as fast as librdkafka (2.0.2, confluent-kafka-python)
lets it for SECONDS, to show a broker's produce quota: bytes delivered in that
time, and the throttle times librdkafka reported (throttle_cb and statistics).

usage: /usr/bin/python3 quota.py BOOTSTRAP rate TOPIC SECONDS VALUE_BYTES CLIENT_ID
"""
import json
import sys
import time

from confluent_kafka import Producer


def rate(bootstrap, topic, seconds, value_bytes, client_id):
    seconds = float(seconds)
    value = b"x" * int(value_bytes)
    state = {"in_time": 0, "delivered": 0, "throttle_max": 0, "throttle_events": 0, "per_second": {}}
    start = [0.0]

    def on_throttle(event):
        state["throttle_events"] += 1
        state["throttle_max"] = max(state["throttle_max"], int(event.throttle_time * 1000))

    def on_stats(raw):
        for b in json.loads(raw)["brokers"].values():
            state["throttle_max"] = max(state["throttle_max"], b.get("throttle", {}).get("max", 0))

    def on_delivery(err, msg):
        if err is not None:
            raise RuntimeError(str(err))
        at = time.monotonic() - start[0]
        state["delivered"] += len(msg.value())
        if at < seconds:
            state["in_time"] += len(msg.value())
            sec = str(int(at))
            state["per_second"][sec] = state["per_second"].get(sec, 0) + len(msg.value())

    p = Producer({
        "bootstrap.servers": bootstrap,
        "client.id": client_id,
        "acks": "all",
        "linger.ms": 5,
        "batch.size": 100000,
        "queue.buffering.max.kbytes": 2048,
        "statistics.interval.ms": 1000,
        "throttle_cb": on_throttle,
        "stats_cb": on_stats,
    })
    p.list_topics(timeout=10)
    start[0] = time.monotonic()
    while time.monotonic() - start[0] < seconds:
        try:
            p.produce(topic, value, partition=0, on_delivery=on_delivery)
        except BufferError:
            p.poll(0.005)
        p.poll(0)
    p.flush(30)
    # One more statistics round, so the last throttle times are seen.
    end = time.monotonic() + 1.5
    while time.monotonic() < end:
        p.poll(0.1)
    return {"ms": int(seconds * 1000), "deliveredInTime": state["in_time"], "delivered": state["delivered"],
            "perSecond": state["per_second"], "throttleMax": state["throttle_max"], "throttleEvents": state["throttle_events"]}


if __name__ == "__main__":
    bootstrap, cmd, *args = sys.argv[1:]
    print(json.dumps({"rate": rate}[cmd](bootstrap, *args)))
