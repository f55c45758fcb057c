// strata_bench: the same librdkafka producer and consumer against a `strata broker` child
// process (writing to disk) and against librdkafka's in-process mock cluster, in one run,
// with the strata/mock ratios. A program that prints figures; it asserts nothing on speed.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>

#include "bench/report.h"
#include "bench/targets.h"
#include "engine/cli/args.h"
#include "engine/runtime/posix_runtime.h"

namespace strata::bench {
namespace {

constexpr const char* kUsage =
    "usage: strata_bench [options]\n"
    "  --records N          measured records per phase (default 1000000)\n"
    "  --warmup-records N   sent and read first, not measured (default 50000)\n"
    "  --record-size BYTES  value size (default 100)\n"
    "  --partitions P       (default 1)\n"
    "  --acks 0|1|-1        (default 1)\n"
    "  --linger-ms MS       (default 5)\n"
    "  --batch-size BYTES   (default: librdkafka's)\n"
    "  --compression CODEC  none|gzip|snappy|lz4|zstd (default none)\n"
    "  --producer-prop k=v  extra librdkafka producer property (repeatable)\n"
    "  --consumer-prop k=v  extra librdkafka consumer property (repeatable)\n"
    "  --target strata|mock|both   (default both)\n"
    "  --strata-binary PATH (default: the strata built with this benchmark)\n"
    "  --runs K             report the median of K runs (default 3)\n"
    "  --data-dir DIR       parent of each run's broker directory (default: a new directory\n"
    "                       under /var/tmp, removed at the end)\n"
    "  --keep-data          keep the broker directories\n"
    "  --pin                client threads on CPU 0, the broker (strata process or the\n"
    "                       mock's thread) on CPU 1\n"
    "  --format text|json   (default text)\n";

struct Cli {
  BenchConfig config;
  bool json = false;
  bool keep_data = false;
  int broker_cpu = -1;  // --pin: 1
  bool own_data_dir = false;
  const Runtime* clock = nullptr;  // times the phases
};

Status parse_workload(const cli::Args& a, perf::WorkloadOptions* w) {
  STRATA_ASSIGN_OR_RETURN(w->records, a.get_int("records", 1'000'000));
  STRATA_ASSIGN_OR_RETURN(w->warmup_records, a.get_int("warmup-records", 50'000));
  STRATA_ASSIGN_OR_RETURN(int64_t size, a.get_int("record-size", 100));
  STRATA_ASSIGN_OR_RETURN(int64_t partitions, a.get_int("partitions", 1));
  STRATA_ASSIGN_OR_RETURN(int64_t acks, a.get_int("acks", 1));
  STRATA_ASSIGN_OR_RETURN(int64_t linger, a.get_int("linger-ms", 5));
  STRATA_ASSIGN_OR_RETURN(w->batch_size_bytes, a.get_int("batch-size", 0));
  if (w->records <= 0 || w->warmup_records < 0 || size <= 0 || size > (64 << 20) ||
      partitions <= 0 || partitions > 10'000 || linger < 0 || linger > 900'000 ||
      (acks != 0 && acks != 1 && acks != -1)) {
    return Status::invalid_argument("a numeric option is out of range (see --help)");
  }
  w->record_size_bytes = int32_t(size);
  w->partitions = int32_t(partitions);
  w->acks = int(acks);
  w->linger_ms = int(linger);
  w->compression = a.get_or("compression", "none");
  for (const auto& kv : a.all("producer-prop")) {
    std::string err = perf::parse_property(kv, "producer-prop", &w->producer_config);
    if (!err.empty()) return Status::invalid_argument(err);
  }
  for (const auto& kv : a.all("consumer-prop")) {
    std::string err = perf::parse_property(kv, "consumer-prop", &w->consumer_config);
    if (!err.empty()) return Status::invalid_argument(err);
  }
  return ok_status();
}

Result<Cli> parse_cli(const cli::Args& a) {
  Cli c;
  STRATA_RETURN_IF_ERROR(parse_workload(a, &c.config.workload));
  STRATA_ASSIGN_OR_RETURN(int64_t runs, a.get_int("runs", 3));
  if (runs <= 0 || runs > 1000) return Status::invalid_argument("--runs must be 1..1000");
  c.config.runs = int(runs);
  std::string target = a.get_or("target", "both");
  if (target != "strata" && target != "mock" && target != "both") {
    return Status::invalid_argument("--target must be strata, mock or both");
  }
  c.config.strata = target != "mock";
  c.config.mock = target != "strata";
  c.config.strata_binary = a.get_or("strata-binary", STRATA_DEFAULT_BINARY);
  std::string format = a.get_or("format", "text");
  if (format != "text" && format != "json") {
    return Status::invalid_argument("--format must be text or json");
  }
  c.json = format == "json";
  c.keep_data = a.has("keep-data");
  if (a.has("pin")) c.broker_cpu = 1;
  c.config.data_dir = a.get_or("data-dir", "");
  return c;
}

// Produce then consume the same records on one target. `cpu_seconds`, when given, is
// sampled at the start and end of each measured interval.
TargetRun measure(const Runtime& clock, const perf::WorkloadOptions& base,
                  const std::string& bootstrap,
                  const std::string& label, std::function<double()> cpu_seconds = nullptr) {
  TargetRun t;
  perf::WorkloadOptions w = base;
  w.bootstrap = bootstrap;
  double cpu_at_start = 0;
  double* cpu_out = nullptr;
  if (cpu_seconds) {
    w.on_measuring = [&](bool running) {
      double now = cpu_seconds();
      if (running) cpu_at_start = now;
      if (!running && now >= 0 && cpu_at_start >= 0) *cpu_out = now - cpu_at_start;
    };
  }
  w.label = label + " produce";
  cpu_out = &t.produce_cpu_s;
  t.produce = perf::run_produce(clock, w);
  if (!t.produce.ok()) return t;
  w.label = label + " consume";
  cpu_out = &t.consume_cpu_s;
  t.consume = perf::run_consume(clock, w);
  return t;
}

TargetRun run_strata(const Cli& c, int run) {
  const perf::WorkloadOptions& w = c.config.workload;
  std::string dir = c.config.data_dir + "/strata-run-" + std::to_string(run);
  std::filesystem::remove_all(dir);
  TargetRun t;
  auto broker = StrataProcess::start(c.config.strata_binary, dir, c.broker_cpu, &t.error);
  if (!broker) return t;
  std::fprintf(stderr, "run %d: strata broker pid %d on %s, data in %s\n", run,
               int(broker->pid()), broker->bootstrap().c_str(), dir.c_str());
  t.error = perf::create_topic(*c.clock, broker->bootstrap(), w.topic, w.partitions, 30'000);
  if (t.error.empty()) {
    t = measure(*c.clock, w, broker->bootstrap(), "run " + std::to_string(run) + " strata",
                [&broker] { return broker->cpu_seconds(); });
  }
  std::string stopped = broker->stop();
  if (t.error.empty()) t.error = stopped;
  if (!c.keep_data) std::filesystem::remove_all(dir);
  return t;
}

TargetRun run_mock(const Cli& c, int run) {
  const perf::WorkloadOptions& w = c.config.workload;
  TargetRun t;
  auto mock = MockCluster::start(w.topic, w.partitions, c.broker_cpu, &t.error);
  if (!mock) return t;
  std::fprintf(stderr, "run %d: mock cluster on %s\n", run, mock->bootstrap().c_str());
  // The mock keeps only the newest 5 MiB of each partition in memory (a fixed limit in
  // rdkafka_mock.c), so its consumer re-reads that window until it has read N records.
  perf::WorkloadOptions mock_w = w;
  mock_w.rewind_at_end = true;
  return measure(*c.clock, mock_w, mock->bootstrap(), "run " + std::to_string(run) + " mock",
                 [&mock] { return mock->cpu_seconds(); });
}

std::vector<RunResult> run_all(const Cli& c) {
  std::vector<RunResult> runs;
  for (int run = 1; run <= c.config.runs; ++run) {
    RunResult r;
    // Alternate which target goes first so that slow drift on a shared machine (other
    // builds, page-cache state) does not always favour the same one.
    bool strata_first = run % 2 == 1;
    for (int i = 0; i < 2; ++i) {
      bool strata = (i == 0) == strata_first;
      if (strata && c.config.strata) r.strata = run_strata(c, run);
      if (!strata && c.config.mock) r.mock = run_mock(c, run);
    }
    runs.push_back(std::move(r));
  }
  return runs;
}

std::string make_temp_dir() {
  std::string pattern = "/var/tmp/strata-bench-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) return "";
  return pattern;
}

}  // namespace
}  // namespace strata::bench

int main(int argc, char** argv) {
  using namespace strata;
  auto args = cli::Args::parse(
      std::vector<std::string>(argv + 1, argv + argc),
      {{"records"}, {"warmup-records"}, {"record-size"}, {"partitions"}, {"acks"},
       {"linger-ms"}, {"batch-size"}, {"compression"}, {"producer-prop"}, {"consumer-prop"},
       {"target"}, {"strata-binary"}, {"runs"}, {"data-dir"}, {"keep-data", false}, {"pin", false},
       {"format"}, {"help", false}});
  if (args && args->has("help")) {
    std::cout << bench::kUsage;
    return 0;
  }
  auto c = args ? bench::parse_cli(*args) : Result<bench::Cli>(args.status());
  if (!c || !args->positional().empty()) {
    std::cerr << "strata_bench: " << (c ? "unexpected argument" : c.status().message())
              << "\n" << bench::kUsage;
    return 2;
  }
  if (c->config.data_dir.empty()) {
    c->config.data_dir = bench::make_temp_dir();
    c->own_data_dir = !c->keep_data;
    if (c->config.data_dir.empty()) {
      std::cerr << "strata_bench: cannot create a directory under /var/tmp\n";
      return 1;
    }
  }
  c->config.workload.topic = "strata-bench";
  c->config.pinned = c->broker_cpu >= 0;
  if (c->config.pinned) {
    // Before any librdkafka handle exists, so that every client thread inherits CPU 0.
    std::string err = bench::pin_current_thread(0);
    if (!err.empty()) {
      std::cerr << "strata_bench: --pin: " << err << "\n";
      return 1;
    }
  }
  auto rt = PosixRuntime::create({.log_level_min = LogLevel::kWarn});
  if (!rt) {
    std::cerr << "strata_bench: " << rt.status().message() << "\n";
    return 1;
  }
  c->clock = rt->get();
  auto runs = bench::run_all(*c);
  if (c->own_data_dir) std::filesystem::remove_all(c->config.data_dir);
  if (c->json) {
    bench::print_json(c->config, runs);
  } else {
    bench::print_text(c->config, runs);
  }
  for (const auto& r : runs) {
    if ((r.strata && !r.strata->ok()) || (r.mock && !r.mock->ok())) return 1;
  }
  return 0;
}
