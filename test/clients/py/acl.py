"""confluent-kafka-python (librdkafka 2.0.2): what a user may do under the ACLs in force. (This binding, 1.7.0,
has no ACL admin calls: test/clients/kafkajs/acl-admin.mjs makes the ACLs.)

usage: /usr/bin/python3 acl.py BOOTSTRAP CONFIG_JSON COMMAND ARGS  -> one JSON document on stdout
  produce TOPIC            one record, acks=all -> {"error": name | null}
  consume TOPIC GROUP      subscribe in GROUP, read one record, commit it -> {"error": first error name | null, "got": n}
  txn TOPIC TXID           init_transactions, one record, commit -> {"error": name | null}
  topics                   metadata of all topics -> {"topics": [names]}
"""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient

bootstrap, extra, cmd, args = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4:]


def conf(**kv):
    c = {"bootstrap.servers": bootstrap}
    c.update(extra)
    c.update(kv)
    return c


def err_name(e):
    if isinstance(e, KafkaException):
        e = e.args[0]
    return e.name() if isinstance(e, KafkaError) else str(e)


def produce(topic):
    p = Producer(conf(acks="all", **{"message.timeout.ms": 15000}))
    result = []
    p.produce(topic, value=b"v", on_delivery=lambda err, msg: result.append(err.name() if err else None))
    p.flush(30)
    return {"error": result[0] if result else "NOT_DELIVERED"}


def consume(topic, group):
    errors = []
    c = Consumer(conf(**{"group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": False},
                      error_cb=lambda e: errors.append(e.name())))
    c.subscribe([topic])
    got = 0
    deadline = time.time() + 20
    while time.time() < deadline and not errors and got == 0:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            errors.append(m.error().name())
            break
        got += 1
        try:
            c.commit(message=m, asynchronous=False)
        except KafkaException as e:
            errors.append(err_name(e))
    c.close()
    return {"error": errors[0] if errors else None, "got": got}


def txn(topic, txid):
    p = Producer(conf(**{"transactional.id": txid, "transaction.timeout.ms": 10000, "message.timeout.ms": 10000}))
    try:
        p.init_transactions(15)
        p.begin_transaction()
        p.produce(topic, value=b"t")
        p.commit_transaction(15)
        return {"error": None}
    except KafkaException as e:
        return {"error": err_name(e)}


def topics():
    md = AdminClient(conf()).list_topics(timeout=15)
    return {"topics": sorted(t for t in md.topics)}


commands = {"produce": produce, "consume": consume, "txn": txn, "topics": topics}
print(json.dumps(commands[cmd](*args)))
