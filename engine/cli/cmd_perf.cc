// `strata perf produce|consume`: the workload of bench/strata_bench against any Kafka
// bootstrap server, reported like kafka-producer-perf-test and kafka-consumer-perf-test.
// A benchmark prints figures; it never decides whether they are good enough.
#include <cstdio>
#include <iostream>

#include "engine/cli/args.h"
#include "engine/cli/commands.h"
#if STRATA_HAVE_RDKAFKA
#include "engine/cli/perf_workload.h"
#include "engine/runtime/posix_runtime.h"
#endif

namespace strata::cli {

#if STRATA_HAVE_RDKAFKA
namespace {

constexpr const char* kPerfUsage =
    "usage: strata perf produce|consume --bootstrap-server HOST:PORT [options]\n"
    "  --topic NAME            (default strata-perf)\n"
    "  --records N             records to measure (default 1000000; alias --num-records)\n"
    "  --warmup-records N      records sent or read first, not measured (default 0)\n"
    "  --record-size BYTES     produce: value size (default 100)\n"
    "  --partitions P          produce: create the topic with P partitions if missing;\n"
    "                          consume: read partitions 0..P-1 (default 1)\n"
    "  --acks 0|1|-1           produce (default 1)\n"
    "  --linger-ms MS          produce (default 5)\n"
    "  --batch-size BYTES      produce (default: librdkafka's)\n"
    "  --compression CODEC     produce: none|gzip|snappy|lz4|zstd (default none)\n"
    "  --producer-prop k=v     extra librdkafka producer property (repeatable)\n"
    "  --consumer-prop k=v     extra librdkafka consumer property (repeatable)\n"
    "  --format text|json      (default text)\n";

const std::vector<OptionSpec> kPerfOptions = {
    {"bootstrap-server"}, {"topic"},         {"records"},     {"num-records"},
    {"warmup-records"},   {"record-size"},   {"partitions"},  {"acks"},
    {"linger-ms"},        {"batch-size"},    {"compression"}, {"producer-prop"},
    {"consumer-prop"},    {"format"},        {"help", false}};

Result<perf::WorkloadOptions> workload_from(const Args& a) {
  perf::WorkloadOptions o;
  o.bootstrap = a.get_or("bootstrap-server", "");
  if (o.bootstrap.empty()) return Status::invalid_argument("--bootstrap-server is required");
  o.topic = a.get_or("topic", "strata-perf");
  STRATA_ASSIGN_OR_RETURN(int64_t records, a.get_int("num-records", 1'000'000));
  STRATA_ASSIGN_OR_RETURN(o.records, a.get_int("records", records));
  STRATA_ASSIGN_OR_RETURN(o.warmup_records, a.get_int("warmup-records", 0));
  STRATA_ASSIGN_OR_RETURN(int64_t size, a.get_int("record-size", 100));
  STRATA_ASSIGN_OR_RETURN(int64_t partitions, a.get_int("partitions", 1));
  STRATA_ASSIGN_OR_RETURN(int64_t acks, a.get_int("acks", 1));
  STRATA_ASSIGN_OR_RETURN(int64_t linger, a.get_int("linger-ms", 5));
  STRATA_ASSIGN_OR_RETURN(o.batch_size_bytes, a.get_int("batch-size", 0));
  if (o.records <= 0 || o.warmup_records < 0 || size <= 0 || size > (64 << 20) ||
      partitions <= 0 || partitions > 100'000 || linger < 0 || linger > 900'000) {
    return Status::invalid_argument("a numeric option is out of range (see --help)");
  }
  o.record_size_bytes = int32_t(size);
  o.partitions = int32_t(partitions);
  o.acks = int(acks);
  o.linger_ms = int(linger);
  o.compression = a.get_or("compression", "none");
  for (const auto& kv : a.all("producer-prop")) {
    std::string err = perf::parse_property(kv, "producer-prop", &o.producer_config);
    if (!err.empty()) return Status::invalid_argument(err);
  }
  for (const auto& kv : a.all("consumer-prop")) {
    std::string err = perf::parse_property(kv, "consumer-prop", &o.consumer_config);
    if (!err.empty()) return Status::invalid_argument(err);
  }
  return o;
}

void print_json(const std::string& mode, const perf::WorkloadOptions& o,
                const perf::PhaseResult& r) {
  std::printf(
      "{\"mode\":\"%s\",\"topic\":%s,\"records\":%lld,\"record_size\":%d,\"seconds\":%.6f,"
      "\"records_per_s\":%.1f,\"mb_per_s\":%.3f,\"errors\":%lld",
      mode.c_str(), perf::json_string(o.topic).c_str(), static_cast<long long>(r.records),
      o.record_size_bytes, r.seconds, r.records_per_s(), r.mb_per_s(),
      static_cast<long long>(r.errors));
  if (mode == "produce") {
    std::printf(",\"latency_ms\":{\"avg\":%.3f,\"p50\":%.3f,\"p95\":%.3f,\"p99\":%.3f,"
                "\"p999\":%.3f,\"max\":%.3f}",
                r.latency.avg_ms, r.latency.p50_ms, r.latency.p95_ms, r.latency.p99_ms,
                r.latency.p999_ms, r.latency.max_ms);
  }
  std::printf(",\"error\":%s}\n", perf::json_string(r.error).c_str());
}

}  // namespace

int cmd_perf(const Argv& argv) {
  auto args = Args::parse(argv, kPerfOptions);
  bool help = args && args->has("help");
  std::string mode = args && !args->positional().empty() ? args->positional()[0] : "";
  if (!args || help || args->positional().size() != 1 ||
      (mode != "produce" && mode != "consume")) {
    if (!args) std::cerr << "strata perf: " << args.status().message() << "\n";
    std::cerr << kPerfUsage;
    return help ? 0 : 2;
  }
  auto o = workload_from(*args);
  std::string format = args->get_or("format", "text");
  if (!o || (format != "text" && format != "json")) {
    std::cerr << "strata perf: "
              << (o ? "--format must be text or json" : o.status().message()) << "\n";
    return 2;
  }
  o->label = "perf " + mode;
  // The clock of the measurement; librdkafka runs its own threads and sockets.
  auto rt = PosixRuntime::create({.log_level_min = LogLevel::kWarn});
  if (!rt) {
    std::cerr << "strata perf: " << rt.status().message() << "\n";
    return 1;
  }
  const Runtime& clock = **rt;
  if (mode == "produce") {
    std::string err = perf::create_topic(clock, o->bootstrap, o->topic, o->partitions, 30'000);
    if (!err.empty()) {
      std::cerr << "strata perf: " << err << "\n";
      return 1;
    }
  }
  perf::PhaseResult r =
      mode == "produce" ? perf::run_produce(clock, *o) : perf::run_consume(clock, *o);
  if (!r.ok()) std::cerr << "strata perf " << mode << ": " << r.error << "\n";
  if (format == "json") {
    print_json(mode, *o, r);
  } else if (r.records > 0) {
    std::cout << (mode == "produce" ? perf::describe_produce(r) : perf::describe_consume(r))
              << "\n";
  }
  return r.ok() ? 0 : 1;
}

#else  // built without librdkafka

int cmd_perf(const Argv&) {
  std::cerr << "strata perf: this strata was built without librdkafka (librdkafka-dev)\n";
  return 1;
}

#endif

}  // namespace strata::cli
