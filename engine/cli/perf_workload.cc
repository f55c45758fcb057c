// Client set-up, topic creation and report lines of the perf workload.
#include "engine/cli/perf_workload.h"

#include <cstdio>

#include "engine/cli/perf_internal.h"

namespace strata::perf {
namespace internal {

std::string set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  char err[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err) !=
      RD_KAFKA_CONF_OK) {
    return key + "=" + value + ": " + err;
  }
  return "";
}

Conf base_conf(const WorkloadOptions& o, std::string* error) {
  Conf conf(rd_kafka_conf_new());
  *error = set(conf.get(), "bootstrap.servers", o.bootstrap);
  return conf;
}

Handle new_client(rd_kafka_type_t type, Conf conf, std::string* error) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), err, sizeof err);
  if (rk == nullptr) {
    *error = std::string("cannot create a librdkafka client: ") + err;
    return nullptr;  // `conf` is still ours and is destroyed here
  }
  (void)conf.release();  // rd_kafka_new took it
  return Handle(rk);
}

void Progress::update(int64_t done) {
  if (label_.empty()) return;
  int64_t now = now_ns(clock_);
  if (now - last_ns_ < 1'000'000'000 && done < total_) return;
  last_ns_ = now;
  double seconds = double(now - start_ns_) / 1e9;
  std::fprintf(stderr, "%s: %lld/%lld records, %.0f records/s\n", label_.c_str(),
               static_cast<long long>(done), static_cast<long long>(total_),
               seconds > 0 ? double(done) / seconds : 0.0);
}

}  // namespace internal

using namespace internal;

namespace {

// Polls metadata until `topic` has `partitions` partitions, each with a leader.
std::string wait_for_leaders(const Runtime& clock, rd_kafka_t* rk, const std::string& topic,
                             int32_t partitions, int timeout_ms) {
  int64_t deadline = now_ns(clock) + int64_t(timeout_ms) * 1'000'000;
  std::string last = "no metadata";
  TopicHandle rkt(rd_kafka_topic_new(rk, topic.c_str(), nullptr));
  while (now_ns(clock) < deadline) {
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt.get(), &md, 2000);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      last = rd_kafka_err2str(err);
      continue;
    }
    bool ready = md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
                 md->topics[0].partition_cnt >= partitions;
    for (int i = 0; ready && i < md->topics[0].partition_cnt; ++i) {
      ready = md->topics[0].partitions[i].leader >= 0;
    }
    if (md->topic_cnt == 1) last = rd_kafka_err2str(md->topics[0].err);
    rd_kafka_metadata_destroy(md);
    if (ready) return "";
    rd_kafka_poll(rk, 100);
  }
  return "topic " + topic + " has no leader for every partition: " + last;
}

// Sends CreateTopics and returns "" when the topic was created or already existed.
std::string send_create_topic(rd_kafka_t* rk, const std::string& topic, int32_t partitions,
                              int timeout_ms) {
  char err[512];
  rd_kafka_NewTopic_t* nt =
      rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, err, sizeof err);
  if (nt == nullptr) return std::string("CreateTopics: ") + err;
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t* ao = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(ao, timeout_ms, err, sizeof err);
  rd_kafka_CreateTopics(rk, &nt, 1, ao, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, timeout_ms + 5000);
  std::string result;
  if (ev == nullptr) {
    result = "CreateTopics: no answer in time";
  } else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    result = std::string("CreateTopics: ") + rd_kafka_event_error_string(ev);
  } else {
    size_t n = 0;
    const rd_kafka_topic_result_t** tr =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    rd_kafka_resp_err_t e = n == 1 ? rd_kafka_topic_result_error(tr[0])
                                   : RD_KAFKA_RESP_ERR__BAD_MSG;
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      result = "CreateTopics " + topic + ": " + rd_kafka_err2str(e);
    }
  }
  if (ev != nullptr) rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(ao);
  rd_kafka_queue_destroy(q);
  rd_kafka_NewTopic_destroy(nt);
  return result;
}

}  // namespace

std::string create_topic(const Runtime& clock, const std::string& bootstrap,
                         const std::string& topic, int32_t partitions, int timeout_ms) {
  WorkloadOptions o;
  o.bootstrap = bootstrap;
  std::string error;
  Conf conf = base_conf(o, &error);
  if (!error.empty()) return error;
  Handle rk = new_client(RD_KAFKA_PRODUCER, std::move(conf), &error);
  if (!rk) return error;
  error = send_create_topic(rk.get(), topic, partitions, timeout_ms);
  if (!error.empty()) return error;
  return wait_for_leaders(clock, rk.get(), topic, partitions, timeout_ms);
}

std::string describe_produce(const PhaseResult& r) {
  char line[512];
  std::snprintf(line, sizeof line,
                "%lld records sent, %.1f records/sec (%.2f MB/sec), %.2f ms avg latency, "
                "%.2f ms max latency, %.2f ms 50th, %.2f ms 95th, %.2f ms 99th, "
                "%.2f ms 99.9th.",
                static_cast<long long>(r.records), r.records_per_s(), r.mb_per_s(),
                r.latency.avg_ms, r.latency.max_ms, r.latency.p50_ms, r.latency.p95_ms,
                r.latency.p99_ms, r.latency.p999_ms);
  return line;
}

std::string describe_consume(const PhaseResult& r) {
  char line[256];
  std::snprintf(line, sizeof line,
                "%lld records received, %.1f records/sec (%.2f MB/sec) in %.3f s.",
                static_cast<long long>(r.records), r.records_per_s(), r.mb_per_s(), r.seconds);
  return line;
}

std::string parse_property(const std::string& kv, const std::string& option,
                           std::vector<std::pair<std::string, std::string>>* out) {
  size_t eq = kv.find('=');
  if (eq == std::string::npos || eq == 0) {
    return "--" + option + " expects key=value, got '" + kv + "'";
  }
  out->emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  return "";
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", c);
      out += esc;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string client_version() {
  return rd_kafka_version_str();
}

}  // namespace strata::perf
