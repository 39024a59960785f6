"""confluent-kafka-python (librdkafka 2.0.2) consumer-group scenarios for klite.

usage: groups_py.py BOOTSTRAP COMMAND ARGS...
  rebalance STRATEGY TOPIC GROUP      three consumers join and leave one by one; prints a JSON summary
  resume TOPIC GROUP N                a fresh consumer of GROUP: what it reads before and after N new records
  member TOPIC GROUP [INSTANCE_ID]    a long-lived member printing JSON lines (assigned, revoked, ready)
                                      until stdin closes; session.timeout.ms 6000
  committed TOPIC GROUP PARTITIONS    the group's committed offsets
  list_groups                         AdminClient.list_groups (ListGroups + DescribeGroups)
"""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

bootstrap, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]


def emit(obj):
    print(json.dumps(obj), flush=True)


def produce(topic, start, n, partitions):
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 2})
    for i in range(start, start + n):
        p.produce(topic, key=f"k{i}", value=f"v{i}", partition=i % partitions)
    if p.flush(30) != 0:
        raise RuntimeError("produce did not complete")


class Member:
    """One consumer: records what it reads, commits on revoke so nothing is read twice."""

    def __init__(self, name, group, topic, strategy, seen, extra=None):
        self.name = name
        self.topic = topic
        self.seen = seen
        self.next = {}  # partition -> next offset to commit
        self.revokes = 0
        conf = {"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
                "auto.offset.reset": "earliest", "partition.assignment.strategy": strategy,
                "session.timeout.ms": 10000, "heartbeat.interval.ms": 300, "client.id": name}
        conf.update(extra or {})
        self.c = Consumer(conf)
        self.c.subscribe([topic], on_assign=self.on_assign, on_revoke=self.on_revoke)

    def on_assign(self, c, parts):
        pass

    def on_revoke(self, c, parts):
        self.revokes += 1
        revoked = [p.partition for p in parts]
        self.commit_parts(revoked)
        # Positions of partitions we no longer own must never be committed again.
        for p in revoked:
            self.next.pop(p, None)

    def commit_parts(self, partitions, asynchronous=False):
        offs = [TopicPartition(self.topic, p, self.next[p]) for p in partitions if p in self.next]
        if offs:
            self.c.commit(offsets=offs, asynchronous=asynchronous)

    def poll(self, t):
        m = self.c.poll(t)
        if m is None:
            return
        if m.error():
            raise KafkaException(m.error())
        self.seen.append((m.partition(), m.offset(), self.name))
        self.next[m.partition()] = m.offset() + 1

    def assigned(self):
        return sorted(tp.partition for tp in self.c.assignment())


def create_topic(topic, partitions):
    from confluent_kafka.admin import NewTopic
    a = AdminClient({"bootstrap.servers": bootstrap})
    for f in a.create_topics([NewTopic(topic, partitions, 1)]).values():
        try:
            f.result()
        except KafkaException as e:
            if e.args[0].name() != "TOPIC_ALREADY_EXISTS":
                raise


def rebalance(strategy, topic, group):
    partitions = 6
    create_topic(topic, partitions)
    seen = []
    produced = 0
    members = {}
    report = {"phases": []}

    def pump(cond, what, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for m in list(members.values()):
                m.poll(0.02)
            if cond():
                return
        raise RuntimeError(f"timed out waiting for {what}: " + json.dumps(
            {n: m.assigned() for n, m in members.items()}) + f" seen={len(seen)} produced={produced}")

    def distinct():
        return len({(p, o) for p, o, _ in seen})

    def settled(sizes):
        got = [m.assigned() for m in members.values()]
        flat = sorted(p for a in got for p in a)
        return sorted(len(a) for a in got) == sorted(sizes) and flat == list(range(partitions))

    def phase(name, sizes, commit_async):
        nonlocal produced
        pump(lambda: settled(sizes), f"assignment {sizes} in {name}")
        produce(topic, produced, 120, partitions)
        produced += 120
        pump(lambda: distinct() >= produced, f"all records in {name}")
        for m in members.values():
            m.commit_parts(list(m.next), asynchronous=commit_async)
        report["phases"].append({"phase": name, "assignment": {n: m.assigned() for n, m in members.items()}})

    members["c1"] = Member("c1", group, topic, strategy, seen)
    phase("one member", [6], False)
    members["c2"] = Member("c2", group, topic, strategy, seen)
    phase("second joins", [3, 3], True)
    members["c3"] = Member("c3", group, topic, strategy, seen)
    phase("third joins", [2, 2, 2], False)
    leaving = members.pop("c2")
    leaving.commit_parts(list(leaving.next))
    leaving.c.close()
    phase("second leaves", [3, 3], True)
    for m in members.values():
        m.commit_parts(list(m.next))
        m.c.close()
    keys = [(p, o) for p, o, _ in seen]
    report["produced"] = produced
    report["distinct"] = len(set(keys))
    report["duplicates"] = len(keys) - len(set(keys))
    report["by_member"] = {n: sum(1 for _, _, who in seen if who == n) for n in ("c1", "c2", "c3")}
    report["revokes"] = {"c1": members["c1"].revokes, "c3": members["c3"].revokes, "c2": leaving.revokes}
    return report


def resume(topic, group, n):
    n = int(n)
    seen = []
    m = Member("resumer", group, topic, "range", seen)
    deadline = time.time() + 30
    while not m.assigned() and time.time() < deadline:
        m.poll(0.05)
    # Whatever was committed before stays consumed: read for a while and expect nothing.
    quiet_until = time.time() + 2
    while time.time() < quiet_until:
        m.poll(0.05)
    before = len(seen)
    # Next offsets: the end of what exists now, per partition.
    lows_highs = {p: m.c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in m.assigned()}
    produce(topic, 100000, n, len(lows_highs))
    deadline = time.time() + 30
    while len(seen) < before + n and time.time() < deadline:
        m.poll(0.05)
    m.commit_parts(list(m.next))
    m.c.close()
    after = seen[before:]
    return {"before": before, "after": len(after),
            "from_end": all(o >= lows_highs[p] for p, o, _ in after)}


def member(topic, group, instance=None):
    conf = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500}
    if instance:
        conf["group.instance.id"] = instance
    seen = []
    m = Member(f"member-{instance or 'dyn'}", group, topic, "range", seen, conf)

    def on_assign(c, parts):
        emit({"event": "assigned", "partitions": sorted(p.partition for p in parts)})

    def on_revoke(c, parts):
        emit({"event": "revoked", "partitions": sorted(p.partition for p in parts)})

    m.c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
    import select
    emit({"event": "ready"})
    while True:
        m.poll(0.1)
        r, _, _ = select.select([sys.stdin], [], [], 0)
        if r and not sys.stdin.readline():
            break
    m.c.close()
    emit({"event": "closed"})


def committed(topic, group, partitions):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    r = c.committed([TopicPartition(topic, p) for p in range(int(partitions))], timeout=10)
    c.close()
    return [tp.offset for tp in r]


def list_groups():
    a = AdminClient({"bootstrap.servers": bootstrap})
    out = []
    for g in a.list_groups(timeout=10):
        out.append({"id": g.id, "state": g.state, "protocol_type": g.protocol_type, "protocol": g.protocol,
                    "members": [{"id": m.id, "client_id": m.client_id} for m in g.members]})
    return sorted(out, key=lambda g: g["id"])


fns = {"rebalance": rebalance, "resume": resume, "member": member, "committed": committed,
       "list_groups": list_groups}
result = fns[cmd](*args)
if result is not None:
    emit(result)
