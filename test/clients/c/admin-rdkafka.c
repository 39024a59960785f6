/*
 * The current librdkafka's admin API (2.15, the copy @confluentinc/kafka-javascript
 * builds) for what its JavaScript binding does not expose: ElectLeaders,
 * DescribeConfigs, IncrementalAlterConfigs, CreateTopics with validate_only,
 * and DeleteRecords.
 *
 *   admin-rdkafka BOOTSTRAP elect TOPIC            ElectLeaders for TOPIC-0, TOPIC-1, TOPIC-7, nosuch-0, then all
 *   admin-rdkafka BOOTSTRAP configs TOPIC          CreateTopics (refused and valid), DescribeConfigs, IncrementalAlterConfigs
 *   admin-rdkafka BOOTSTRAP delete-records TOPIC N DeleteRecords before N on partition 0, then the watermarks
 *
 * Prints one JSON object on stdout; exits non-zero on a client-side failure.
 */
#include <librdkafka/rdkafka.h> /* 2.15: built with -I ahead of any system copy */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "output.h"

static const char *bootstrap;

static rd_kafka_t *client(void) {
        char err[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err) != RD_KAFKA_CONF_OK) die("conf", err);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
        if (!rk) die("rd_kafka_new", err);
        return rk;
}

/* Waits for the admin result of `type` on `q`. */
static rd_kafka_event_t *wait_result(rd_kafka_queue_t *q, rd_kafka_event_type_t type) {
        for (;;) {
                rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
                if (!ev) die("admin", "no result within 30 s");
                if (rd_kafka_event_type(ev) == type) {
                        if (rd_kafka_event_error(ev)) die("admin request", rd_kafka_event_error_string(ev));
                        return ev;
                }
                rd_kafka_event_destroy(ev);
        }
}

static rd_kafka_AdminOptions_t *options(rd_kafka_t *rk, rd_kafka_admin_op_t op, int validate_only) {
        char err[512];
        rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, op);
        rd_kafka_AdminOptions_set_request_timeout(o, 20000, err, sizeof err);
        if (validate_only) rd_kafka_AdminOptions_set_validate_only(o, 1, err, sizeof err);
        return o;
}

/* ------------------------------------------------------------------ elect */

static void print_elect(rd_kafka_t *rk, rd_kafka_queue_t *q, rd_kafka_topic_partition_list_t *parts) {
        rd_kafka_ElectLeaders_t *el = rd_kafka_ElectLeaders_new(RD_KAFKA_ELECTION_TYPE_PREFERRED, parts);
        rd_kafka_ElectLeaders(rk, el, options(rk, RD_KAFKA_ADMIN_OP_ELECTLEADERS, 0), q);
        rd_kafka_ElectLeaders_destroy(el);
        rd_kafka_event_t *ev = wait_result(q, RD_KAFKA_EVENT_ELECTLEADERS_RESULT);
        size_t n;
        const rd_kafka_topic_partition_result_t **res = rd_kafka_ElectLeaders_result_partitions(rd_kafka_event_ElectLeaders_result(ev), &n);
        printf("[");
        for (size_t i = 0; i < n; i++) {
                const rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_result_partition(res[i]);
                const rd_kafka_error_t *e = rd_kafka_topic_partition_result_error(res[i]);
                printf("%s[", i ? "," : "");
                jstr(tp->topic);
                printf(",%d,", tp->partition);
                jstr(e ? rd_kafka_error_name(e) : "NO_ERROR");
                printf("]");
        }
        printf("]");
        rd_kafka_event_destroy(ev);
}

static void elect(const char *topic) {
        rd_kafka_t *rk = client();
        rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
        rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(4);
        rd_kafka_topic_partition_list_add(parts, topic, 0);
        rd_kafka_topic_partition_list_add(parts, topic, 1);
        rd_kafka_topic_partition_list_add(parts, topic, 7);
        rd_kafka_topic_partition_list_add(parts, "nosuch", 0);
        printf("{\"named\":");
        print_elect(rk, q, parts);
        rd_kafka_topic_partition_list_destroy(parts);
        printf(",\"all\":");
        print_elect(rk, q, NULL);
        printf("}\n");
        rd_kafka_queue_destroy(q);
        rd_kafka_destroy(rk);
}

/* ---------------------------------------------------------------- configs */

/* CreateTopics for one topic with `configs` (name, value pairs, NULL-ended); prints [error name, message]. */
static void create(rd_kafka_t *rk, rd_kafka_queue_t *q, const char *topic, const char **configs, int validate_only) {
        char err[512];
        rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, 2, 1, err, sizeof err);
        if (!nt) die("NewTopic", err);
        for (const char **c = configs; c && *c; c += 2) rd_kafka_NewTopic_set_config(nt, c[0], c[1]);
        rd_kafka_CreateTopics(rk, &nt, 1, options(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS, validate_only), q);
        rd_kafka_NewTopic_destroy(nt);
        rd_kafka_event_t *ev = wait_result(q, RD_KAFKA_EVENT_CREATETOPICS_RESULT);
        size_t n;
        const rd_kafka_topic_result_t **res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        printf("[");
        jstr(rd_kafka_err2name(rd_kafka_topic_result_error(res[0])));
        printf(",");
        jstr(rd_kafka_topic_result_error_string(res[0]));
        printf("]");
        rd_kafka_event_destroy(ev);
}

/* DescribeConfigs of a topic: {name: [value, source, synonym count]} for `keys`. */
static void describe(rd_kafka_t *rk, rd_kafka_queue_t *q, const char *topic, const char **keys) {
        rd_kafka_ConfigResource_t *r = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
        rd_kafka_DescribeConfigs(rk, &r, 1, options(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, 0), q);
        rd_kafka_ConfigResource_destroy(r);
        rd_kafka_event_t *ev = wait_result(q, RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT);
        size_t n, nc;
        const rd_kafka_ConfigResource_t **res = rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &n);
        if (rd_kafka_ConfigResource_error(res[0])) die("DescribeConfigs", rd_kafka_ConfigResource_error_string(res[0]));
        const rd_kafka_ConfigEntry_t **entries = rd_kafka_ConfigResource_configs(res[0], &nc);
        printf("{\"count\":%zu", nc);
        for (size_t i = 0; i < nc; i++) {
                const char *name = rd_kafka_ConfigEntry_name(entries[i]);
                for (const char **k = keys; *k; k++) {
                        if (strcmp(*k, name)) continue;
                        size_t ns;
                        rd_kafka_ConfigEntry_synonyms(entries[i], &ns);
                        printf(",");
                        jstr(name);
                        printf(":[");
                        jstr(rd_kafka_ConfigEntry_value(entries[i]));
                        printf(",");
                        jstr(rd_kafka_ConfigSource_name(rd_kafka_ConfigEntry_source(entries[i])));
                        printf(",%zu]", ns);
                }
        }
        printf("}");
        rd_kafka_event_destroy(ev);
}

/* IncrementalAlterConfigs on a topic: one (name, op, value) triple; prints [error name, message]. */
static void alter(rd_kafka_t *rk, rd_kafka_queue_t *q, const char *topic, const char *name, rd_kafka_AlterConfigOpType_t op, const char *value) {
        rd_kafka_ConfigResource_t *r = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
        rd_kafka_error_t *e = rd_kafka_ConfigResource_add_incremental_config(r, name, op, value);
        if (e) die("add_incremental_config", rd_kafka_error_string(e));
        rd_kafka_IncrementalAlterConfigs(rk, &r, 1, options(rk, RD_KAFKA_ADMIN_OP_INCREMENTALALTERCONFIGS, 0), q);
        rd_kafka_ConfigResource_destroy(r);
        rd_kafka_event_t *ev = wait_result(q, RD_KAFKA_EVENT_INCREMENTALALTERCONFIGS_RESULT);
        size_t n;
        const rd_kafka_ConfigResource_t **res = rd_kafka_IncrementalAlterConfigs_result_resources(rd_kafka_event_IncrementalAlterConfigs_result(ev), &n);
        printf("[");
        jstr(rd_kafka_err2name(rd_kafka_ConfigResource_error(res[0])));
        printf(",");
        jstr(rd_kafka_ConfigResource_error_string(res[0]));
        printf("]");
        rd_kafka_event_destroy(ev);
}

static void configs(const char *topic) {
        rd_kafka_t *rk = client();
        rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
        const char *tiny_segment[] = {"segment.bytes", "100", NULL};
        const char *unknown[] = {"constructor", "1", NULL};
        const char *bad_type[] = {"message.timestamp.type", "WallClock", NULL};
        const char *good[] = {"retention.ms", "3600000", "cleanup.policy", "compact,delete", "min.insync.replicas", "1", NULL};
        const char *keys[] = {"retention.ms", "cleanup.policy", "segment.bytes", "compression.type", "min.insync.replicas", "max.message.bytes", NULL};
        printf("{\"tinySegment\":");
        create(rk, q, topic, tiny_segment, 0);
        printf(",\"unknown\":");
        create(rk, q, topic, unknown, 0);
        printf(",\"badType\":");
        create(rk, q, topic, bad_type, 0);
        printf(",\"validateOnly\":");
        create(rk, q, topic, good, 1);
        printf(",\"afterValidateOnly\":");
        create(rk, q, topic, NULL, 1); /* still creatable: validate_only created nothing */
        printf(",\"create\":");
        create(rk, q, topic, good, 0);
        printf(",\"described\":");
        describe(rk, q, topic, keys);
        printf(",\"setCompression\":");
        alter(rk, q, topic, "compression.type", RD_KAFKA_ALTER_CONFIG_OP_TYPE_SET, "zstd");
        printf(",\"setBadCompression\":");
        alter(rk, q, topic, "compression.type", RD_KAFKA_ALTER_CONFIG_OP_TYPE_SET, "brotli");
        printf(",\"subtractPolicy\":");
        alter(rk, q, topic, "cleanup.policy", RD_KAFKA_ALTER_CONFIG_OP_TYPE_SUBTRACT, "delete");
        printf(",\"deleteRetention\":");
        alter(rk, q, topic, "retention.ms", RD_KAFKA_ALTER_CONFIG_OP_TYPE_DELETE, NULL);
        printf(",\"hasOwnProperty\":");
        alter(rk, q, topic, "hasOwnProperty", RD_KAFKA_ALTER_CONFIG_OP_TYPE_SET, "1");
        printf(",\"after\":");
        describe(rk, q, topic, keys);
        printf("}\n");
        rd_kafka_queue_destroy(q);
        rd_kafka_destroy(rk);
}

/* --------------------------------------------------------- delete-records */

static void delete_records(const char *topic, long before) {
        rd_kafka_t *rk = client();
        rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
        rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(parts, topic, 0)->offset = before;
        rd_kafka_DeleteRecords_t *dr = rd_kafka_DeleteRecords_new(parts);
        rd_kafka_topic_partition_list_destroy(parts);
        rd_kafka_DeleteRecords(rk, &dr, 1, options(rk, RD_KAFKA_ADMIN_OP_DELETERECORDS, 0), q);
        rd_kafka_DeleteRecords_destroy(dr);
        rd_kafka_event_t *ev = wait_result(q, RD_KAFKA_EVENT_DELETERECORDS_RESULT);
        const rd_kafka_topic_partition_list_t *got = rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(ev));
        printf("{\"deleted\":[");
        jstr(rd_kafka_err2name(got->elems[0].err));
        printf(",%lld]", (long long)got->elems[0].offset);
        rd_kafka_event_destroy(ev);
        int64_t low, high;
        rd_kafka_resp_err_t werr = rd_kafka_query_watermark_offsets(rk, topic, 0, &low, &high, 10000);
        if (werr) die("watermarks", rd_kafka_err2str(werr));
        printf(",\"watermarks\":[%lld,%lld]", (long long)low, (long long)high);
        rd_kafka_queue_destroy(q);
        rd_kafka_destroy(rk);
        printf("}\n");
}

int main(int argc, char **argv) {
        if (argc < 4) die("usage", "admin-rdkafka BOOTSTRAP elect|configs|delete-records TOPIC [N]");
        bootstrap = argv[1];
        if (!strcmp(argv[2], "elect")) elect(argv[3]);
        else if (!strcmp(argv[2], "configs")) configs(argv[3]);
        else if (!strcmp(argv[2], "delete-records") && argc > 4) delete_records(argv[3], atol(argv[4]));
        else die("usage", "unknown command");
        return 0;
}
