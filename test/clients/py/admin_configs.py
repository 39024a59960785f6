"""confluent-kafka-python (librdkafka 2.0.2) admin: configs, partitions, cluster, reads below the log start.

usage: admin_configs.py BOOTSTRAP COMMAND ARGS...   — prints one JSON document on stdout.
  cfg TOPIC              describe/alter configs, create partitions, broker configs
  validate TOPIC         CreateTopics refused and validate_only, DescribeConfigs with synonyms, AlterConfigs refusals
  describe TOPIC         DescribeConfigs of TOPIC: {name: [value, source]} for every config
  read_below TOPIC       from offset 0 of partition 0 with auto.offset.reset=error, then =earliest
"""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaError, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

bootstrap, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3:]
a = AdminClient({"bootstrap.servers": bootstrap})


def error_of(fn):
    """[code name, message] of a refused admin call, or "ok"."""
    try:
        fn()
        return "ok"
    except Exception as e:  # noqa: BLE001 - we report the error
        err = e.args[0]
        return [err.name(), err.str()]


def topic_configs(topic):
    res = ConfigResource(ConfigResource.Type.TOPIC, topic)
    return a.describe_configs([res])[res].result()


def cfg(topic):
    out = {}
    a.create_topics([NewTopic(topic, 1, 1)])[topic].result()
    res = ConfigResource(ConfigResource.Type.TOPIC, topic)
    c = topic_configs(topic)
    out["retention_before"] = [c["retention.ms"].value, c["retention.ms"].source]
    a.alter_configs([ConfigResource(ConfigResource.Type.TOPIC, topic, set_config={"retention.ms": "12345", "cleanup.policy": "delete"})])[res].result()
    c = topic_configs(topic)
    out["retention_after"] = [c["retention.ms"].value, c["retention.ms"].source]
    out["bad_config"] = error_of(lambda: a.alter_configs([ConfigResource(ConfigResource.Type.TOPIC, topic, set_config={"no.such.config": "1"})])[res].result())[0]
    a.create_partitions([NewPartitions(topic, 4)])[topic].result()
    out["partitions"] = len(a.list_topics(topic, timeout=10).topics[topic].partitions)
    out["shrink"] = error_of(lambda: a.create_partitions([NewPartitions(topic, 2)])[topic].result())[0]
    broker = ConfigResource(ConfigResource.Type.BROKER, "1")
    out["broker_num_partitions"] = a.describe_configs([broker])[broker].result()["num.partitions"].value
    return out


def validate(topic):
    create = lambda configs, validate_only=False: error_of(  # noqa: E731
        lambda: a.create_topics([NewTopic(topic, 1, 1, config=configs)], validate_only=validate_only)[topic].result()
    )
    out = {
        "ratio_too_big": create({"min.cleanable.dirty.ratio": "1.5"}),
        "not_a_bool": create({"preallocate": "maybe"}),
        "proto": create({"__proto__": "x"}),
        "to_string": create({"toString": "x"}),
        "int_overflow": create({"max.message.bytes": "2147483648"}),
        "validate_only": create({"retention.ms": "-1", "cleanup.policy": "compact"}, True),
        "create": create({"retention.ms": "-1", "cleanup.policy": "compact", "segment.jitter.ms": "10", "message.timestamp.type": "LogAppendTime"}),
    }
    c = topic_configs(topic)
    out["described"] = {
        k: [e.value, e.source, e.is_read_only, e.is_sensitive, [[s.name, s.value, s.source] for s in e.synonyms.values()]]
        for k, e in c.items()
        if k in ("retention.ms", "cleanup.policy", "segment.jitter.ms", "message.timestamp.type", "compression.type")
    }
    out["count"] = len(c)
    res = ConfigResource(ConfigResource.Type.TOPIC, topic)
    alter = lambda configs: error_of(lambda: a.alter_configs([ConfigResource(ConfigResource.Type.TOPIC, topic, set_config=configs)])[res].result())  # noqa: E731
    out["alter_constructor"] = alter({"constructor": "1"})
    out["alter_bad_range"] = alter({"retention.ms": "-5"})
    out["alter_replaces_all"] = alter({"max.message.bytes": "2000000"})
    c = topic_configs(topic)
    out["after_alter"] = {k: [c[k].value, c[k].source] for k in ("max.message.bytes", "retention.ms", "cleanup.policy")}
    return out


def describe(topic):
    return {k: [e.value, e.source] for k, e in topic_configs(topic).items()}


def read_below(topic):
    out = {}
    for reset in ("error", "earliest"):
        c = Consumer({"bootstrap.servers": bootstrap, "group.id": "klite-read-below-" + reset, "auto.offset.reset": reset, "enable.auto.commit": False})
        c.assign([TopicPartition(topic, 0, 0)])
        seen = None
        deadline = time.time() + 20
        while seen is None and time.time() < deadline:
            m = c.poll(0.2)
            if m is None:
                continue
            seen = [m.error().name(), m.error().str()] if m.error() else ["record", m.offset()]
        c.close()
        out[reset] = seen
    return out


print(json.dumps({"cfg": cfg, "validate": validate, "describe": describe, "read_below": read_below}[cmd](*args)))
