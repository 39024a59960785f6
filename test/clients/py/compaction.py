"""confluent-kafka-python (librdkafka 2.0.2) driver for klite's log compaction tests.

Run it under /usr/bin/python3 (Debian's python3-confluent-kafka).
usage: compaction.py BOOTSTRAP COMMAND ARGS...   — prints one JSON document on stdout.

  create TOPIC CONFIGS_JSON   — one partition, the given topic configs
  produce TOPIC FIRST N KEYS CODEC TOMBSTONE_EVERY [IDEMPOTENT=false]
      acks=all, batches of at most 50 records; record i (FIRST <= i < FIRST+N): key k<i % KEYS>, value v<i>-<padding>,
      or a tombstone (null value) when TOMBSTONE_EVERY > 0 and i % TOMBSTONE_EVERY == 0;
      header h=<i>. Answers [[offset, key, value], ...] in delivery order.
  txn TOPIC TXID KEYS ROUNDS
      a transactional producer: each round commits c<round>-<key> for every key, then
      aborts a<round>-<key> for every key (flushed first, so they reach the log).
      Answers {"committed": [[offset, key, value]...], "aborted": [...]}.
  consume TOPIC [ISOLATION=read_uncommitted]
      partition 0 from the beginning to its end: [[offset, key, value], ...]
  watermarks TOPIC   — [low, high] of partition 0

Extra librdkafka settings for every client: KLITE_CLIENT_CONF='{"debug": "protocol"}'.
"""
import json
import os
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
EXTRA = json.loads(os.environ.get("KLITE_CLIENT_CONF", "{}"))


def conf(**kv):
    c = {"bootstrap.servers": bootstrap}
    c.update(kv)
    c.update(EXTRA)
    return c


def text(b):
    return None if b is None else b.decode()


def create(topic, configs):
    admin = AdminClient(conf())
    fs = admin.create_topics([NewTopic(topic, 1, 1, config=json.loads(configs))])
    for f in fs.values():
        f.result()
    return {"created": topic}


def delivered_to(out):
    def cb(err, msg):
        if err:
            raise SystemExit(f"delivery failed: {err}")
        out.append([msg.offset(), text(msg.key()), text(msg.value())])
    return cb


def produce(topic, first, n, keys, codec, tombstone_every, idempotent="false"):
    first, n, keys, tombstone_every = int(first), int(n), int(keys), int(tombstone_every)
    # Batches of at most 50 records, so that small segments roll between them.
    p = Producer(conf(**{"acks": "all", "compression.type": codec, "linger.ms": 20, "batch.num.messages": 50,
                         "enable.idempotence": idempotent == "true"}))
    out = []
    cb = delivered_to(out)
    for i in range(first, first + n):
        tomb = tombstone_every > 0 and i % tombstone_every == 0
        value = None if tomb else f"v{i}-" + "x" * (i % 40)
        while True:
            try:
                p.produce(topic, key=f"k{i % keys}", value=value, partition=0, headers=[("h", str(i).encode())],
                          on_delivery=cb)
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
    if p.flush(60):
        raise SystemExit("records left unflushed")
    return out


def txn(topic, txid, keys, rounds):
    p = Producer(conf(**{"transactional.id": txid, "linger.ms": 5}))
    committed, aborted = [], []
    p.init_transactions(30)
    for r in range(int(rounds)):
        for prefix, out, commit in (("c", committed, True), ("a", aborted, False)):
            p.begin_transaction()
            for k in range(int(keys)):
                p.produce(topic, key=f"k{k}", value=f"{prefix}{r}-k{k}", partition=0, on_delivery=delivered_to(out))
            if commit:
                p.commit_transaction(30)
            else:
                p.flush(30)
                p.abort_transaction(30)
    p.flush(10)
    return {"committed": committed, "aborted": aborted}


def consume(topic, isolation="read_uncommitted"):
    c = Consumer(conf(**{"group.id": "unused-compaction", "enable.auto.commit": False, "isolation.level": isolation,
                         "enable.partition.eof": True}))
    c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    got = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        m = c.poll(0.2)
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                c.close()
                return got
            raise KafkaException(m.error())
        got.append([m.offset(), text(m.key()), text(m.value())])
    raise SystemExit(f"consume {topic}: no end of partition within 60 s; got {len(got)} records")


def watermarks(topic):
    c = Consumer(conf(**{"group.id": "unused-compaction"}))
    lo, hi = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    c.close()
    return [lo, hi]


COMMANDS = {"create": create, "produce": produce, "txn": txn, "consume": consume, "watermarks": watermarks}
print(json.dumps(COMMANDS[cmd](*args)))
