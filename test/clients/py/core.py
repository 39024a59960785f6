"""confluent-kafka-python (librdkafka 2.0.2) driver for klite's interop tests.

Run it under /usr/bin/python3 (Debian's python3-confluent-kafka).
usage: core.py BOOTSTRAP COMMAND ARGS...   — prints one JSON document on stdout.

  produce TOPIC N CODEC [PARTITIONS=1] [IDEMPOTENT=false]
      acks=all; record i: key k<i>, value value-<i>-x*(i%50), header h=<i>,
      timestamp 1_700_000_000_000 + i*1000, partition i % PARTITIONS.
  consume TOPIC PARTITION OFFSET N [assign|seek]
      assign: assign() at OFFSET; seek: assign() at the beginning, then seek()
      to OFFSET once fetching runs. Stops after N records or 10 s without any.
  produce_stream TOPIC N PARTITIONS [RATE]
      like produce (idempotent), but prints each acknowledgement as a JSON
      line the moment it arrives, so a test can kill the broker mid-stream;
      RATE: at most that many records a second
  consume_stream TOPIC PARTITIONS
      assign() every partition at the beginning and print each record as a
      JSON line the moment it is consumed, until killed
  commit GROUP TOPIC PARTITION OFFSET   — a synchronous commit outside group management;
      the error's name, or "ok"
  committed GROUP TOPIC PARTITION   — the group's committed offset (-1001: none)
  resume GROUP TOPIC PARTITION N   — a GROUP consumer assigned the partition at its
      committed offset reads N records (as consume does)
  offsets_for_times TOPIC PARTITION TIMESTAMP_MS   — plus the watermarks
  binary TOPIC N CODEC   — N values covering every byte value (not UTF-8),
      binary keys and headers; consumes them back and compares byte for byte
  metadata               — list_topics(): brokers and partitions per topic
  admin create|delete|list NAMES...   — AdminClient
  create_configured TOPIC CONFIGS_JSON   — one partition, the given topic configs
  updates TOPIC FIRST N KEYS CODEC TOMBSTONE_EVERY
      acks=all, batches of at most 50 records, partition 0; record i (FIRST <= i < FIRST+N):
      key k<i % KEYS>, value v<i>-x*(i%40), or a tombstone (null value) when
      TOMBSTONE_EVERY > 0 and i % TOMBSTONE_EVERY == 0. Answers [[offset, key, value], ...].

Extra librdkafka settings for every client: KLITE_CLIENT_CONF='{"debug": "protocol"}'.
"""
import json
import os
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
EXTRA = json.loads(os.environ.get("KLITE_CLIENT_CONF", "{}"))


def conf(**kv):
    c = {"bootstrap.servers": bootstrap}
    c.update(kv)
    c.update(EXTRA)
    return c


def delivered_to(out):
    def cb(err, msg):
        if err:
            out.append({"error": str(err)})
        else:
            out.append({"partition": msg.partition(), "offset": msg.offset(), "key": msg.key().decode("latin-1")})
    return cb


def produce(topic, n, compression, partitions="1", idempotent="false"):
    p = Producer(conf(**{"acks": "all", "compression.type": compression,
                         "enable.idempotence": idempotent == "true", "linger.ms": 5}))
    out = []
    cb = delivered_to(out)
    for i in range(int(n)):
        p.produce(topic, key=f"k{i}", value=f"value-{i}-" + "x" * (i % 50), partition=i % int(partitions),
                  headers=[("h", f"{i}".encode())], timestamp=1_700_000_000_000 + i * 1000, on_delivery=cb)
        p.poll(0)
    left = p.flush(60)
    return {"unflushed": left, "delivered": out}


def produce_values(topic, partition, *values):
    """acks=all, one record per value (keys v<i>) to one partition, in order; the delivery reports."""
    p = Producer(conf(**{"acks": "all", "linger.ms": 5}))
    out = []
    cb = delivered_to(out)
    for i, v in enumerate(values):
        p.produce(topic, key=f"v{i}", value=v, partition=int(partition), on_delivery=cb)
        p.poll(0)
    p.flush(60)
    return out


def produce_stream(topic, n, partitions, rate="0"):
    p = Producer(conf(**{"acks": "all", "enable.idempotence": True, "linger.ms": 2}))
    start, rate = time.monotonic(), float(rate)

    def cb(err, msg):
        if not err:
            print(json.dumps({"partition": msg.partition(), "offset": msg.offset(), "key": msg.key().decode()}), flush=True)

    for i in range(int(n)):
        while True:
            try:
                p.produce(topic, key=f"k{i}", value=f"value-{i}-" + "x" * (i % 50), partition=i % int(partitions), on_delivery=cb)
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
        if rate > 0:
            ahead = start + (i + 1) / rate - time.monotonic()
            if ahead > 0:
                p.poll(ahead)
    p.flush(60)
    return None


def read(c, n, keep=lambda m: True, idle_limit_s=10.0):
    """Polls until n kept records arrived or nothing came for idle_limit_s."""
    got = []
    last = time.monotonic()
    while len(got) < n and time.monotonic() - last < idle_limit_s:
        m = c.poll(0.2)
        if m is None:
            continue
        if m.error():
            raise KafkaException(m.error())
        last = time.monotonic()
        if keep(m):
            got.append(m)
    return got


def as_json(m):
    return {"offset": m.offset(), "key": m.key().decode() if m.key() is not None else None,
            "value": m.value().decode() if m.value() is not None else None,
            "headers": [[k, v.decode()] for k, v in (m.headers() or [])],
            "timestamp": m.timestamp()[1]}


def consume(topic, partition, offset, n, mode="assign"):
    c = Consumer(conf(**{"group.id": "unused-assign", "enable.auto.commit": False}))
    partition, offset, n = int(partition), int(offset), int(n)
    if mode == "seek":
        c.assign([TopicPartition(topic, partition, OFFSET_BEGINNING)])
        # seek() needs an active fetcher for the partition: wait for the first record.
        first = read(c, 1)
        if not first:
            c.close()
            return []
        c.seek(TopicPartition(topic, partition, offset))
        # Records fetched before the seek may still be queued; skip anything before the target.
        got = read(c, n, keep=lambda m: m.offset() >= offset)
    else:
        c.assign([TopicPartition(topic, partition, offset)])
        got = read(c, n)
    c.close()
    return [as_json(m) for m in got]


def consume_stream(topic, partitions):
    c = Consumer(conf(**{"group.id": "unused-stream", "enable.auto.commit": False, "fetch.wait.max.ms": 10}))
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(int(partitions))])
    while True:
        m = c.poll(0.1)
        if m is None or m.error():
            continue
        print(json.dumps({"partition": m.partition(), "offset": m.offset(), "key": m.key().decode()}), flush=True)


def commit(group, topic, partition, offset):
    c = Consumer(conf(**{"group.id": group, "enable.auto.commit": False}))
    try:
        c.commit(offsets=[TopicPartition(topic, int(partition), int(offset))], asynchronous=False)
        return "ok"
    except KafkaException as e:
        return e.args[0].name()
    finally:
        c.close()


def committed(group, topic, partition):
    c = Consumer(conf(**{"group.id": group, "enable.auto.commit": False}))
    r = c.committed([TopicPartition(topic, int(partition))], timeout=10)
    c.close()
    return r[0].offset


def resume(group, topic, partition, n):
    c = Consumer(conf(**{"group.id": group, "enable.auto.commit": False, "auto.offset.reset": "error"}))
    c.assign([TopicPartition(topic, int(partition))])
    got = read(c, int(n))
    c.close()
    return [as_json(m) for m in got]


def offsets_for_times(topic, partition, ts):
    c = Consumer(conf(**{"group.id": "unused-oft"}))
    r = c.offsets_for_times([TopicPartition(topic, int(partition), int(ts))], timeout=10)
    lo, hi = c.get_watermark_offsets(TopicPartition(topic, int(partition)), timeout=10)
    c.close()
    return {"offset": r[0].offset, "low": lo, "high": hi}


def binary_value(i):
    # Every byte value 0..255 appears, rotated per record; lengths vary, one is empty.
    return bytes((i + j) % 256 for j in range((i * 37) % 700))


def binary(topic, n, compression):
    n = int(n)
    p = Producer(conf(**{"acks": "all", "compression.type": compression, "linger.ms": 5}))
    out = []
    for i in range(n):
        p.produce(topic, key=bytes([0xff, 0x00, i % 256]), value=binary_value(i), partition=0,
                  headers=[("bin", bytes([0x80, i % 256, 0x00]))], on_delivery=delivered_to(out))
        p.poll(0)
    left = p.flush(60)
    errors = [d for d in out if "error" in d]
    first = min((d["offset"] for d in out if "offset" in d), default=0)
    c = Consumer(conf(**{"group.id": "unused-binary", "enable.auto.commit": False}))
    c.assign([TopicPartition(topic, 0, first)])
    got = read(c, n)
    c.close()
    mismatches = []
    for i, m in enumerate(got):
        want = (bytes([0xff, 0x00, i % 256]), binary_value(i), [("bin", bytes([0x80, i % 256, 0x00]))])
        have = (m.key(), m.value() or b"", m.headers() or [])
        if have != want:
            mismatches.append({"index": i, "offset": m.offset()})
    return {"unflushed": left, "errors": errors, "sent": n, "received": len(got), "mismatches": mismatches[:10]}


def metadata():
    a = AdminClient(conf())
    md = a.list_topics(timeout=10)
    return {"brokers": sorted([b.id, b.host, b.port] for b in md.brokers.values()),
            "topics": {name: {"partitions": sorted(t.partitions), "error": t.error.name() if t.error else None}
                       for name, t in md.topics.items()}}


def admin(action, *names):
    a = AdminClient(conf())
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


def create_configured(topic, configs):
    a = AdminClient(conf())
    for f in a.create_topics([NewTopic(topic, 1, 1, config=json.loads(configs))]).values():
        f.result()
    return {"created": topic}


def updates(topic, first, n, keys, codec, tombstone_every):
    first, n, keys, tombstone_every = int(first), int(n), int(keys), int(tombstone_every)
    # Small batches, so that small segments roll between them.
    p = Producer(conf(**{"acks": "all", "compression.type": codec, "linger.ms": 20, "batch.num.messages": 50}))
    out = []

    def cb(err, msg):
        if err:
            raise SystemExit(f"delivery failed: {err}")
        out.append([msg.offset(), msg.key().decode(), None if msg.value() is None else msg.value().decode()])

    for i in range(first, first + n):
        value = None if tombstone_every > 0 and i % tombstone_every == 0 else f"v{i}-" + "x" * (i % 40)
        while True:
            try:
                p.produce(topic, key=f"k{i % keys}", value=value, partition=0, on_delivery=cb)
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
    if p.flush(60):
        raise SystemExit("records left unflushed")
    return out


COMMANDS = {"produce": produce, "produce_values": produce_values, "produce_stream": produce_stream, "consume_stream": consume_stream, "consume": consume,
            "commit": commit, "committed": committed, "resume": resume, "offsets_for_times": offsets_for_times,
            "binary": binary, "metadata": metadata, "admin": admin, "create_configured": create_configured, "updates": updates}
result = COMMANDS[cmd](*args)
if result is not None:
    print(json.dumps(result))
