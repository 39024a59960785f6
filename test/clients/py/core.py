"""confluent-kafka-python (librdkafka 2.0.2) driver for klite's interop tests.

usage: core.py BOOTSTRAP COMMAND ARGS...   — prints one JSON document on stdout.
"""
import json
import sys

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]


def produce(topic, n, compression, partitions="1", idempotent="false"):
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "compression.type": compression,
                  "enable.idempotence": idempotent == "true", "linger.ms": 5})
    out = []

    def cb(err, msg):
        if err:
            out.append({"error": str(err)})
        else:
            out.append({"partition": msg.partition(), "offset": msg.offset(), "key": msg.key().decode()})

    for i in range(int(n)):
        p.produce(topic, key=f"k{i}", value=f"value-{i}-" + "x" * (i % 50), partition=i % int(partitions),
                  headers=[("h", f"{i}".encode())], timestamp=1_700_000_000_000 + i * 1000, on_delivery=cb)
        p.poll(0)
    left = p.flush(30)
    return {"unflushed": left, "delivered": out}


def consume(topic, partition, offset, n):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused-assign", "enable.auto.commit": False})
    c.assign([TopicPartition(topic, int(partition), int(offset))])
    got = []
    idle = 0
    while len(got) < int(n) and idle < 20:
        m = c.poll(0.5)
        if m is None:
            idle += 1
            continue
        if m.error():
            raise KafkaException(m.error())
        got.append({"offset": m.offset(), "key": m.key().decode() if m.key() else None,
                    "value": m.value().decode(), "headers": [[k, v.decode()] for k, v in (m.headers() or [])],
                    "timestamp": m.timestamp()[1]})
    c.close()
    return got


def offsets_for_times(topic, partition, ts):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused-oft"})
    r = c.offsets_for_times([TopicPartition(topic, int(partition), int(ts))], timeout=10)
    lo, hi = c.get_watermark_offsets(TopicPartition(topic, int(partition)), timeout=10)
    c.close()
    return {"offset": r[0].offset, "low": lo, "high": hi}


def admin(action, *names):
    a = AdminClient({"bootstrap.servers": bootstrap})
    if action == "create":
        fs = a.create_topics([NewTopic(n, 3, 1, config={"retention.ms": "3600000"}) for n in names])
    elif action == "delete":
        fs = a.delete_topics(list(names))
    else:
        return sorted(t for t in a.list_topics(timeout=10).topics)
    res = {}
    for t, f in fs.items():
        try:
            f.result()
            res[t] = "ok"
        except KafkaException as e:
            res[t] = e.args[0].name()
    return res


print(json.dumps({"produce": produce, "consume": consume, "offsets_for_times": offsets_for_times,
                  "admin": admin}[cmd](*args)))
