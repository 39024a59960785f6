"""confluent-kafka-python (librdkafka 2.0.2) transactions driver for klite's interop tests.

Run it under /usr/bin/python3 (Debian's python3-confluent-kafka).
usage: txn.py BOOTSTRAP COMMAND ARGS...   — prints one JSON document on stdout
(`hold` prints two JSON lines: one when its transaction is open, one at the end).

  create TOPIC PARTITIONS
  commit_abort TOPIC TXID
      one transactional producer, partition 0: commits c0..c4, aborts a0..a4,
      commits c5..c9. Answers the delivery reports and "sent" (highest version
      of each request the producer sent, from librdkafka's protocol debug log).
  consume TOPIC ISOLATION [values]   — read_committed|read_uncommitted: every partition
      from the beginning to its end (partition EOF); [[partition, offset, key], ...],
      with `values` [[partition, offset, key, value (null for a tombstone)], ...]
  compact_rounds TOPIC TXID KEYS ROUNDS
      partition 0; each round commits c<round>-k<key> for every key, then aborts
      a<round>-k<key> for every key (flushed first, so they reach the log).
      Answers {"committed": [[offset, key, value], ...], "aborted": [...]}
  ctp SRC DST GROUP TXID
      consume-transform-produce: 10 plain records i0..i9 go to SRC partition 0;
      a group consumer reads them, a transactional producer writes t<i> to DST
      partition 0 and sends the consumer's offsets to the transaction. First 5:
      aborted, then the same 5 committed, then the last 5 committed; the group's
      committed offset (committed()) after each end.
  hold TOPIC PARTITION TXID TIMEOUT_MS GROUP
      commits <txid>-c0..c4 with GROUP's offset of TOPIC/PARTITION at 100, then
      opens a transaction with <txid>-o0..o4 (acked) and offset 200, prints
      {"ready": ...} and waits on stdin. A line "abort" aborts it, commits
      <txid>-n0..n4 with offset 300 and prints the result; the test may kill -9
      it instead.
  committed GROUP TOPIC PARTITION [ISOLATION]   — the group's committed offset (-1001: none);
      read_committed (default) waits for offsets no transaction holds
  watermarks TOPIC PARTITION   — high watermark as read_committed (the last stable
      offset) and as read_uncommitted sees it
  crash_end TOPIC TXID commit|abort [wait]
      partitions 0 and 1: commits <txid>-a0..a2 on each, then opens a transaction
      with <txid>-b0..b2 on each (acked), prints {"ready": ...} and ends it as told,
      retrying while the error is retriable (the broker may die during EndTxn and
      come back); prints {"ended": ...}, then commits <txid>-c0..c2 on each and
      prints {"done": ...}. With `wait`, it reads a line from stdin before
      ending the transaction and again before the next one.
  loop TOPIC PARTITION TXID N   — init, then N× begin / one record / commit;
      {"transactions": N, "seconds": time of the N transactions}

Extra librdkafka settings for every client: KLITE_CLIENT_CONF='{"debug": "protocol"}'.
"""
import json
import logging
import os
import re
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
EXTRA = json.loads(os.environ.get("KLITE_CLIENT_CONF", "{}"))
SENT = {}


class SentVersions(logging.Handler):
    """Keeps the highest version of each request type librdkafka logs as sent."""

    PATTERN = re.compile(r"Sent (\w+)Request \(v(\d+)")

    def emit(self, record):
        m = self.PATTERN.search(record.getMessage())
        if m:
            SENT[m.group(1)] = max(SENT.get(m.group(1), -1), int(m.group(2)))
        if os.environ.get("KLITE_CLIENT_LOG"):
            print(record.getMessage(), file=sys.stderr)


LOGGER = logging.getLogger("klite-txn")
LOGGER.addHandler(SentVersions())
LOGGER.setLevel(logging.DEBUG)
LOGGER.propagate = False


def conf(**kv):
    c = {"bootstrap.servers": bootstrap}
    c.update(kv)
    c.update(EXTRA)
    return c


def txn_producer(txid, **kv):
    return Producer(conf(**{"transactional.id": txid, "debug": "protocol", "logger": LOGGER, "linger.ms": 5}, **kv))


def delivered_to(out):
    def cb(err, msg):
        if err:
            out.append({"error": str(err)})
        else:
            out.append({"partition": msg.partition(), "offset": msg.offset(), "key": msg.key().decode()})
    return cb


def create(topic, partitions):
    a = AdminClient(conf())
    fs = a.create_topics([NewTopic(topic, int(partitions), 1)])
    for f in fs.values():
        f.result()
    return {"created": topic}


def in_transaction(p, commit, send):
    """One transaction around send(), which produces its records; committed or aborted."""
    p.begin_transaction()
    send()
    if commit:
        p.commit_transaction(30)
    else:
        # Aborting drops what is still queued: flush first so the aborted records reach the log.
        p.flush(30)
        p.abort_transaction(30)


def commit_abort(topic, txid):
    p = txn_producer(txid)
    out = []
    p.init_transactions(30)
    for prefix, keys, commit in (("c", range(0, 5), True), ("a", range(0, 5), False), ("c", range(5, 10), True)):
        def send():
            for i in keys:
                p.produce(topic, key=f"{prefix}{i}", value=f"v-{prefix}{i}", partition=0, on_delivery=delivered_to(out))
        in_transaction(p, commit, send)
    p.flush(10)
    return {"delivered": out, "sent": SENT}


def consume(topic, isolation, values=None):
    c = Consumer(conf(**{"group.id": "unused-txn-consume", "enable.auto.commit": False, "isolation.level": isolation,
                         "enable.partition.eof": True}))
    parts = sorted(c.list_topics(topic, timeout=10).topics[topic].partitions)
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts])
    at_end = set()
    got = []
    deadline = time.monotonic() + 30
    while len(at_end) < len(parts) and time.monotonic() < deadline:
        m = c.poll(0.2)
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                at_end.add(m.partition())
                continue
            raise KafkaException(m.error())
        at_end.discard(m.partition())
        got.append([m.partition(), m.offset(), m.key().decode()] +
                   ([None if m.value() is None else m.value().decode()] if values else []))
    c.close()
    if len(at_end) < len(parts):
        raise SystemExit(f"consume {topic} {isolation}: no end of partition within 30 s; got {got}")
    return got


def compact_rounds(topic, txid, keys, rounds):
    p = txn_producer(txid)
    committed, aborted = [], []

    def to(out):
        def cb(err, msg):
            if err:
                raise SystemExit(f"delivery failed: {err}")
            out.append([msg.offset(), msg.key().decode(), msg.value().decode()])
        return cb

    p.init_transactions(30)
    for r in range(int(rounds)):
        for prefix, out, commit in (("c", committed, True), ("a", aborted, False)):
            def send():
                for k in range(int(keys)):
                    p.produce(topic, key=f"k{k}", value=f"{prefix}{r}-k{k}", partition=0, on_delivery=to(out))
            in_transaction(p, commit, send)
    p.flush(10)
    return {"committed": committed, "aborted": aborted}


def read(c, n, idle_limit_s=20.0):
    got = []
    last = time.monotonic()
    while len(got) < n and time.monotonic() - last < idle_limit_s:
        m = c.poll(0.2)
        if m is None:
            continue
        if m.error():
            raise KafkaException(m.error())
        last = time.monotonic()
        got.append(m)
    return got


def ctp(src, dst, group, txid):
    plain = Producer(conf(acks="all"))
    for i in range(10):
        plain.produce(src, key=f"i{i}", value=f"v{i}", partition=0)
    if plain.flush(30):
        raise SystemExit("input records not delivered")
    c = Consumer(conf(**{"group.id": group, "enable.auto.commit": False, "isolation.level": "read_committed",
                         "auto.offset.reset": "earliest"}))
    c.subscribe([src])
    p = txn_producer(txid)
    p.init_transactions(30)

    def step(batch, commit):
        p.begin_transaction()
        for m in batch:
            p.produce(dst, key="t" + m.key().decode()[1:], value=m.value(), partition=0)
        p.send_offsets_to_transaction([TopicPartition(src, 0, batch[-1].offset() + 1)], c.consumer_group_metadata(), 30)
        if commit:
            p.commit_transaction(30)
        else:
            p.flush(30)
            p.abort_transaction(30)
        return c.committed([TopicPartition(src, 0)], timeout=10)[0].offset

    first = read(c, 5)
    before = c.committed([TopicPartition(src, 0)], timeout=10)[0].offset
    after_abort = step(first, False)
    after_commit = step(first, True)
    second = read(c, 5)
    after_second_commit = step(second, True)
    c.close()
    return {"consumed": [m.offset() for m in first + second], "before": before, "after_abort": after_abort,
            "after_commit": after_commit, "after_second_commit": after_second_commit, "sent": SENT}


def hold(topic, partition, txid, timeout_ms, group):
    partition = int(partition)
    p = txn_producer(txid, **{"transaction.timeout.ms": int(timeout_ms), "message.timeout.ms": int(timeout_ms)})
    # A consumer that never joins: its metadata carries generation -1 and no member id (a "simple" group).
    idle = Consumer(conf(**{"group.id": group}))
    meta = idle.consumer_group_metadata()
    out = []
    p.init_transactions(30)
    p.begin_transaction()
    for i in range(5):
        p.produce(topic, key=f"{txid}-c{i}", partition=partition, on_delivery=delivered_to(out))
    p.send_offsets_to_transaction([TopicPartition(topic, partition, 100)], meta, 30)
    p.commit_transaction(30)
    p.begin_transaction()
    for i in range(5):
        p.produce(topic, key=f"{txid}-o{i}", partition=partition, on_delivery=delivered_to(out))
    p.send_offsets_to_transaction([TopicPartition(topic, partition, 200)], meta, 30)
    if p.flush(30):
        raise SystemExit("open transaction's records not delivered")
    print(json.dumps({"ready": True, "delivered": out}), flush=True)
    line = sys.stdin.readline().strip()
    if line != "abort":
        return None
    # The broker was restarted meanwhile: the same producer aborts and goes on.
    p.abort_transaction(60)
    after = []
    p.begin_transaction()
    for i in range(5):
        p.produce(topic, key=f"{txid}-n{i}", partition=partition, on_delivery=delivered_to(after))
    p.send_offsets_to_transaction([TopicPartition(topic, partition, 300)], meta, 60)
    p.commit_transaction(60)
    p.flush(10)
    return {"delivered": after, "sent": SENT}


def committed(group, topic, partition, isolation="read_committed"):
    # read_committed asks for stable offsets (KIP-447): while a transaction holds offsets for the
    # partition the broker answers UNSTABLE_OFFSET_COMMIT and librdkafka retries until its timeout.
    c = Consumer(conf(**{"group.id": group, "isolation.level": isolation}))
    offset = c.committed([TopicPartition(topic, int(partition))], timeout=10)[0].offset
    c.close()
    return offset


def watermarks(topic, partition):
    out = {}
    for iso in ("read_committed", "read_uncommitted"):
        c = Consumer(conf(**{"group.id": "unused-wm", "isolation.level": iso}))
        lo, hi = c.get_watermark_offsets(TopicPartition(topic, int(partition)), timeout=10, cached=False)
        c.close()
        out[iso] = hi
    return out


def crash_end(topic, txid, outcome, wait=None):
    p = txn_producer(txid, **{"transaction.timeout.ms": 120000, "message.timeout.ms": 120000})
    out = []
    p.init_transactions(60)

    def txn(prefix):
        p.begin_transaction()
        for part in (0, 1):
            for i in range(3):
                p.produce(topic, key=f"{txid}-{prefix}{i}", partition=part, on_delivery=delivered_to(out))

    txn("a")
    p.commit_transaction(60)
    txn("b")
    if p.flush(60):
        raise SystemExit("open transaction's records not delivered")
    print(json.dumps({"ready": True, "delivered": out}), flush=True)
    if wait:
        sys.stdin.readline()
    errors = []
    deadline = time.monotonic() + 120
    while True:
        try:
            if outcome == "commit":
                p.commit_transaction(60)
            else:
                p.abort_transaction(60)
            break
        except KafkaException as e:
            err = e.args[0]
            errors.append(str(err))
            if not err.retriable() or time.monotonic() > deadline:
                raise
    print(json.dumps({"ended": outcome, "errors": errors}), flush=True)
    if wait:
        sys.stdin.readline()
    txn("c")
    p.commit_transaction(60)
    return {"done": True, "delivered": out}


def loop(topic, partition, txid, n):
    # No protocol debug log here: its Python logging would cost more than the broker.
    p = Producer(conf(**{"transactional.id": txid, "linger.ms": 0}))
    p.init_transactions(30)
    start = time.monotonic()
    for i in range(int(n)):
        p.begin_transaction()
        p.produce(topic, key=f"{txid}-{i}", value=b"x" * 100, partition=int(partition))
        p.commit_transaction(30)
    return {"transactions": int(n), "seconds": time.monotonic() - start}


COMMANDS = {"create": create, "commit_abort": commit_abort, "compact_rounds": compact_rounds, "consume": consume, "ctp": ctp, "hold": hold, "committed": committed,
            "watermarks": watermarks, "loop": loop, "crash_end": crash_end}
result = COMMANDS[cmd](*args)
if result is not None:
    print(json.dumps(result))
