/*
 * A share consumer (KIP-932) on the current librdkafka's public API (2.15, the
 * copy @confluentinc/kafka-javascript builds): rd_kafka_share_consumer_new,
 * rd_kafka_share_subscribe, rd_kafka_share_poll and acknowledgements.
 *
 *   share-consumer BOOTSTRAP GROUP TOPIC MODE [MAX]
 *
 * MODE says what is done with each delivered record:
 *   implicit      implicit acknowledgement (accepted by the next poll)
 *   accept        explicit ACCEPT
 *   release-once  explicit RELEASE on its first delivery, ACCEPT afterwards
 *   reject-odd    explicit REJECT of odd offsets, ACCEPT of the rest
 *   commit        explicit ACCEPT, then rd_kafka_share_commit_sync after each
 *                 poll; prints {"committed":[[p,o],...]} for what the broker
 *                 confirmed
 *   stall         prints the first batch, then stops polling (and so never
 *                 acknowledges) until killed
 *   count         implicit acknowledgement; prints one line per poll instead,
 *                 {"n":RECORDS,"first":FIRST_DELIVERIES} (benchmarks)
 *
 * Prints one JSON line per delivered record, {"p":P,"o":O,"dc":D,"v":"..."},
 * as it arrives, and {"ready":true} once subscribed. Stops after MAX records
 * (when given) or on SIGTERM/SIGINT: commits pending acknowledgements
 * (rd_kafka_share_commit_sync), closes the consumer (which leaves the group),
 * then prints {"closed":true}.
 */
#include <librdkafka/rdkafka.h> /* 2.15: built with -I ahead of any system copy */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop = 0;
static void on_signal(int sig) {
        (void)sig;
        stop = 1;
}

static void die(const char *what, const char *why) {
        fprintf(stderr, "%s: %s\n", what, why);
        exit(1);
}

static void print_value(const rd_kafka_message_t *m) {
        putchar('"');
        const char *s = m->payload;
        for (size_t i = 0; s && i < m->len; i++) {
                char c = s[i];
                if (c == '"' || c == '\\') putchar('\\');
                if ((unsigned char)c < 0x20) continue;
                putchar(c);
        }
        putchar('"');
}

int main(int argc, char **argv) {
        if (argc < 5) die("usage", "share-consumer BOOTSTRAP GROUP TOPIC MODE [MAX]");
        const char *bootstrap = argv[1], *group = argv[2], *topic = argv[3], *mode = argv[4];
        long max = argc > 5 ? atol(argv[5]) : -1;
        int implicit = strcmp(mode, "implicit") == 0;
        int stall = strcmp(mode, "stall") == 0;
        int commit = strcmp(mode, "commit") == 0;
        int count = strcmp(mode, "count") == 0;
        if (count) implicit = 1;
        signal(SIGTERM, on_signal);
        signal(SIGINT, on_signal);
        /* Fully buffered, flushed after each poll: a line per record must not cost a write each. */
        setvbuf(stdout, NULL, _IOFBF, 1 << 16);

        char err[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err) != RD_KAFKA_CONF_OK) die("conf", err);
        if (rd_kafka_conf_set(conf, "group.id", group, err, sizeof err) != RD_KAFKA_CONF_OK) die("conf", err);
        if (rd_kafka_conf_set(conf, "share.acknowledgement.mode", implicit ? "implicit" : "explicit", err, sizeof err) != RD_KAFKA_CONF_OK) die("conf", err);
        const char *debug = getenv("SHARE_DEBUG");
        if (debug && rd_kafka_conf_set(conf, "debug", debug, err, sizeof err) != RD_KAFKA_CONF_OK) die("conf", err);
        rd_kafka_share_t *rkshare = rd_kafka_share_consumer_new(conf, err, sizeof err);
        if (!rkshare) die("rd_kafka_share_consumer_new", err);

        rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
        rd_kafka_resp_err_t e = rd_kafka_share_subscribe(rkshare, topics);
        rd_kafka_topic_partition_list_destroy(topics);
        if (e) die("rd_kafka_share_subscribe", rd_kafka_err2str(e));
        printf("{\"ready\":true}\n");
        fflush(stdout);

        long seen = 0;
        while (!stop && (max < 0 || seen < max)) {
                rd_kafka_messages_t *batch = NULL;
                rd_kafka_error_t *error = rd_kafka_share_poll(rkshare, 200, &batch);
                if (error) {
                        fprintf(stderr, "poll: %s\n", rd_kafka_error_string(error));
                        rd_kafka_error_destroy(error);
                        continue;
                }
                size_t n = rd_kafka_messages_count(batch);
                long *committed = commit ? calloc(n * 2 + 1, sizeof(long)) : NULL;
                size_t ncommitted = 0;
                long firsts = 0;
                for (size_t i = 0; i < n; i++) {
                        rd_kafka_message_t *m = rd_kafka_messages_get(batch, i);
                        if (m->err) {
                                fprintf(stderr, "record error: %s\n", rd_kafka_message_errstr(m));
                                continue;
                        }
                        int16_t dc = rd_kafka_message_delivery_count(m);
                        seen++;
                        if (count) {
                                firsts += dc == 1;
                                continue;
                        }
                        printf("{\"p\":%d,\"o\":%lld,\"dc\":%d,\"v\":", (int)m->partition, (long long)m->offset, (int)dc);
                        print_value(m);
                        printf("}\n");
                        if (implicit || stall) continue;
                        rd_kafka_share_AcknowledgeType_t type = RD_KAFKA_SHARE_ACKNOWLEDGE_TYPE_ACCEPT;
                        if (strcmp(mode, "release-once") == 0 && dc <= 1) type = RD_KAFKA_SHARE_ACKNOWLEDGE_TYPE_RELEASE;
                        if (strcmp(mode, "reject-odd") == 0 && (m->offset % 2) == 1) type = RD_KAFKA_SHARE_ACKNOWLEDGE_TYPE_REJECT;
                        e = rd_kafka_share_acknowledge_type(rkshare, m, type);
                        if (e) die("rd_kafka_share_acknowledge_type", rd_kafka_err2str(e));
                        if (commit) {
                                committed[2 * ncommitted] = m->partition;
                                committed[2 * ncommitted + 1] = (long)m->offset;
                                ncommitted++;
                        }
                }
                rd_kafka_messages_destroy(batch);
                if (count && n > 0) printf("{\"n\":%zu,\"first\":%ld}\n", n, firsts);
                fflush(stdout);
                if (stall && n > 0) {
                        while (!stop) usleep(20000);
                        /* Killed, never closed: nothing was acknowledged. */
                        return 0;
                }
                if (commit && ncommitted > 0) {
                        rd_kafka_topic_partition_list_t *results = NULL;
                        error = rd_kafka_share_commit_sync(rkshare, 10000, &results);
                        if (error) die("rd_kafka_share_commit_sync", rd_kafka_error_string(error));
                        int ok = 1;
                        for (int i = 0; results && i < results->cnt; i++)
                                if (results->elems[i].err) {
                                        fprintf(stderr, "commit of partition %d: %s\n", (int)results->elems[i].partition, rd_kafka_err2str(results->elems[i].err));
                                        ok = 0;
                                }
                        if (results) rd_kafka_topic_partition_list_destroy(results);
                        if (ok) {
                                printf("{\"committed\":[");
                                for (size_t i = 0; i < ncommitted; i++) printf("%s[%ld,%ld]", i ? "," : "", committed[2 * i], committed[2 * i + 1]);
                                printf("]}\n");
                                fflush(stdout);
                        }
                }
                free(committed);
        }
        /* librdkafka 2.15 (preview) does not acknowledge the last poll's records when it closes: commit them first. */
        rd_kafka_topic_partition_list_t *last = NULL;
        rd_kafka_error_t *error = rd_kafka_share_commit_sync(rkshare, 10000, &last);
        if (error) {
                fprintf(stderr, "final commit: %s\n", rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
        }
        if (last) rd_kafka_topic_partition_list_destroy(last);
        error = rd_kafka_share_consumer_close(rkshare);
        if (error) {
                fprintf(stderr, "close: %s\n", rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
        }
        rd_kafka_share_destroy(rkshare);
        printf("{\"closed\":true}\n");
        fflush(stdout);
        return 0;
}
