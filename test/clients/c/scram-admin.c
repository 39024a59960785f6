/*
 * SCRAM users through the current librdkafka's admin API (2.15, the copy
 * @confluentinc/kafka-javascript builds): the client salts the password
 * itself and sends AlterUserScramCredentials; DescribeUserScramCredentials
 * lists what the broker keeps. Also reports the build's builtin.features.
 *
 *   scram-admin BOOTSTRAP CONFIG upsert USER MECH PASSWORD ITERATIONS   MECH 256 or 512
 *   scram-admin BOOTSTRAP CONFIG delete USER MECH
 *   scram-admin BOOTSTRAP CONFIG describe [USER...]                     no USER: every user
 *   scram-admin BOOTSTRAP CONFIG features
 *
 * CONFIG: comma-separated key=value client properties, or "-".
 * Prints one JSON object on stdout; exits non-zero on a client-side failure.
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what, const char *why) {
        fprintf(stderr, "%s: %s\n", what, why);
        exit(1);
}

static void jstr(const char *s) {
        if (!s) {
                printf("null");
                return;
        }
        putchar('"');
        for (; *s; s++) {
                if (*s == '"' || *s == '\\') putchar('\\');
                putchar(*s);
        }
        putchar('"');
}

static rd_kafka_t *client(const char *bootstrap, const char *config) {
        char err[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, err, sizeof err) != RD_KAFKA_CONF_OK) die("conf", err);
        if (strcmp(config, "-") != 0) {
                char *copy = strdup(config), *save = NULL;
                for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
                        char *eq = strchr(kv, '=');
                        if (!eq) die("config", kv);
                        *eq = 0;
                        if (rd_kafka_conf_set(conf, kv, eq + 1, err, sizeof err) != RD_KAFKA_CONF_OK) die("conf", err);
                }
                free(copy);
        }
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
        if (!rk) die("rd_kafka_new", err);
        return rk;
}

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

static void print_error(const rd_kafka_error_t *e) {
        printf("\"error\":");
        if (!e || rd_kafka_error_code(e) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                printf("null");
                return;
        }
        printf("{\"code\":%d,\"name\":", rd_kafka_error_code(e));
        jstr(rd_kafka_error_name(e));
        printf(",\"message\":");
        jstr(rd_kafka_error_string(e));
        printf("}");
}

int main(int argc, char **argv) {
        if (argc < 4) die("usage", "scram-admin BOOTSTRAP CONFIG COMMAND ...");
        const char *cmd = argv[3];
        rd_kafka_t *rk = client(argv[1], argv[2]);
        if (!strcmp(cmd, "features")) {
                char buf[1024];
                size_t n = sizeof buf;
                rd_kafka_conf_get(rd_kafka_conf(rk), "builtin.features", buf, &n);
                printf("{\"version\":");
                jstr(rd_kafka_version_str());
                printf(",\"features\":");
                jstr(buf);
                printf("}\n");
                rd_kafka_destroy(rk);
                return 0;
        }
        rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
        rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_ANY);
        char err[512];
        rd_kafka_AdminOptions_set_request_timeout(o, 20000, err, sizeof err);
        if (!strcmp(cmd, "upsert") || !strcmp(cmd, "delete")) {
                if (argc < 6) die("usage", "upsert USER MECH PASSWORD ITERATIONS | delete USER MECH");
                rd_kafka_ScramMechanism_t mech = atoi(argv[5]) == 512 ? RD_KAFKA_SCRAM_MECHANISM_SHA_512 : RD_KAFKA_SCRAM_MECHANISM_SHA_256;
                rd_kafka_UserScramCredentialAlteration_t *alt;
                if (!strcmp(cmd, "upsert")) {
                        if (argc < 8) die("usage", "upsert USER MECH PASSWORD ITERATIONS");
                        alt = rd_kafka_UserScramCredentialUpsertion_new(argv[4], mech, atoi(argv[7]), (const unsigned char *)argv[6], strlen(argv[6]), NULL, 0);
                } else {
                        alt = rd_kafka_UserScramCredentialDeletion_new(argv[4], mech);
                }
                rd_kafka_AlterUserScramCredentials(rk, &alt, 1, o, q);
                rd_kafka_UserScramCredentialAlteration_destroy(alt);
                rd_kafka_event_t *ev = wait_result(q, RD_KAFKA_EVENT_ALTERUSERSCRAMCREDENTIALS_RESULT);
                size_t n;
                const rd_kafka_AlterUserScramCredentials_result_response_t **res =
                    rd_kafka_AlterUserScramCredentials_result_responses(rd_kafka_event_AlterUserScramCredentials_result(ev), &n);
                printf("{\"results\":[");
                for (size_t i = 0; i < n; i++) {
                        printf("%s{\"user\":", i ? "," : "");
                        jstr(rd_kafka_AlterUserScramCredentials_result_response_user(res[i]));
                        printf(",");
                        print_error(rd_kafka_AlterUserScramCredentials_result_response_error(res[i]));
                        printf("}");
                }
                printf("]}\n");
                rd_kafka_event_destroy(ev);
        } else if (!strcmp(cmd, "describe")) {
                rd_kafka_DescribeUserScramCredentials(rk, (const char **)(argv + 4), (size_t)(argc - 4), o, q);
                rd_kafka_event_t *ev = wait_result(q, RD_KAFKA_EVENT_DESCRIBEUSERSCRAMCREDENTIALS_RESULT);
                size_t n;
                const rd_kafka_UserScramCredentialsDescription_t **d =
                    rd_kafka_DescribeUserScramCredentials_result_descriptions(rd_kafka_event_DescribeUserScramCredentials_result(ev), &n);
                printf("{\"users\":[");
                for (size_t i = 0; i < n; i++) {
                        printf("%s{\"user\":", i ? "," : "");
                        jstr(rd_kafka_UserScramCredentialsDescription_user(d[i]));
                        printf(",");
                        print_error(rd_kafka_UserScramCredentialsDescription_error(d[i]));
                        printf(",\"credentials\":[");
                        size_t m = rd_kafka_UserScramCredentialsDescription_scramcredentialinfo_count(d[i]);
                        for (size_t j = 0; j < m; j++) {
                                const rd_kafka_ScramCredentialInfo_t *c = rd_kafka_UserScramCredentialsDescription_scramcredentialinfo(d[i], j);
                                printf("%s{\"mechanism\":%d,\"iterations\":%d}", j ? "," : "", (int)rd_kafka_ScramCredentialInfo_mechanism(c),
                                       (int)rd_kafka_ScramCredentialInfo_iterations(c));
                        }
                        printf("]}");
                }
                printf("]}\n");
                rd_kafka_event_destroy(ev);
        } else {
                die("unknown command", cmd);
        }
        rd_kafka_AdminOptions_destroy(o);
        rd_kafka_queue_destroy(q);
        rd_kafka_destroy(rk);
        return 0;
}
