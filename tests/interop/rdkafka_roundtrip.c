/* librdkafka round trip against a running broker, for the interop tests.
 *
 *   rdkafka_roundtrip --bootstrap HOST:PORT --topic NAME [--partitions 8] [--records 200000]
 *                     [--compression none|gzip|snappy|lz4|zstd] [--value-bytes 100]
 *
 * 1. creates the topic with the Admin API (CreateTopics) and checks the result;
 * 2. produces --records keyed records with acks=all and partitioner=murmur2_random; every
 *    value encodes "key|sequence|padding" and carries a header seq=<sequence>; every delivery
 *    report must succeed, and the (partition, offset) it reports is remembered;
 * 3. consumes every partition from the beginning with assign() and checks that each
 *    sequence is read exactly once, at the partition and offset its delivery report gave,
 *    with its key, value and header intact, that each partition's offsets are 0, 1, 2, ...
 *    and its sequences ascend (send order), and that the high watermarks match.
 *
 * Prints records/s for information; exits 0 only if every check passed. Failures print
 * "FAIL: expected ..., saw ..." lines on stderr.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#define MAX_PARTITIONS 64
#define MAX_FAILURES_SHOWN 20

static int failures = 0;

static void failf(const char *fmt, ...) {
  va_list ap;
  if (++failures > MAX_FAILURES_SHOWN) return;
  fputs("FAIL: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

static void die(const char *fmt, ...) {
  va_list ap;
  fputs("FATAL: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(1);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct opts {
  const char *bootstrap, *topic, *compression;
  int partitions;
  long records;
  int value_bytes;
};

/* Per-sequence facts from the delivery reports, checked against what the consumer reads. */
struct state {
  long n;
  int32_t *dr_partition; /* -1 until delivered */
  int64_t *dr_offset;
  unsigned char *seen;
  long delivered_ok, delivered_err;
};

static struct state st;

static void set(rd_kafka_conf_t *conf, const char *k, const char *v) {
  char err[512];
  if (rd_kafka_conf_set(conf, k, v, err, sizeof err) != RD_KAFKA_CONF_OK)
    die("config %s=%s: %s", k, v, err);
}

static rd_kafka_conf_t *base_conf(const struct opts *o) {
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", o->bootstrap);
  set(conf, "broker.address.family", "v4");
  set(conf, "socket.timeout.ms", "20000");
  return conf;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  (void)rk;
  (void)opaque;
  long seq = (long)(intptr_t)m->_private;
  if (m->err) {
    st.delivered_err++;
    failf("delivery of sequence %ld: expected success, saw %s", seq, rd_kafka_err2str(m->err));
    return;
  }
  st.delivered_ok++;
  if (st.dr_partition[seq] != -1) failf("sequence %ld: two delivery reports", seq);
  st.dr_partition[seq] = m->partition;
  st.dr_offset[seq] = m->offset;
}

static void create_topic(rd_kafka_t *rk, const struct opts *o) {
  char err[512];
  rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(o->topic, o->partitions, 1, err, sizeof err);
  if (!nt) die("NewTopic: %s", err);
  rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t *ao = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(ao, 10000, err, sizeof err);
  rd_kafka_CreateTopics(rk, &nt, 1, ao, q);
  rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
  if (!ev) die("CreateTopics: no result within 30 s");
  if (rd_kafka_event_error(ev))
    die("CreateTopics: expected success, saw %s", rd_kafka_event_error_string(ev));
  const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
  size_t cnt;
  const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(res, &cnt);
  if (cnt != 1) die("CreateTopics: expected 1 topic result, saw %zu", cnt);
  if (rd_kafka_topic_result_error(tr[0]))
    die("CreateTopics %s: expected no error, saw %s (%s)", o->topic,
        rd_kafka_err2name(rd_kafka_topic_result_error(tr[0])),
        rd_kafka_topic_result_error_string(tr[0]));
  rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(ao);
  rd_kafka_NewTopic_destroy(nt);
  rd_kafka_queue_destroy(q);
}

static void check_partition_count(rd_kafka_t *rk, const struct opts *o) {
  rd_kafka_topic_t *t = rd_kafka_topic_new(rk, o->topic, NULL);
  const struct rd_kafka_metadata *md;
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, t, &md, 10000);
  if (e) die("Metadata: %s", rd_kafka_err2str(e));
  if (md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt != o->partitions)
    die("Metadata for %s: expected %d partitions, saw %d (error %s)", o->topic, o->partitions,
        md->topic_cnt ? md->topics[0].partition_cnt : -1,
        md->topic_cnt ? rd_kafka_err2str(md->topics[0].err) : "no topic");
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(t);
}

static int format_value(char *buf, size_t cap, long seq, int value_bytes) {
  int n = snprintf(buf, cap, "key-%ld|%ld|", seq % 1000, seq);
  for (; n < value_bytes && (size_t)n < cap - 1; n++) buf[n] = (char)('a' + (seq + n) % 26);
  buf[n] = '\0';
  return n;
}

static void produce_all(const struct opts *o) {
  rd_kafka_conf_t *conf = base_conf(o);
  char err[512];
  set(conf, "acks", "all");
  set(conf, "partitioner", "murmur2_random");
  set(conf, "compression.codec", o->compression);
  set(conf, "linger.ms", "5");
  set(conf, "queue.buffering.max.messages", "200000");
  set(conf, "message.timeout.ms", "60000");
  rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) die("producer: %s", err);
  create_topic(rk, o);
  check_partition_count(rk, o);

  char value[4096], key[32], seqs[32];
  double t0 = now_s();
  for (long seq = 0; seq < o->records; seq++) {
    int vlen = format_value(value, sizeof value, seq, o->value_bytes);
    int klen = snprintf(key, sizeof key, "key-%ld", seq % 1000);
    snprintf(seqs, sizeof seqs, "%ld", seq);
    for (;;) {
      rd_kafka_resp_err_t e = rd_kafka_producev(
          rk, RD_KAFKA_V_TOPIC(o->topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_KEY(key, (size_t)klen), RD_KAFKA_V_VALUE(value, (size_t)vlen),
          RD_KAFKA_V_HEADER("seq", seqs, -1), RD_KAFKA_V_OPAQUE((void *)(intptr_t)seq),
          RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) die("produce seq %ld: %s", seq, rd_kafka_err2str(e));
      rd_kafka_poll(rk, 10);
    }
    rd_kafka_poll(rk, 0);
  }
  rd_kafka_resp_err_t fe = rd_kafka_flush(rk, 120000);
  double dt = now_s() - t0;
  if (fe) failf("flush: expected all %ld delivered, %d still queued", o->records,
                rd_kafka_outq_len(rk));
  printf("produced %ld records (%s) in %.2f s: %.0f records/s (acks=all)\n", o->records,
         o->compression, dt, o->records / (dt > 0 ? dt : 1e-9));
  if (st.delivered_ok != o->records || st.delivered_err != 0)
    failf("delivery reports: expected %ld ok and 0 failed, saw %ld ok and %ld failed",
          o->records, st.delivered_ok, st.delivered_err);
  rd_kafka_destroy(rk);
}

/* Returns the sequence encoded in the value, or -1 with a failure recorded. */
static long check_message(const struct opts *o, const rd_kafka_message_t *m, int64_t *next_off,
                          long *last_seq) {
  char expect[4096];
  long seq = -1;
  char buf[64];
  size_t n = m->len < sizeof buf - 1 ? m->len : sizeof buf - 1;
  memcpy(buf, m->payload, n);
  buf[n] = '\0';
  char *bar = strchr(buf, '|');
  if (!bar || sscanf(bar + 1, "%ld|", &seq) != 1 || seq < 0 || seq >= o->records) {
    failf("p%d@%" PRId64 ": value '%s' does not encode a valid sequence", m->partition,
          m->offset, buf);
    return -1;
  }
  int p = m->partition;
  if (m->offset != next_off[p])
    failf("p%d: expected offset %" PRId64 " next (no gaps), saw %" PRId64, p, next_off[p],
          m->offset);
  next_off[p] = m->offset + 1;
  if (st.seen[seq]) failf("sequence %ld read twice (p%d@%" PRId64 ")", seq, p, m->offset);
  st.seen[seq] = 1;
  if (seq <= last_seq[p])
    failf("p%d: sequence %ld after %ld: expected send order", p, seq, last_seq[p]);
  last_seq[p] = seq;
  if (st.dr_partition[seq] != p || st.dr_offset[seq] != m->offset)
    failf("sequence %ld: delivery report said p%d@%" PRId64 ", read at p%d@%" PRId64, seq,
          st.dr_partition[seq], st.dr_offset[seq], p, m->offset);
  int vlen = format_value(expect, sizeof expect, seq, o->value_bytes);
  if (m->len != (size_t)vlen || memcmp(m->payload, expect, (size_t)vlen) != 0)
    failf("sequence %ld: value differs from what was sent (len %zu, expected %d)", seq, m->len,
          vlen);
  char key[32];
  int klen = snprintf(key, sizeof key, "key-%ld", seq % 1000);
  if (m->key_len != (size_t)klen || memcmp(m->key, key, (size_t)klen) != 0)
    failf("sequence %ld: expected key %s, saw %.*s", seq, key, (int)m->key_len,
          (const char *)m->key);
  rd_kafka_headers_t *hdrs = NULL;
  const void *hv;
  size_t hlen;
  char seqs[32];
  int slen = snprintf(seqs, sizeof seqs, "%ld", seq);
  if (rd_kafka_message_headers(m, &hdrs) || rd_kafka_header_get_last(hdrs, "seq", &hv, &hlen) ||
      hlen != (size_t)slen || memcmp(hv, seqs, hlen) != 0)
    failf("sequence %ld: expected header seq=%s", seq, seqs);
  return seq;
}

static void consume_all(const struct opts *o) {
  rd_kafka_conf_t *conf = base_conf(o);
  char err[512];
  /* assign() needs a group handle in librdkafka, but no coordinator: no commits. */
  set(conf, "group.id", "strata-interop-roundtrip");
  set(conf, "enable.auto.commit", "false");
  set(conf, "enable.auto.offset.store", "false");
  set(conf, "fetch.wait.max.ms", "100");
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk) die("consumer: %s", err);
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_partition_list_t *tp = rd_kafka_topic_partition_list_new(o->partitions);
  for (int p = 0; p < o->partitions; p++)
    rd_kafka_topic_partition_list_add(tp, o->topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_resp_err_t e = rd_kafka_assign(rk, tp);
  if (e) die("assign: %s", rd_kafka_err2str(e));

  int64_t next_off[MAX_PARTITIONS] = {0};
  long last_seq[MAX_PARTITIONS];
  for (int p = 0; p < MAX_PARTITIONS; p++) last_seq[p] = -1;
  long got = 0;
  double t0 = now_s(), last_progress = t0;
  while (got < o->records && now_s() - last_progress < 30) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
    if (!m) continue;
    if (m->err) {
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
        failf("consume: expected no error, saw %s", rd_kafka_message_errstr(m));
    } else if (m->partition < 0 || m->partition >= o->partitions) {
      failf("consume: partition %d outside [0, %d)", m->partition, o->partitions);
    } else if (check_message(o, m, next_off, last_seq) >= 0) {
      got++;
      last_progress = now_s();
    }
    rd_kafka_message_destroy(m);
  }
  double dt = now_s() - t0;
  printf("consumed %ld records in %.2f s: %.0f records/s\n", got, dt, got / (dt > 0 ? dt : 1e-9));
  long missing = 0;
  for (long s = 0; s < o->records; s++) missing += !st.seen[s];
  if (missing) failf("expected every sequence read once, %ld never read", missing);

  int64_t total_hw = 0;
  for (int p = 0; p < o->partitions; p++) {
    int64_t lo = -1, hi = -1;
    e = rd_kafka_query_watermark_offsets(rk, o->topic, p, &lo, &hi, 10000);
    if (e) {
      failf("watermarks p%d: %s", p, rd_kafka_err2str(e));
      continue;
    }
    if (lo != 0 || hi != next_off[p])
      failf("p%d watermarks: expected [0, %" PRId64 "), saw [%" PRId64 ", %" PRId64 ")", p,
            next_off[p], lo, hi);
    total_hw += hi;
  }
  if (total_hw != o->records)
    failf("sum of high watermarks: expected %ld, saw %" PRId64, o->records, total_hw);
  rd_kafka_topic_partition_list_destroy(tp);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
}

static void usage(void) {
  fprintf(stderr,
          "usage: rdkafka_roundtrip --bootstrap HOST:PORT --topic NAME [--partitions N]\n"
          "       [--records N] [--compression none|gzip|snappy|lz4|zstd] [--value-bytes N]\n");
  exit(2);
}

int main(int argc, char **argv) {
  struct opts o = {NULL, NULL, "none", 8, 200000, 100};
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 >= argc) usage();
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "--bootstrap")) o.bootstrap = v;
    else if (!strcmp(k, "--topic")) o.topic = v;
    else if (!strcmp(k, "--compression")) o.compression = v;
    else if (!strcmp(k, "--partitions")) o.partitions = atoi(v);
    else if (!strcmp(k, "--records")) o.records = atol(v);
    else if (!strcmp(k, "--value-bytes")) o.value_bytes = atoi(v);
    else usage();
  }
  if (!o.bootstrap || !o.topic || o.partitions < 1 || o.partitions > MAX_PARTITIONS ||
      o.records < 1 || o.value_bytes < 32 || o.value_bytes > 4000)
    usage();
  st.n = o.records;
  st.dr_partition = malloc(sizeof(int32_t) * (size_t)o.records);
  st.dr_offset = malloc(sizeof(int64_t) * (size_t)o.records);
  st.seen = calloc((size_t)o.records, 1);
  if (!st.dr_partition || !st.dr_offset || !st.seen) die("out of memory");
  for (long s = 0; s < o.records; s++) st.dr_partition[s] = -1;

  printf("librdkafka %s, topic %s, %d partitions, %ld records, compression %s\n",
         rd_kafka_version_str(), o.topic, o.partitions, o.records, o.compression);
  produce_all(&o);
  if (failures == 0) consume_all(&o);
  free(st.dr_partition);
  free(st.dr_offset);
  free(st.seen);
  if (rd_kafka_wait_destroyed(10000)) fprintf(stderr, "warning: librdkafka handles leaked\n");
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("OK\n");
  return 0;
}
