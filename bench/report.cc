#include "bench/report.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

namespace strata::bench {
namespace {

double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

const TargetRun* target_of(const RunResult& r, bool strata) {
  const auto& t = strata ? r.strata : r.mock;
  return t ? &*t : nullptr;
}

PhaseMedian median_phase(const std::vector<RunResult>& runs, bool strata, bool produce) {
  std::vector<double> rps, mbps, p50, p99, max, cpu;
  for (const RunResult& r : runs) {
    const TargetRun* t = target_of(r, strata);
    if (t == nullptr || !t->error.empty()) continue;
    const perf::PhaseResult& p = produce ? t->produce : t->consume;
    if (!p.ok() || p.records == 0) continue;
    rps.push_back(p.records_per_s());
    mbps.push_back(p.mb_per_s());
    p50.push_back(p.latency.p50_ms);
    p99.push_back(p.latency.p99_ms);
    max.push_back(p.latency.max_ms);
    double cpu_s = produce ? t->produce_cpu_s : t->consume_cpu_s;
    if (cpu_s >= 0) cpu.push_back(cpu_s * 1e9 / double(p.records));
  }
  return {int(rps.size()), median_of(rps), median_of(mbps), median_of(p50), median_of(p99),
          median_of(max), median_of(cpu)};
}

std::string cpu_cell(const PhaseMedian& m) {
  if (m.cpu_ns_per_record <= 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", m.cpu_ns_per_record);
  return buf;
}

void print_row(const char* name, const PhaseMedian& m, bool latency) {
  if (m.runs == 0) {
    std::printf("%-16s %12s\n", name, "failed");
    return;
  }
  if (latency) {
    std::printf("%-16s %12.0f %9.2f %9.2f %9.2f %9.2f %12s\n", name, m.records_per_s,
                m.mb_per_s, m.p50_ms, m.p99_ms, m.max_ms, cpu_cell(m).c_str());
  } else {
    std::printf("%-16s %12.0f %9.2f %9s %9s %9s %12s\n", name, m.records_per_s, m.mb_per_s,
                "-", "-", "-", cpu_cell(m).c_str());
  }
}

void print_ratio(const char* what, double num, double den, const char* target) {
  if (num <= 0 || den <= 0) return;
  std::printf("%-34s %6.2fx%s\n", what, num / den, target);
}

void print_run_errors(const std::vector<RunResult>& runs) {
  for (size_t i = 0; i < runs.size(); ++i) {
    for (bool strata : {true, false}) {
      const TargetRun* t = target_of(runs[i], strata);
      if (t == nullptr || t->ok()) continue;
      std::string e = !t->error.empty() ? t->error
                      : !t->produce.ok() ? "produce: " + t->produce.error
                                         : "consume: " + t->consume.error;
      std::printf("run %zu %s failed: %s\n", i + 1, strata ? "strata" : "mock", e.c_str());
    }
  }
}

void print_per_run(const std::vector<RunResult>& runs) {
  std::printf("\nper run, records/s   %12s %12s %12s %12s\n", "strata prod", "mock prod",
              "strata cons", "mock cons");
  auto cell = [](const TargetRun* t, bool produce) {
    if (t == nullptr || !t->ok()) return 0.0;
    return produce ? t->produce.records_per_s() : t->consume.records_per_s();
  };
  for (size_t i = 0; i < runs.size(); ++i) {
    const TargetRun* s = target_of(runs[i], true);
    const TargetRun* m = target_of(runs[i], false);
    std::printf("  run %-15zu %12.0f %12.0f %12.0f %12.0f\n", i + 1, cell(s, true),
                cell(m, true), cell(s, false), cell(m, false));
  }
}

std::string json_phase(const PhaseMedian& m, bool latency) {
  char buf[256];
  int n = std::snprintf(buf, sizeof buf,
                        "{\"runs\":%d,\"records_per_s\":%.1f,\"mb_per_s\":%.3f,"
                        "\"broker_cpu_ns_per_record\":%.1f",
                        m.runs, m.records_per_s, m.mb_per_s, m.cpu_ns_per_record);
  if (latency) {
    std::snprintf(buf + n, sizeof buf - n, ",\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f",
                  m.p50_ms, m.p99_ms, m.max_ms);
  }
  return std::string(buf) + "}";
}

std::string json_ratio(double num, double den) {
  if (num <= 0 || den <= 0) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", num / den);
  return buf;
}

}  // namespace

PhaseMedian median_produce(const std::vector<RunResult>& runs, bool strata) {
  return median_phase(runs, strata, true);
}

PhaseMedian median_consume(const std::vector<RunResult>& runs, bool strata) {
  return median_phase(runs, strata, false);
}

std::string machine_description() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, model = "unknown CPU";
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) model = line.substr(colon + 2);
      break;
    }
  }
  return model + " (" + std::to_string(sysconf(_SC_NPROCESSORS_ONLN)) + " CPUs)";
}

void print_text(const BenchConfig& c, const std::vector<RunResult>& runs) {
  const perf::WorkloadOptions& w = c.workload;
  std::printf("strata_bench: %lld records x %d B, %d partition(s), acks=%d, linger.ms=%d, "
              "batch.size=%s, compression=%s, warmup %lld\n",
              static_cast<long long>(w.records), w.record_size_bytes, w.partitions, w.acks,
              w.linger_ms,
              w.batch_size_bytes > 0 ? std::to_string(w.batch_size_bytes).c_str() : "default",
              w.compression.c_str(), static_cast<long long>(w.warmup_records));
  std::printf("librdkafka %s; %s; %s; medians of %zu run(s); MB = 2^20 bytes of values;\n"
              "broker ns/rec = CPU time per measured record of the strata process (all\n"
              "threads) or of the mock's serving thread (rdk:mock)\n\n",
              perf::client_version().c_str(), machine_description().c_str(),
              c.pinned ? "pinned: client CPU 0, broker CPU 1" : "unpinned", runs.size());
  std::printf("%-16s %12s %9s %9s %9s %9s %12s\n", "", "records/s", "MB/s", "p50 ms",
              "p99 ms", "max ms", "broker ns/rec");
  PhaseMedian sp = median_produce(runs, true), mp = median_produce(runs, false);
  PhaseMedian sc = median_consume(runs, true), mc = median_consume(runs, false);
  if (c.strata) print_row("strata produce", sp, true);
  if (c.mock) print_row("mock produce", mp, true);
  if (c.strata) print_row("strata consume", sc, false);
  if (c.mock) print_row("mock consume", mc, false);
  std::printf("\n");
  print_ratio("strata/mock produce throughput:", sp.records_per_s, mp.records_per_s,
              "   (target >= 0.70x)");
  print_ratio("strata/mock consume throughput:", sc.records_per_s, mc.records_per_s, "");
  print_ratio("strata consume/produce throughput:", sc.records_per_s, sp.records_per_s,
              "   (target >= 1.00x)");
  print_ratio("mock consume/produce throughput:", mc.records_per_s, mp.records_per_s, "");
  print_per_run(runs);
  print_run_errors(runs);
}

void print_json(const BenchConfig& c, const std::vector<RunResult>& runs) {
  const perf::WorkloadOptions& w = c.workload;
  PhaseMedian sp = median_produce(runs, true), mp = median_produce(runs, false);
  PhaseMedian sc = median_consume(runs, true), mc = median_consume(runs, false);
  std::printf("{\"bench\":\"strata_bench\",\"machine\":%s,\"librdkafka\":%s,"
              "\"config\":{\"records\":%lld,\"record_size\":%d,\"partitions\":%d,\"acks\":%d,"
              "\"linger_ms\":%d,\"batch_size\":%lld,\"compression\":%s,\"warmup\":%lld,"
              "\"runs\":%zu,\"pinned\":%s},",
              perf::json_string(machine_description()).c_str(),
              perf::json_string(perf::client_version()).c_str(),
              static_cast<long long>(w.records), w.record_size_bytes, w.partitions, w.acks,
              w.linger_ms, static_cast<long long>(w.batch_size_bytes),
              perf::json_string(w.compression).c_str(),
              static_cast<long long>(w.warmup_records), runs.size(), c.pinned ? "true" : "false");
  std::string out;
  if (c.strata) {
    out += "\"strata\":{\"produce\":" + json_phase(sp, true) +
           ",\"consume\":" + json_phase(sc, false) + "},";
  }
  if (c.mock) {
    out += "\"mock\":{\"produce\":" + json_phase(mp, true) +
           ",\"consume\":" + json_phase(mc, false) + "},";
  }
  out += "\"ratio\":{\"produce_strata_over_mock\":" +
         json_ratio(sp.records_per_s, mp.records_per_s) +
         ",\"consume_strata_over_mock\":" + json_ratio(sc.records_per_s, mc.records_per_s) +
         ",\"strata_consume_over_produce\":" + json_ratio(sc.records_per_s, sp.records_per_s) +
         "}}";
  std::printf("%s\n", out.c_str());
}

}  // namespace strata::bench
