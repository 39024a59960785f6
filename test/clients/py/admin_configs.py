"""confluent-kafka-python admin: configs, partitions, cluster. usage: admin_configs.py BOOTSTRAP TOPIC"""
import json
import sys

from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

bootstrap, topic = sys.argv[1], sys.argv[2]
a = AdminClient({"bootstrap.servers": bootstrap})
out = {}
a.create_topics([NewTopic(topic, 1, 1)])[topic].result()
res = ConfigResource(ConfigResource.Type.TOPIC, topic)
cfg = a.describe_configs([res])[res].result()
out["retention_before"] = [cfg["retention.ms"].value, cfg["retention.ms"].source]
a.alter_configs([ConfigResource(ConfigResource.Type.TOPIC, topic, set_config={"retention.ms": "12345", "cleanup.policy": "delete"})])[res].result()
cfg = a.describe_configs([res])[res].result()
out["retention_after"] = [cfg["retention.ms"].value, cfg["retention.ms"].source]
try:
    a.alter_configs([ConfigResource(ConfigResource.Type.TOPIC, topic, set_config={"no.such.config": "1"})])[res].result()
    out["bad_config"] = "accepted"
except Exception as e:  # noqa: BLE001 - we report the error code name
    out["bad_config"] = e.args[0].name()
a.create_partitions([NewPartitions(topic, 4)])[topic].result()
out["partitions"] = len(a.list_topics(topic, timeout=10).topics[topic].partitions)
try:
    a.create_partitions([NewPartitions(topic, 2)])[topic].result()
    out["shrink"] = "accepted"
except Exception as e:  # noqa: BLE001
    out["shrink"] = e.args[0].name()
broker = ConfigResource(ConfigResource.Type.BROKER, "1")
bcfg = a.describe_configs([broker])[broker].result()
out["broker_num_partitions"] = bcfg["num.partitions"].value
print(json.dumps(out))
