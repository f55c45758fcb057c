// The produce phase: one producer, rd_kafka_produce() in a tight loop, latency per record
// from the produce() call to its delivery report.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "engine/cli/perf_internal.h"
#include "engine/cli/perf_workload.h"

namespace strata::perf {

using namespace internal;

namespace {

// Shared with the delivery-report callback through the client's opaque pointer. Each
// record's msg_opaque is its sequence number, an index into these arrays.
struct ProduceState {
  const Runtime* clock = nullptr;
  std::vector<int64_t> sent_ns;
  std::vector<int64_t> latency_ns;
  int64_t delivered = 0;
  int64_t errors = 0;
  rd_kafka_resp_err_t first_error = RD_KAFKA_RESP_ERR_NO_ERROR;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* st = static_cast<ProduceState*>(opaque);
  auto seq = reinterpret_cast<uintptr_t>(m->_private);
  ++st->delivered;
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (st->errors++ == 0) st->first_error = m->err;
    return;
  }
  if (seq < st->sent_ns.size()) st->latency_ns[seq] = now_ns(*st->clock) - st->sent_ns[seq];
}

Handle new_producer(const WorkloadOptions& o, ProduceState* st, std::string* error) {
  Conf conf = base_conf(o, error);
  if (!error->empty()) return nullptr;
  std::string errs = set(conf.get(), "acks", std::to_string(o.acks)) +
                     set(conf.get(), "linger.ms", std::to_string(o.linger_ms)) +
                     set(conf.get(), "compression.type", o.compression);
  if (o.batch_size_bytes > 0) {
    errs += set(conf.get(), "batch.size", std::to_string(o.batch_size_bytes));
  }
  // The extra properties go last so that they win over the options above.
  for (const auto& [key, value] : o.producer_config) errs += set(conf.get(), key, value);
  if (!errs.empty()) {
    *error = errs;
    return nullptr;
  }
  rd_kafka_conf_set_dr_msg_cb(conf.get(), on_delivery);
  rd_kafka_conf_set_opaque(conf.get(), st);
  return new_client(RD_KAFKA_PRODUCER, std::move(conf), error);
}

// Sends records [from, to). The payload is one static buffer that outlives the producer, so
// librdkafka may reference it instead of copying it (flags 0), as the Java perf tool reuses
// one byte array. Polls for delivery reports every 1024 records so their timestamps are
// close to when librdkafka queued them, and whenever the local queue is full.
std::string send_range(rd_kafka_t* rk, rd_kafka_topic_t* rkt, const std::vector<char>& payload,
                       ProduceState* st, int64_t from, int64_t to, Progress* progress) {
  for (int64_t seq = from; seq < to; ++seq) {
    for (;;) {
      st->sent_ns[seq] = now_ns(*st->clock);
      if (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, 0, const_cast<char*>(payload.data()),
                           payload.size(), nullptr, 0,
                           reinterpret_cast<void*>(static_cast<uintptr_t>(seq))) == 0) {
        break;
      }
      rd_kafka_resp_err_t err = rd_kafka_last_error();
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        return std::string("produce: ") + rd_kafka_err2str(err);
      }
      rd_kafka_poll(rk, 1);
    }
    if ((seq & 1023) == 0) {
      rd_kafka_poll(rk, 0);
      if (progress != nullptr) progress->update(seq - from);
    }
  }
  return "";
}

// Waits until every record has its delivery report; rd_kafka_flush() serves the callbacks.
std::string flush_all(rd_kafka_t* rk, const ProduceState& st, int64_t expected, int timeout_ms) {
  int64_t last_delivered = -1;
  int64_t last_move_ns = now_ns(*st.clock);
  while (st.delivered < expected) {
    rd_kafka_flush(rk, 100);
    if (st.delivered != last_delivered) {
      last_delivered = st.delivered;
      last_move_ns = now_ns(*st.clock);
    } else if (now_ns(*st.clock) - last_move_ns > int64_t(timeout_ms) * 1'000'000) {
      return "no delivery report for " + std::to_string(timeout_ms) + " ms (" +
             std::to_string(st.delivered) + "/" + std::to_string(expected) + " delivered)";
    }
  }
  return "";
}

double percentile_ms(const std::vector<int64_t>& sorted_ns, double q) {
  if (sorted_ns.empty()) return 0;
  size_t i = std::min(sorted_ns.size() - 1, size_t(q * double(sorted_ns.size())));
  return double(sorted_ns[i]) / 1e6;
}

LatencySummary summarize(std::vector<int64_t> ns) {
  LatencySummary s;
  if (ns.empty()) return s;
  std::sort(ns.begin(), ns.end());
  long double sum = 0;
  for (int64_t v : ns) sum += v;
  s.avg_ms = double(sum / ns.size()) / 1e6;
  s.p50_ms = percentile_ms(ns, 0.50);
  s.p95_ms = percentile_ms(ns, 0.95);
  s.p99_ms = percentile_ms(ns, 0.99);
  s.p999_ms = percentile_ms(ns, 0.999);
  s.max_ms = double(ns.back()) / 1e6;
  return s;
}

}  // namespace

PhaseResult run_produce(const Runtime& clock, const WorkloadOptions& o) {
  PhaseResult r;
  const int64_t total = o.warmup_records + o.records;
  ProduceState st;
  st.clock = &clock;
  st.sent_ns.assign(size_t(total), 0);
  st.latency_ns.assign(size_t(total), -1);
  Handle rk = new_producer(o, &st, &r.error);
  if (!rk) return r;
  TopicHandle rkt(rd_kafka_topic_new(rk.get(), o.topic.c_str(), nullptr));
  std::vector<char> payload(size_t(o.record_size_bytes));
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = char('A' + i % 26);

  r.error = send_range(rk.get(), rkt.get(), payload, &st, 0, o.warmup_records, nullptr);
  if (r.ok()) r.error = flush_all(rk.get(), st, o.warmup_records, o.stall_timeout_ms);
  if (!r.ok()) return r;
  const int64_t errors_before = st.errors;
  Progress progress(clock, o.label, o.records);
  if (o.on_measuring) o.on_measuring(true);
  int64_t start_ns = now_ns(clock);
  r.error = send_range(rk.get(), rkt.get(), payload, &st, o.warmup_records, total, &progress);
  if (r.ok()) r.error = flush_all(rk.get(), st, total, o.stall_timeout_ms);
  r.seconds = double(now_ns(clock) - start_ns) / 1e9;
  if (o.on_measuring) o.on_measuring(false);
  if (!r.ok()) return r;
  progress.update(o.records);

  r.errors = st.errors - errors_before;
  r.records = o.records - r.errors;
  r.bytes = r.records * o.record_size_bytes;
  std::vector<int64_t> measured;
  measured.reserve(size_t(o.records));
  for (int64_t seq = o.warmup_records; seq < total; ++seq) {
    if (st.latency_ns[seq] >= 0) measured.push_back(st.latency_ns[seq]);
  }
  r.latency = summarize(std::move(measured));
  if (st.errors > 0) {
    r.error = std::to_string(st.errors) + " records failed, first with " +
              rd_kafka_err2str(st.first_error);
  }
  return r;
}

}  // namespace strata::perf
