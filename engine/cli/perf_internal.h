// Helpers shared by perf_workload.cc, perf_produce.cc and perf_consume.cc; not an API.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <memory>
#include <string>

#include "engine/cli/perf_workload.h"
#include "engine/runtime/runtime.h"

namespace strata::perf::internal {

inline int64_t now_ns(const Runtime& clock) { return clock.now().ns; }

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using Handle = std::unique_ptr<rd_kafka_t, HandleDeleter>;

struct TopicDeleter {
  void operator()(rd_kafka_topic_t* rkt) const { rd_kafka_topic_destroy(rkt); }
};
using TopicHandle = std::unique_ptr<rd_kafka_topic_t, TopicDeleter>;

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
using Conf = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

// Sets one property; returns "" or the error naming the key.
std::string set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value);

// A configuration with bootstrap.servers set; callers add their extra
// properties last.
Conf base_conf(const WorkloadOptions& o, std::string* error);

// Creates a client; takes ownership of `conf` whatever happens.
Handle new_client(rd_kafka_type_t type, Conf conf, std::string* error);

// Prints "label: done/total records, rate/s" on stderr about once a second.
class Progress {
 public:
  Progress(const Runtime& clock, std::string label, int64_t total)
      : clock_(clock), label_(std::move(label)), total_(total) {}
  void update(int64_t done);

 private:
  const Runtime& clock_;
  std::string label_;
  int64_t total_;
  int64_t start_ns_ = now_ns(clock_);
  int64_t last_ns_ = start_ns_;
};

}  // namespace strata::perf::internal
