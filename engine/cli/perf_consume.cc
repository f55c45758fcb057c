// The consume phase: one consumer, the legacy simple-consumer queue API (no group, so no
// coordinator or offset commits in the measurement), every partition from offset 0.
#include <cstdint>
#include <vector>

#include "engine/cli/perf_internal.h"
#include "engine/cli/perf_workload.h"

namespace strata::perf {

using namespace internal;

namespace {

Handle new_consumer(const WorkloadOptions& o, std::string* error) {
  Conf conf = base_conf(o, error);
  if (!error->empty()) return nullptr;
  // No group: nothing to commit. The extra properties go last so that they win.
  std::string errs = set(conf.get(), "enable.auto.commit", "false") +
                     set(conf.get(), "enable.partition.eof", o.rewind_at_end ? "true" : "false");
  // Rewinding happens at the end of the window; a fetch parked there for the default
  // 500 ms would dominate the figure, so in that mode the broker may answer at once.
  if (o.rewind_at_end) errs += set(conf.get(), "fetch.wait.max.ms", "1");
  for (const auto& [key, value] : o.consumer_config) errs += set(conf.get(), key, value);
  if (!errs.empty()) {
    *error = errs;
    return nullptr;
  }
  return new_client(RD_KAFKA_CONSUMER, std::move(conf), error);
}

struct ConsumeCounts {
  bool rewind = false;
  std::vector<int64_t> first_offset;  // per partition: where a rewind goes back to
  std::vector<int32_t> at_end;        // partitions that reported their end in this call
  int64_t records = 0;
  int64_t bytes = 0;
  int64_t errors = 0;
  std::string first_error;
};

void on_message(rd_kafka_message_t* m, void* opaque) {
  auto* c = static_cast<ConsumeCounts*>(opaque);
  size_t p = size_t(m->partition);
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++c->records;
    c->bytes += int64_t(m->len);
    if (p < c->first_offset.size() && c->first_offset[p] < 0) c->first_offset[p] = m->offset;
  } else if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    if (c->rewind) c->at_end.push_back(m->partition);
  } else if (c->errors++ == 0) {
    c->first_error = rd_kafka_message_errstr(m);
  }
}

// Serves what is queued (waiting up to 100 ms for the first message, never for a full
// batch, so the last records are not held back); returns how many records arrived.
int64_t take_batch(rd_kafka_topic_t* rkt, rd_kafka_queue_t* q, ConsumeCounts* c) {
  int64_t before = c->records;
  rd_kafka_consume_callback_queue(q, 100, on_message, c);
  for (int32_t p : c->at_end) {
    // An absolute offset needs no ListOffsets round trip, unlike OFFSET_BEGINNING.
    if (c->first_offset[size_t(p)] >= 0) rd_kafka_seek(rkt, p, c->first_offset[size_t(p)], 0);
  }
  c->at_end.clear();
  return c->records - before;
}

}  // namespace

PhaseResult run_consume(const Runtime& clock, const WorkloadOptions& o) {
  PhaseResult r;
  Handle rk = new_consumer(o, &r.error);
  if (!rk) return r;
  TopicHandle rkt(rd_kafka_topic_new(rk.get(), o.topic.c_str(), nullptr));
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk.get());
  for (int32_t p = 0; p < o.partitions && r.ok(); ++p) {
    if (rd_kafka_consume_start_queue(rkt.get(), p, RD_KAFKA_OFFSET_BEGINNING, q) != 0) {
      r.error = "consume_start partition " + std::to_string(p) + ": " +
                rd_kafka_err2str(rd_kafka_last_error());
    }
  }
  const int64_t total = o.warmup_records + o.records;
  ConsumeCounts c;
  c.rewind = o.rewind_at_end;
  c.first_offset.assign(size_t(o.partitions), -1);
  Progress progress(clock, o.label, o.records);
  int64_t start_ns = -1, timed_from = 0, bytes_from = 0;
  int64_t last_move_ns = now_ns(clock);
  while (r.ok() && c.records < total) {
    if (take_batch(rkt.get(), q, &c) > 0) {
      last_move_ns = now_ns(clock);
    } else if (now_ns(clock) - last_move_ns > int64_t(o.stall_timeout_ms) * 1'000'000) {
      r.error = "no record for " + std::to_string(o.stall_timeout_ms) + " ms (" +
                std::to_string(c.records) + "/" + std::to_string(total) + " read)" +
                (c.first_error.empty() ? "" : ", first error: " + c.first_error);
    }
    // The clock starts at the first batch boundary past the warmup (and after at least one
    // record, so that connecting and the first fetch are never timed); the records before
    // it are not counted, so the rate stays exact.
    if (start_ns < 0 && c.records > 0 && c.records >= o.warmup_records) {
      if (o.on_measuring) o.on_measuring(true);
      start_ns = now_ns(clock);
      timed_from = c.records;
      bytes_from = c.bytes;
    }
    if (start_ns >= 0) progress.update(c.records - timed_from);
  }
  int64_t end_ns = now_ns(clock);
  if (start_ns >= 0 && o.on_measuring) o.on_measuring(false);
  for (int32_t p = 0; p < o.partitions; ++p) rd_kafka_consume_stop(rkt.get(), p);
  rd_kafka_queue_destroy(q);
  if (start_ns < 0) return r;
  r.seconds = double(end_ns - start_ns) / 1e9;
  r.records = c.records - timed_from;
  r.bytes = c.bytes - bytes_from;
  r.errors = c.errors;
  return r;
}

}  // namespace strata::perf
