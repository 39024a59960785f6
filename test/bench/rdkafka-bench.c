/*
 * Load generator for test/bench/broker.ts, compiled by it at run time against
 * the system librdkafka. Each mode prints one JSON line on stdout; progress and
 * errors go to stderr.
 *
 *   produce  BROKERS TOPIC COUNT SIZE PARTITIONS [prop=value ...]
 *   consume  BROKERS TOPIC COUNT PARTITIONS [prop=value ...]
 *   loopback BYTES CHUNK
 *   source   PORT BYTES CHUNK      (connect to 127.0.0.1:PORT and write BYTES)
 *   sink                           (print the port, read one connection to EOF)
 *
 * produce: COUNT records of SIZE bytes, record i to partition i % PARTITIONS,
 * values passed without copying so the client does as little as possible.
 * Latency of a record is delivery-report time minus the time just before it
 * was handed to the client, so it includes time spent queued in the client.
 *
 * consume: assigns every partition from the beginning and reads until COUNT
 * records arrived, in batches off the consumer queue.
 *
 * loopback: a forked sender writes BYTES over 127.0.0.1 TCP in CHUNK-sized
 * writes to the parent, which reads and discards them: the ceiling for any
 * byte stream between two processes on this machine.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *detail) {
  fprintf(stderr, "rdkafka-bench: %s: %s\n", what, detail);
  exit(2);
}

static void rusage_of(int who, double *user, double *sys) {
  struct rusage ru;
  getrusage(who, &ru);
  *user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
  *sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* CPU seconds of this process's busiest thread and its name: a thread near 100%
 * of the wall time means the client, not the broker, sets the pace. */
static double busiest_thread(char *name, size_t name_len) {
  double best = 0;
  snprintf(name, name_len, "?");
  DIR *d = opendir("/proc/self/task");
  if (!d) return 0;
  struct dirent *e;
  long ticks = sysconf(_SC_CLK_TCK);
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char path[300], line[1024];
    snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = '\0';
    char *open = strchr(line, '('), *close = strrchr(line, ')');
    if (!open || !close) continue;
    unsigned long ut = 0, st = 0;
    /* after ")": state(3) ... utime is field 14, stime 15 */
    if (sscanf(close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) continue;
    double cpu = (double)(ut + st) / (double)ticks;
    if (cpu > best) {
      best = cpu;
      size_t len = (size_t)(close - open - 1);
      if (len >= name_len) len = name_len - 1;
      memcpy(name, open + 1, len);
      name[len] = '\0';
    }
  }
  closedir(d);
  return best;
}

static void set_props(rd_kafka_conf_t *conf, int argc, char *const *argv) {
  char err[512];
  for (int i = 0; i < argc; i++) {
    char name[256];
    const char *eq = strchr(argv[i], '=');
    if (!eq || (size_t)(eq - argv[i]) >= sizeof name) die("expected name=value", argv[i]);
    memcpy(name, argv[i], (size_t)(eq - argv[i]));
    name[eq - argv[i]] = '\0';
    if (rd_kafka_conf_set(conf, name, eq + 1, err, sizeof err) != RD_KAFKA_CONF_OK) die(name, err);
  }
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* ---- produce ---- */

static double *sent_at;
static double *latency;
static long delivered, failed;
static double last_delivery;
static char first_error[256];

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  (void)rk;
  (void)opaque;
  long i = (long)(intptr_t)m->_private;
  double t = now_s();
  if (m->err) {
    if (!failed++) snprintf(first_error, sizeof first_error, "%s", rd_kafka_err2str(m->err));
    latency[i] = -1;
  } else {
    latency[i] = t - sent_at[i];
  }
  delivered++;
  last_delivery = t;
}

static int produce(int argc, char **argv) {
  if (argc < 5) die("usage", "produce BROKERS TOPIC COUNT SIZE PARTITIONS [rate=RECORDS_PER_S] [values=text] [prop=value ...]");
  const char *brokers = argv[0], *topic = argv[1];
  long count = atol(argv[2]);
  size_t size = (size_t)atol(argv[3]);
  int partitions = atoi(argv[4]);
  if (count <= 0 || partitions <= 0) die("usage", "COUNT and PARTITIONS must be positive");

  /* A paced run measures latency without the client's own queue in it. */
  double rate = 0;
  argc -= 5, argv += 5;
  if (argc > 0 && !strncmp(argv[0], "rate=", 5)) rate = atof(argv[0] + 5), argc--, argv++;
  /* values=text: each record a different stretch of text made of 256 random
     words, so that compression has something to do, as with JSON or log lines. */
  int text = 0;
  if (argc > 0 && !strcmp(argv[0], "values=text")) text = 1, argc--, argv++;

  char err[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  set_props(conf, 1, (char *[]){"acks=all"});
  set_props(conf, argc, argv);
  if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof err) != RD_KAFKA_CONF_OK) die("bootstrap.servers", err);
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) die("rd_kafka_new", err);

  /* Incompressible-looking bytes shared by every record, or a pool of text
     (never copied or freed). */
  size_t pool_size = text ? size + (8u << 20) : size;
  unsigned char *value = malloc(pool_size ? pool_size : 1);
  uint32_t x = 2463534242u;
  if (text) {
    char words[256][9];
    for (int w = 0; w < 256; w++) {
      x ^= x << 13, x ^= x >> 17, x ^= x << 5;
      int len = 3 + (int)(x % 6);
      for (int c = 0; c < len; c++) x ^= x << 13, x ^= x >> 17, x ^= x << 5, words[w][c] = (char)('a' + x % 26);
      words[w][len] = '\0';
    }
    for (size_t i = 0; i < pool_size;) {
      x ^= x << 13, x ^= x >> 17, x ^= x << 5;
      for (const char *c = words[x & 255]; *c && i < pool_size; c++) value[i++] = (unsigned char)*c;
      if (i < pool_size) value[i++] = ' ';
    }
  } else {
    for (size_t i = 0; i < size; i++) {
      x ^= x << 13, x ^= x >> 17, x ^= x << 5;
      value[i] = (unsigned char)x;
    }
  }
  sent_at = malloc(sizeof(double) * (size_t)count);
  latency = malloc(sizeof(double) * (size_t)count);

  double start = now_s();
  for (long i = 0; i < count; i++) {
    for (;;) {
      sent_at[i] = now_s();
      rd_kafka_resp_err_t e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION((int32_t)(i % partitions)),
                                                RD_KAFKA_V_VALUE(value + (text ? (size_t)i * size % (pool_size - size + 1) : 0), size), RD_KAFKA_V_MSGFLAGS(0),
                                                RD_KAFKA_V_OPAQUE((void *)(intptr_t)i), RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) die("produce", rd_kafka_err2str(e));
      rd_kafka_poll(rk, 1);
    }
    if ((i & 63) == 0) {
      rd_kafka_poll(rk, 0);
      if (rate > 0) {
        double due = start + (double)(i + 1) / rate, wait = due - now_s();
        if (wait > 0) rd_kafka_poll(rk, (int)(wait * 1000));
      }
    }
  }
  while (delivered < count) rd_kafka_poll(rk, 100);
  double elapsed = last_delivery - start;

  long ok = 0;
  for (long i = 0; i < count; i++)
    if (latency[i] >= 0) latency[ok++] = latency[i];
  qsort(latency, (size_t)ok, sizeof(double), cmp_double);
  double p50 = ok ? latency[(size_t)(ok * 0.50)] : 0, p99 = ok ? latency[(size_t)(ok * 0.99)] : 0, max = ok ? latency[ok - 1] : 0;

  double user, sys;
  rusage_of(RUSAGE_SELF, &user, &sys);
  char thread[64];
  double thread_cpu = busiest_thread(thread, sizeof thread);
  printf("{\"records\":%ld,\"failed\":%ld,\"bytes\":%.0f,\"elapsed\":%.6f,\"p50\":%.6f,\"p99\":%.6f,\"max\":%.6f,\"user\":%.3f,\"sys\":%.3f,"
         "\"thread\":\"%s\",\"threadCpu\":%.3f,\"error\":\"%s\"}\n",
         ok, failed, (double)ok * (double)size, elapsed, p50, p99, max, user, sys, thread, thread_cpu, first_error);
  fflush(stdout);
  rd_kafka_destroy(rk);
  return failed ? 1 : 0;
}

/* ---- consume ---- */

static int consume(int argc, char **argv) {
  if (argc < 4) die("usage", "consume BROKERS TOPIC COUNT PARTITIONS [prop=value ...]");
  const char *brokers = argv[0], *topic = argv[1];
  long count = atol(argv[2]);
  int partitions = atoi(argv[3]);

  char err[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  /* librdkafka wants a group.id for its consumer; with assign() and no commits the broker never sees the group. */
  set_props(conf, 3, (char *[]){"group.id=klite-bench", "enable.auto.commit=false", "enable.auto.offset.store=false"});
  set_props(conf, argc - 4, argv + 4);
  if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof err) != RD_KAFKA_CONF_OK) die("bootstrap.servers", err);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk) die("rd_kafka_new", err);
  rd_kafka_poll_set_consumer(rk);

  rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; p++) rd_kafka_topic_partition_list_add(parts, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;

  double start = now_s();
  rd_kafka_resp_err_t e = rd_kafka_assign(rk, parts);
  if (e) die("assign", rd_kafka_err2str(e));
  rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(rk);

  enum { BATCH = 4096 };
  rd_kafka_message_t *msgs[BATCH];
  long got = 0, errors = 0;
  double bytes = 0, last = start, idle_since = start;
  /* The clock for the rate starts at the first records: before them librdkafka
   * spends a fixed ~0.5 s (connect, then its timed offset query for BEGINNING),
   * which says nothing about the broker. Records of that first batch are
   * counted in `records` but not in the rate's numerator. */
  double first_at = -1, steady_bytes = 0;
  long steady_records = 0;
  char first[256] = "";
  while (got < count) {
    ssize_t n = rd_kafka_consume_batch_queue(q, 100, msgs, BATCH);
    double t = now_s();
    if (n <= 0) {
      if (t - idle_since > 30) die("consume", "no records for 30 s");
      continue;
    }
    idle_since = t;
    int first_batch = first_at < 0;
    if (first_batch) first_at = t;
    for (ssize_t i = 0; i < n; i++) {
      rd_kafka_message_t *m = msgs[i];
      if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF && !errors++) snprintf(first, sizeof first, "%s", rd_kafka_message_errstr(m));
      } else {
        got++;
        bytes += (double)m->len;
        if (!first_batch) {
          steady_records++;
          steady_bytes += (double)m->len;
        }
      }
      rd_kafka_message_destroy(m);
    }
    last = t;
  }
  double user, sys;
  rusage_of(RUSAGE_SELF, &user, &sys);
  char thread[64];
  double thread_cpu = busiest_thread(thread, sizeof thread);
  /* With everything in one batch there is no steady part: fall back to the whole run. */
  if (steady_records == 0 || last <= first_at) {
    steady_records = got;
    steady_bytes = bytes;
    first_at = start;
  }
  printf("{\"records\":%ld,\"bytes\":%.0f,\"elapsed\":%.6f,\"startup\":%.6f,\"totalRecords\":%ld,\"totalBytes\":%.0f,\"totalElapsed\":%.6f,\"errors\":%ld,"
         "\"user\":%.3f,\"sys\":%.3f,\"thread\":\"%s\",\"threadCpu\":%.3f,\"error\":\"%s\"}\n",
         steady_records, steady_bytes, last - first_at, first_at - start, got, bytes, last - start, errors, user, sys, thread, thread_cpu, first);
  fflush(stdout);
  rd_kafka_queue_destroy(q);
  rd_kafka_topic_partition_list_destroy(parts);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return 0;
}

/* ---- small socket helpers ---- */

/** Reads `fd` to end of stream into `buf` (reused), returning the byte count. */
static double read_to_eof(int fd, char *buf, size_t chunk) {
  double got = 0;
  for (;;) {
    ssize_t r = read(fd, buf, chunk);
    if (r < 0) die("read", strerror(errno));
    if (r == 0) return got;
    got += (double)r;
  }
}

/** A TCP connection to 127.0.0.1:port, Nagle off. */
static int connect_loopback(const char *port) {
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(s, (struct sockaddr *)&addr, sizeof addr)) die("connect", strerror(errno));
  int one = 1;
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return s;
}

/* ---- loopback ---- */

static int loopback(int argc, char **argv) {
  if (argc < 2) die("usage", "loopback BYTES CHUNK");
  double total = atof(argv[0]);
  size_t chunk = (size_t)atol(argv[1]);
  char *buf = calloc(1, chunk);

  int ls = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t alen = sizeof addr;
  if (bind(ls, (struct sockaddr *)&addr, sizeof addr) || listen(ls, 1) || getsockname(ls, (struct sockaddr *)&addr, &alen))
    die("listen", strerror(errno));

  pid_t child = fork();
  if (child == 0) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(s, (struct sockaddr *)&addr, sizeof addr)) die("connect", strerror(errno));
    double left = total;
    while (left > 0) {
      size_t n = left < (double)chunk ? (size_t)left : chunk;
      ssize_t w = write(s, buf, n);
      if (w < 0) die("write", strerror(errno));
      left -= (double)w;
    }
    close(s);
    _exit(0);
  }
  int c = accept(ls, NULL, NULL);
  if (c < 0) die("accept", strerror(errno));
  double start = now_s(), got = read_to_eof(c, buf, chunk);
  double elapsed = now_s() - start;
  waitpid(child, NULL, 0);
  double user, sys, cuser, csys;
  rusage_of(RUSAGE_SELF, &user, &sys);
  rusage_of(RUSAGE_CHILDREN, &cuser, &csys);
  printf("{\"bytes\":%.0f,\"elapsed\":%.6f,\"user\":%.3f,\"sys\":%.3f}\n", got, elapsed, user + cuser, sys + csys);
  return got == total ? 0 : 1;
}


/* ---- rawfetch: a pipelined Fetch client without librdkafka ----
 *
 * librdkafka keeps one Fetch in flight per broker and parses every record
 * before it asks again, so its consume rate is bounded by that round trip,
 * not by the broker. This reads the same data the way a pipelining client
 * would: one Fetch v4 per partition in flight at all times, each answer walked
 * only as far as batch headers (to learn the next offset and count records).
 * It checks offsets are contiguous and stops at COUNT records.
 *
 *   rawfetch PORT TOPIC COUNT PARTITIONS VALUE_SIZE [PARTITION_MAX_BYTES]
 */

static void put16(unsigned char **p, int v) { (*p)[0] = (unsigned char)(v >> 8); (*p)[1] = (unsigned char)v; *p += 2; }
static void put32(unsigned char **p, int32_t v) { for (int i = 3; i >= 0; i--) *(*p)++ = (unsigned char)((uint32_t)v >> (i * 8)); }
static void put64(unsigned char **p, int64_t v) { for (int i = 7; i >= 0; i--) *(*p)++ = (unsigned char)((uint64_t)v >> (i * 8)); }
static int32_t get32(const unsigned char *p) { return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]); }
static int16_t get16(const unsigned char *p) { return (int16_t)(p[0] << 8 | p[1]); }
static int64_t get64(const unsigned char *p) { return (int64_t)((uint64_t)(uint32_t)get32(p) << 32 | (uint32_t)get32(p + 4)); }

static void read_full(int s, unsigned char *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(s, buf + got, n - got);
    if (r <= 0) die("rawfetch read", r == 0 ? "connection closed" : strerror(errno));
    got += (size_t)r;
  }
}

static void send_fetch(int s, int32_t corr, const char *topic, int32_t partition, int64_t offset, int32_t max_bytes) {
  unsigned char buf[512], *p = buf + 4;
  size_t tlen = strlen(topic);
  put16(&p, 1); put16(&p, 4); put32(&p, corr); put16(&p, 8); memcpy(p, "rawfetch", 8); p += 8;
  put32(&p, -1); put32(&p, 500); put32(&p, 1); put32(&p, max_bytes); *p++ = 0;
  put32(&p, 1); put16(&p, (int)tlen); memcpy(p, topic, tlen); p += tlen;
  put32(&p, 1); put32(&p, partition); put64(&p, offset); put32(&p, max_bytes);
  unsigned char *q = buf;
  put32(&q, (int32_t)(p - buf - 4));
  if (write(s, buf, (size_t)(p - buf)) != p - buf) die("rawfetch write", strerror(errno));
}

static int rawfetch(int argc, char **argv) {
  if (argc < 5) die("usage", "rawfetch PORT TOPIC COUNT PARTITIONS VALUE_SIZE [PARTITION_MAX_BYTES]");
  const char *topic = argv[1];
  long count = atol(argv[2]);
  int partitions = atoi(argv[3]);
  double value_size = atof(argv[4]);
  int32_t max_bytes = argc > 5 ? atoi(argv[5]) : 4 << 20;
  int s = connect_loopback(argv[0]);
  int64_t *next = calloc((size_t)partitions, sizeof *next);
  size_t cap = (size_t)max_bytes + 65536;
  unsigned char *buf = malloc(cap);
  double start = now_s();
  /* Responses come back in request order: a ring of the partition of each request in flight. */
  int *ring = calloc((size_t)partitions, sizeof *ring), head = 0;
  int32_t corr = 0;
  for (int p = 0; p < partitions; p++) { ring[p] = p; send_fetch(s, ++corr, topic, p, 0, max_bytes); }
  long got = 0, batches = 0;
  double wire = 0;
  while (got < count) {
    unsigned char sz[4];
    read_full(s, sz, 4);
    size_t n = (size_t)get32(sz);
    if (n > cap) { cap = n; buf = realloc(buf, cap); }
    read_full(s, buf, n);
    wire += (double)n + 4;
    int part = ring[head];
    head = (head + 1) % partitions;
    /* correlation id, throttle, 1 topic (name), 1 partition */
    const unsigned char *p = buf + 4 + 4 + 4;
    p += 2 + get16(p);
    p += 4;
    int32_t index = get32(p); p += 4;
    int16_t err = get16(p); p += 2;
    if (index != part || err != 0) { fprintf(stderr, "rawfetch: partition %d error %d\n", index, err); return 1; }
    p += 8 + 8;                                   /* high watermark, last stable offset */
    int32_t aborted = get32(p); p += 4;
    if (aborted > 0) p += (size_t)aborted * 16;
    int32_t rlen = get32(p); p += 4;
    const unsigned char *r = p, *end = p + (rlen > 0 ? rlen : 0);
    while (end - r >= 61) {
      int64_t base = get64(r);
      int32_t blen = get32(r + 8);
      if (r + 12 + blen > end) break;             /* a partial batch at the end of the answer */
      if (base != next[part]) { fprintf(stderr, "rawfetch: partition %d offset %lld, expected %lld\n", part, (long long)base, (long long)next[part]); return 1; }
      next[part] = base + get32(r + 23) + 1;
      got += get32(r + 57);
      batches++;
      r += 12 + blen;
    }
    ring[(head + partitions - 1) % partitions] = part;
    send_fetch(s, ++corr, topic, part, next[part], max_bytes);
  }
  double elapsed = now_s() - start;
  double user, sys;
  rusage_of(RUSAGE_SELF, &user, &sys);
  printf("{\"records\":%ld,\"bytes\":%.0f,\"elapsed\":%.6f,\"wireBytes\":%.0f,\"batches\":%ld,\"errors\":0,\"user\":%.3f,\"sys\":%.3f,\"thread\":\"rawfetch\",\"threadCpu\":%.3f,\"error\":\"\"}\n",
         got, (double)got * value_size, elapsed, wire, batches, user, sys, user + sys);
  close(s);
  return 0;
}


/* ---- rawproduce: a pipelined Produce client without librdkafka ----
 *
 * librdkafka spends about a core of this machine at a few hundred MiB/s, so
 * on two shared cores it caps what the broker can be shown to take. This
 * builds one RecordBatch v2 per partition once (RECORDS_PER_BATCH records of
 * VALUE_SIZE bytes, CRC-32C computed here), then keeps WINDOW Produce v7
 * requests (acks=-1, one batch for every partition) in flight, checking each
 * answer's error codes and that base offsets advance by exactly one batch.
 * The broker validates and stores every batch as it would any client's.
 *
 *   rawproduce PORT TOPIC COUNT VALUE_SIZE PARTITIONS [RECORDS_PER_BATCH] [WINDOW]
 */

static uint32_t crc32c_table[256];
static uint32_t crc32c_sw(const unsigned char *p, size_t n) {
  if (!crc32c_table[1])
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
      crc32c_table[i] = c;
    }
  uint32_t c = ~0u;
  while (n--) c = crc32c_table[(c ^ *p++) & 0xff] ^ (c >> 8);
  return ~c;
}

static unsigned char *put_varint(unsigned char *p, int64_t v) {
  uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
  while (u >= 0x80) { *p++ = (unsigned char)(u | 0x80); u >>= 7; }
  *p++ = (unsigned char)u;
  return p;
}

static void write_all(int s, const unsigned char *p, size_t n) {
  while (n) {
    ssize_t w = write(s, p, n);
    if (w <= 0) die("rawproduce write", strerror(errno));
    p += w;
    n -= (size_t)w;
  }
}

static int rawproduce(int argc, char **argv) {
  if (argc < 5) die("usage", "rawproduce PORT TOPIC COUNT VALUE_SIZE PARTITIONS [RECORDS_PER_BATCH] [WINDOW]");
  const char *topic = argv[1];
  long count = atol(argv[2]);
  int size = atoi(argv[3]);
  int partitions = atoi(argv[4]);
  int per_batch = argc > 5 ? atoi(argv[5]) : 900;
  int window = argc > 6 ? atoi(argv[6]) : 8;
  size_t tlen = strlen(topic);

  /* One batch (offsets 0..per_batch-1, null keys, timestamp now), reused for every partition and request. */
  size_t rec_max = (size_t)size + 32;
  unsigned char *batch = malloc(61 + (size_t)per_batch * rec_max);
  unsigned char *value = malloc((size_t)size);
  for (int i = 0; i < size; i++) value[i] = (unsigned char)('a' + i % 26);
  unsigned char *p = batch + 61;
  for (int i = 0; i < per_batch; i++) {
    unsigned char body[64], *b = body;
    *b++ = 0;                       /* attributes */
    b = put_varint(b, 0);           /* timestamp delta */
    b = put_varint(b, i);           /* offset delta */
    b = put_varint(b, -1);          /* null key */
    b = put_varint(b, size);        /* value length */
    size_t head = (size_t)(b - body);
    p = put_varint(p, (int64_t)(head + (size_t)size + 1));
    memcpy(p, body, head); p += head;
    memcpy(p, value, (size_t)size); p += size;
    *p++ = 0;                       /* no headers */
  }
  size_t blen = (size_t)(p - batch);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  unsigned char *q = batch;
  put64(&q, 0); put32(&q, (int32_t)(blen - 12)); put32(&q, -1); *q++ = 2; q += 4;
  put16(&q, 0); put32(&q, per_batch - 1); put64(&q, now_ms); put64(&q, now_ms);
  put64(&q, -1); put16(&q, -1); put32(&q, -1); put32(&q, per_batch);
  uint32_t crc = crc32c_sw(batch + 21, blen - 21);
  q = batch + 17;
  put32(&q, (int32_t)crc);

  /* The request: header, then every partition carrying the same batch. */
  size_t rlen = 4 + 2 + 2 + 4 + 2 + 10 + 2 + 2 + 4 + 4 + 2 + tlen + 4 + (size_t)partitions * (4 + 4 + blen);
  unsigned char *req = malloc(rlen);
  q = req;
  put32(&q, (int32_t)(rlen - 4)); put16(&q, 0); put16(&q, 7); put32(&q, 0); put16(&q, 10); memcpy(q, "rawproduce", 10); q += 10;
  put16(&q, -1); put16(&q, -1); put32(&q, 30000);
  put32(&q, 1); put16(&q, (int)tlen); memcpy(q, topic, tlen); q += tlen;
  put32(&q, partitions);
  for (int i = 0; i < partitions; i++) { put32(&q, i); put32(&q, (int32_t)blen); memcpy(q, batch, blen); q += blen; }

  int s = connect_loopback(argv[0]);

  long per_request = (long)per_batch * partitions;
  long requests = (count + per_request - 1) / per_request;
  double *sent_at = calloc((size_t)requests, sizeof *sent_at), *lat = calloc((size_t)requests, sizeof *lat);
  int64_t *next = malloc((size_t)partitions * sizeof *next);
  for (int i = 0; i < partitions; i++) next[i] = -1; /* the first answer says where the log ends */
  unsigned char resp[65536];
  long sent = 0, done = 0;
  double start = now_s();
  while (done < requests) {
    while (sent < requests && sent - done < window) {
      unsigned char *c = req + 8;
      put32(&c, (int32_t)sent);
      sent_at[sent] = now_s();
      write_all(s, req, rlen);
      sent++;
    }
    unsigned char sz[4];
    read_full(s, sz, 4);
    size_t n = (size_t)get32(sz);
    if (n > sizeof resp) die("rawproduce", "response too large");
    read_full(s, resp, n);
    int32_t corr = get32(resp);
    if (corr != done) die("rawproduce", "responses out of order");
    lat[done] = now_s() - sent_at[done];
    const unsigned char *r = resp + 4 + 4;       /* correlation id, one topic */
    r += 2 + get16(r);
    int32_t np = get32(r); r += 4;
    for (int i = 0; i < np; i++) {
      int32_t idx = get32(r);
      int16_t err = get16(r + 4);
      int64_t base = get64(r + 6);
      r += 4 + 2 + 8 + 8 + 8;
      if (err) { fprintf(stderr, "rawproduce: partition %d error %d\n", idx, err); return 1; }
      if (idx >= 0 && idx < partitions && next[idx] < 0) next[idx] = base;
      if (idx < 0 || idx >= partitions || base != next[idx]) { fprintf(stderr, "rawproduce: partition %d base offset %lld, expected %lld\n", idx, (long long)base, (long long)(idx >= 0 && idx < partitions ? next[idx] : -1)); return 1; }
      next[idx] = base + per_batch;
    }
    done++;
  }
  double elapsed = now_s() - start;
  qsort(lat, (size_t)requests, sizeof *lat, cmp_double);
  double user, sys;
  rusage_of(RUSAGE_SELF, &user, &sys);
  long records = requests * per_request;
  printf("{\"records\":%ld,\"failed\":0,\"bytes\":%.0f,\"elapsed\":%.6f,\"p50\":%.6f,\"p99\":%.6f,\"max\":%.6f,\"user\":%.3f,\"sys\":%.3f,"
         "\"thread\":\"rawproduce\",\"threadCpu\":%.3f,\"error\":\"\",\"requests\":%ld,\"window\":%d}\n",
         records, (double)records * size, elapsed, lat[requests / 2], lat[requests * 99 / 100], lat[requests - 1], user, sys, user + sys, requests, window);
  close(s);
  return 0;
}

/* ---- one end of a stream, the other end being the runtime under test ---- */

static int source(int argc, char **argv) {
  if (argc < 3) die("usage", "source PORT BYTES CHUNK");
  double total = atof(argv[1]);
  size_t chunk = (size_t)atol(argv[2]);
  char *buf = calloc(1, chunk);
  int s = connect_loopback(argv[0]);
  double start = now_s(), left = total;
  while (left > 0) {
    size_t n = left < (double)chunk ? (size_t)left : chunk;
    ssize_t w = write(s, buf, n);
    if (w < 0) die("write", strerror(errno));
    left -= (double)w;
  }
  shutdown(s, SHUT_WR);
  /* Wait for the receiver to close, so the time covers delivery, not just the socket buffer. */
  while (read(s, buf, chunk) > 0) {
  }
  double elapsed = now_s() - start;
  double user, sys;
  rusage_of(RUSAGE_SELF, &user, &sys);
  printf("{\"bytes\":%.0f,\"elapsed\":%.6f,\"user\":%.3f,\"sys\":%.3f}\n", total, elapsed, user, sys);
  return 0;
}

static int sink(void) {
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t alen = sizeof addr;
  if (bind(ls, (struct sockaddr *)&addr, sizeof addr) || listen(ls, 1) || getsockname(ls, (struct sockaddr *)&addr, &alen))
    die("listen", strerror(errno));
  printf("port %d\n", ntohs(addr.sin_port));
  fflush(stdout);
  int c = accept(ls, NULL, NULL);
  if (c < 0) die("accept", strerror(errno));
  size_t chunk = 256 * 1024;
  char *buf = malloc(chunk);
  double start = now_s(), got = read_to_eof(c, buf, chunk);
  double elapsed = now_s() - start;
  double user, sys;
  rusage_of(RUSAGE_SELF, &user, &sys);
  printf("{\"bytes\":%.0f,\"elapsed\":%.6f,\"user\":%.3f,\"sys\":%.3f}\n", got, elapsed, user, sys);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "produce")) return produce(argc - 2, argv + 2);
  if (argc >= 2 && !strcmp(argv[1], "consume")) return consume(argc - 2, argv + 2);
  if (argc >= 2 && !strcmp(argv[1], "loopback")) return loopback(argc - 2, argv + 2);
  if (argc >= 2 && !strcmp(argv[1], "source")) return source(argc - 2, argv + 2);
  if (argc >= 2 && !strcmp(argv[1], "sink")) return sink();
  if (argc >= 2 && !strcmp(argv[1], "rawfetch")) return rawfetch(argc - 2, argv + 2);
  if (argc >= 2 && !strcmp(argv[1], "rawproduce")) return rawproduce(argc - 2, argv + 2);
  die("usage", "rdkafka-bench produce|consume|rawproduce|rawfetch|loopback|source|sink ...");
  return 2;
}
