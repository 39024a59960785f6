"""confluent-kafka-python (librdkafka 2.0.2) over a secured listener.

usage: /usr/bin/python3 secure.py BOOTSTRAP CONFIG_JSON COMMAND ARGS  -> one JSON document on stdout
  roundtrip TOPIC GROUP   produce k1..k3 (acks=all), then consume them in consumer group GROUP
  auth                    metadata request; answers {"error": NAME} with the first client error
                          (e.g. _AUTHENTICATION), or {"error": null} when metadata came back
CONFIG_JSON: librdkafka settings (security.protocol, sasl.*, ssl.*).
"""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient

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
    a = AdminClient(conf(error_cb=lambda e: errors.append(e.name())))
    try:
        a.list_topics(timeout=10)
        return {"error": errors[0] if errors else None}
    except KafkaException as e:
        return {"error": errors[0] if errors else e.args[0].name()}


print(json.dumps(roundtrip(*args) if cmd == "roundtrip" else auth()))
