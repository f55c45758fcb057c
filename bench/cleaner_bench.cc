// strata_cleaner_bench: the log cleaner on a real disk. Writes a compacted partition log of
// RECORDS keyed records (batches of 100, VALUE_BYTES each, over KEYS keys, optionally lz4) in
// 64 MiB segments (--segment-mb) into a temp directory, syncs it, then times one clean pass step by
// step. Prints input and output sizes, the pass's throughput (input MB/s) and its longest single
// step — the longest the broker's event loop is kept from serving requests. Each run starts
// from a fresh directory; medians over runs. Prints figures; asserts nothing on speed.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/protocol/record_batch.h"
#include "engine/runtime/posix_runtime.h"
#include "engine/storage/partition_log.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kBatchRecords = 100;

struct Options {
  int64_t records = 2'000'000;
  int64_t keys = 10'000;
  int value_bytes = 100;
  bool lz4 = false;
  int runs = 3;
  int segment_mb = 64;
};

struct Figures {
  double write_s = 0;
  double pass_s = 0;
  double max_step_ms = 0;
  int64_t steps = 0;
  strata::CleanStats stats;
};

[[noreturn]] void die(const std::string& what, const strata::Status& s) {
  std::fprintf(stderr, "%s: %s\n", what.c_str(), s.to_string().c_str());
  std::exit(1);
}

Figures run_once(strata::PosixRuntime& rt, const Options& o, int run) {
  std::string dir = (std::filesystem::temp_directory_path() /
                     ("strata-cleaner-bench-" + std::to_string(rt.random_u64()) + "-" +
                      std::to_string(run) + "/bench-0"))
                        .string();
  strata::LogConfig config;
  config.cleanup_compact = true;
  config.cleanup_delete = false;
  config.segment_bytes = o.segment_mb << 20;
  config.min_cleanable_dirty_ratio = 0.0;
  auto opened = strata::PartitionLog::open(rt, dir, config);
  if (!opened) die("open", opened.status());
  std::unique_ptr<strata::PartitionLog> log = std::move(opened).value();

  Figures f;
  std::string value(size_t(o.value_bytes), 'v');
  auto t0 = Clock::now();
  uint64_t key_state = 0x9e3779b97f4a7c15ull;  // a fixed sequence of keys, the same each run
  for (int64_t written = 0; written < o.records; written += kBatchRecords) {
    strata::BatchBuilderOptions bo;
    if (o.lz4) bo.codec = strata::Codec::kLz4;
    strata::RecordBatchBuilder b(bo);
    for (int i = 0; i < kBatchRecords; ++i) {
      key_state ^= key_state << 13;
      key_state ^= key_state >> 7;
      key_state ^= key_state << 17;
      std::string key = "key-" + std::to_string(key_state % uint64_t(o.keys));
      // Values from a 16-letter alphabet: lz4 halves them, as it would typical text.
      for (size_t j = 0; j < value.size(); j += 8) {
        uint64_t bits = key_state * 0x2545f4914f6cdd1dull + j;
        for (size_t k = j; k < std::min(value.size(), j + 8); ++k, bits >>= 4) {
          value[k] = char('a' + (bits & 15));
        }
      }
      b.add(rt.wall_clock_ms() - 3'600'000, strata::as_bytes(key), strata::as_bytes(value));
    }
    auto batch = b.build();
    if (!batch) die("build", batch.status());
    auto appended = log->append(*batch, strata::LeaderEpoch{0}, rt.wall_clock_ms());
    if (!appended) die("append", appended.status());
  }
  // The pass cleans everything below the active segment, which stays dirty, as in a broker.
  if (auto s = log->flush(); !s) die("flush", s);
  f.write_s = std::chrono::duration<double>(Clock::now() - t0).count();

  auto p0 = Clock::now();
  for (;;) {
    auto s0 = Clock::now();
    auto step = log->clean_step(rt.wall_clock_ms(), {});
    double step_ms = std::chrono::duration<double, std::milli>(Clock::now() - s0).count();
    if (!step) die("clean_step", step.status());
    ++f.steps;
    f.max_step_ms = std::max(f.max_step_ms, step_ms);
    f.stats.add(*step);
    if (step->pass_done) break;
  }
  f.pass_s = std::chrono::duration<double>(Clock::now() - p0).count();
  (void)log->close();
  log.reset();
  std::filesystem::remove_all(std::filesystem::path(dir).parent_path());
  return f;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--records") {
      o.records = std::atoll(next());
    } else if (a == "--keys") {
      o.keys = std::atoll(next());
    } else if (a == "--value-bytes") {
      o.value_bytes = std::atoi(next());
    } else if (a == "--runs") {
      o.runs = std::atoi(next());
    } else if (a == "--segment-mb") {
      o.segment_mb = std::atoi(next());
    } else if (a == "--lz4") {
      o.lz4 = true;
    } else {
      std::fprintf(stderr,
                   "usage: strata_cleaner_bench [--records N] [--keys N] [--value-bytes N] "
                   "[--segment-mb N] [--lz4] [--runs N]\n");
      return a == "--help" ? 0 : 2;
    }
  }
  if (o.records <= 0 || o.keys <= 0 || o.value_bytes < 0 || o.runs <= 0 || o.segment_mb <= 0 ||
      o.segment_mb > 1024) {
    std::fprintf(stderr, "strata_cleaner_bench: counts must be positive\n");
    return 2;
  }
  auto rt = strata::PosixRuntime::create({.log_level_min = strata::LogLevel::kWarn});
  if (!rt) die("runtime", rt.status());
  std::vector<double> mbps, mrps, max_step, pass_s, write_s;
  Figures last;
  for (int r = 0; r < o.runs; ++r) {
    Figures f = run_once(**rt, o, r);
    double in_mb = double(f.stats.bytes_in) / (1 << 20);
    std::printf(
        "run %d: wrote %lld records in %.2f s; pass: %lld steps, %.2f s, %.1f MB in -> "
        "%.1f MB out, %.1f MB/s, longest step %.1f ms\n",
        r + 1, static_cast<long long>(o.records), f.write_s, static_cast<long long>(f.steps),
        f.pass_s, in_mb, double(f.stats.bytes_out) / (1 << 20), in_mb / f.pass_s, f.max_step_ms);
    mbps.push_back(in_mb / f.pass_s);
    mrps.push_back(double(f.stats.records_in) / f.pass_s / 1e6);
    max_step.push_back(f.max_step_ms);
    pass_s.push_back(f.pass_s);
    write_s.push_back(f.write_s);
    last = f;
  }
  std::printf(
      "cleaner: %lld records x %d B over %lld keys%s, %d MiB segments: "
      "%.1f MB/s, %.2f M records/s of input (medians of %d), pass %.2f s, longest step "
      "%.1f ms; "
      "%lld of %lld records removed, %lld keys mapped\n",
      static_cast<long long>(o.records), o.value_bytes, static_cast<long long>(o.keys),
      o.lz4 ? ", lz4" : "", o.segment_mb, median(mbps), median(mrps), o.runs, median(pass_s),
      median(max_step), static_cast<long long>(last.stats.records_removed),
      static_cast<long long>(last.stats.records_in),
      static_cast<long long>(last.stats.keys_mapped));
  return 0;
}
