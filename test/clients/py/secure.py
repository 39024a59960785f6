"""confluent-kafka-python (librdkafka 2.0.2) over a secured listener.

usage: /usr/bin/python3 secure.py BOOTSTRAP CONFIG_JSON COMMAND ARGS  -> one JSON document on stdout
  roundtrip TOPIC GROUP   produce k1..k3 (acks=all), then consume them in consumer group GROUP
  auth                    metadata request; answers {"errors": [NAME...]}, the client errors seen
                          (e.g. _AUTHENTICATION), empty when metadata came back
CONFIG_JSON: librdkafka settings (security.protocol, sasl.*, ssl.*).
"""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer

bootstrap, extra, cmd, args = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4:]


def conf(**kv):
    c = {"bootstrap.servers": bootstrap}
    c.update(extra)
    c.update(kv)
    return c


def roundtrip(topic, group):
    p = Producer(conf(acks="all"))
    delivered = []
    for i in range(1, 4):
        p.produce(topic, key=f"k{i}", value=f"v{i}", on_delivery=lambda err, msg: delivered.append(str(err) if err else msg.offset()))
    left = p.flush(30)
    c = Consumer(conf(**{"group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": False}))
    c.subscribe([topic])
    got = []
    deadline = time.time() + 30
    while len(got) < 3 and time.time() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            raise KafkaException(m.error())
        got.append([m.key().decode(), m.value().decode()])
    c.commit(asynchronous=False)
    committed = [tp.offset for tp in c.committed(c.assignment(), timeout=10)]
    c.close()
    return {"unflushed": left, "delivered": delivered, "consumed": got, "committed": committed}


def auth():
    errors = []
    p = Producer(conf(error_cb=lambda e: errors.append(e.name())))
    # Error callbacks are served by poll(): wait for the authentication error, or give other errors a few seconds.
    start = time.time()
    while "_AUTHENTICATION" not in errors and time.time() - start < (5 if errors else 15):
        p.poll(0.2)
        if not errors:
            try:
                p.list_topics(timeout=0.5)
                break
            except KafkaException:
                pass
    return {"errors": errors}


print(json.dumps(roundtrip(*args) if cmd == "roundtrip" else auth()))
