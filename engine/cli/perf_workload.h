// The produce/consume workload behind `strata perf` and bench/strata_bench: one librdkafka
// producer or one consumer against any bootstrap server, measuring throughput and per-record
// ack latency the way Kafka's kafka-producer-perf-test does (null keys, one fixed payload,
// MB = 2^20 bytes of record values).
//
// Its clock is the Runtime's (the POSIX runtime's monotonic clock in `strata perf`);
// librdkafka brings its own threads and sockets. It never runs in the test suite and never
// judges the figures it prints.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace strata {
class Runtime;
}

namespace strata::perf {

struct WorkloadOptions {
  std::string bootstrap;                 // host:port[,host:port...]
  std::string topic;
  int64_t records = 1'000'000;           // measured records
  int64_t warmup_records = 50'000;       // sent / read before the clock starts
  int32_t record_size_bytes = 100;
  int32_t partitions = 1;                // the consumer reads partitions [0, partitions)
  int acks = 1;
  int linger_ms = 5;
  int64_t batch_size_bytes = 0;          // 0 keeps librdkafka's default
  std::string compression = "none";
  // Extra librdkafka properties (key, value) for the producer and for the consumer, applied
  // last so they can override the above.
  std::vector<std::pair<std::string, std::string>> producer_config;
  std::vector<std::pair<std::string, std::string>> consumer_config;
  std::string label;                     // prefix of progress lines on stderr; empty: quiet
  int stall_timeout_ms = 30'000;         // give up when no record moves for this long
  // Consume: at the end of a partition, seek back to its start and keep reading until
  // `records` are read. For brokers that keep only a window of the log in memory (the
  // librdkafka mock keeps 5 MiB per partition); a disk-backed broker reads distinct records.
  bool rewind_at_end = false;
  // Called with true when the clock starts and false when it stops, so that a caller can
  // sample something (the broker's CPU time) over exactly the measured interval.
  std::function<void(bool running)> on_measuring;
};

struct LatencySummary {
  double avg_ms = 0;
  double p50_ms = 0;
  double p95_ms = 0;
  double p99_ms = 0;
  double p999_ms = 0;
  double max_ms = 0;
};

// One measured phase. `records` and `bytes` cover the measured records only.
struct PhaseResult {
  int64_t records = 0;
  int64_t bytes = 0;       // record values only, as Kafka's perf tools count
  double seconds = 0;
  int64_t errors = 0;      // failed deliveries / consumer errors
  LatencySummary latency;  // produce only: produce() call to delivery report
  std::string error;       // why the phase could not finish; empty when it did

  bool ok() const { return error.empty(); }
  double records_per_s() const { return seconds > 0 ? double(records) / seconds : 0; }
  double mb_per_s() const { return seconds > 0 ? double(bytes) / (1 << 20) / seconds : 0; }
};

// Creates `topic` (replication factor 1) through the Admin API and waits until its metadata
// shows every partition with a leader. An existing topic is fine. Returns "" or the error.
std::string create_topic(const Runtime& clock, const std::string& bootstrap,
                         const std::string& topic, int32_t partitions, int timeout_ms);

// Sends warmup_records, waits for their acks, then sends `records` in a tight loop and
// waits for every delivery report.
PhaseResult run_produce(const Runtime& clock, const WorkloadOptions& options);

// Reads partitions [0, partitions) from offset 0 without a consumer group; the first
// warmup_records are not timed, the next `records` are.
PhaseResult run_consume(const Runtime& clock, const WorkloadOptions& options);

// Splits "key=value" into `out`; returns "" or an error naming `option`.
std::string parse_property(const std::string& kv, const std::string& option,
                           std::vector<std::pair<std::string, std::string>>* out);

// One line in the style of kafka-producer-perf-test / kafka-consumer-perf-test.
std::string describe_produce(const PhaseResult& r);
std::string describe_consume(const PhaseResult& r);

// `s` as a JSON string literal, quotes included.
std::string json_string(const std::string& s);

// librdkafka's version string, for reports.
std::string client_version();

}  // namespace strata::perf
