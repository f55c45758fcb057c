// `strata sim run|sweep|list`: deterministic scenario runs (sim/runner.h) from the shell.
// The simulation itself runs on simulated Runtimes; the files this command reads and writes,
// and the wall time it reports, go through a PosixRuntime like every other command's.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <optional>
#include <string_view>

#include "engine/cli/args.h"
#include "engine/cli/client_cli.h"
#include "engine/cli/commands.h"
#include "engine/runtime/posix_process.h"
#include "engine/runtime/posix_runtime.h"
#include "sim/results_db.h"
#include "sim/runner.h"
#include "sim/scenario.h"

namespace strata::cli {

namespace {

// A seed as reports print it: decimal digits only, 0 to 2^64-1. Every seed a run or sweep
// prints can be typed back in.
std::optional<uint64_t> parse_seed(std::string_view s) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

// Sweeps larger than this are a typo, not a plan (and A..B then never overflows a count).
constexpr uint64_t kSweepSeedsMax = uint64_t(1) << 32;

constexpr const char* kSimUsage =
    "usage: strata sim run SCENARIO [--seed N] [--db FILE] [--trace FILE] [--quiet]\n"
    "       strata sim sweep SCENARIO --seeds A..B [--jobs N]   (N processes, default 1)\n"
    "       strata sim list [DIR]          (default DIR: scenarios)\n"
    "\n"
    "run exits 1 when an expectation fails and 2 when the scenario file is bad.\n";

// The runtime the command's own file I/O and wall clock go through.
PosixRuntime& host() {
  static std::unique_ptr<PosixRuntime> rt = [] {
    auto r = PosixRuntime::create({.log_level_min = LogLevel::kWarn});
    STRATA_ASSERT(r.is_ok(), "cannot create the POSIX runtime");
    return std::move(*r);
  }();
  return *rt;
}

Result<sim::Scenario> load(const std::string& path) {
  auto text = read_file_text(host().fs(), path);
  if (!text) return Status::not_found(path + ": " + text.status().message());
  return sim::parse_scenario(*text, path);
}

// FNV-1a 64 of the scenario text: stable across platforms; not SHA-256 (no crypto library
// is linked into strata), which is enough to tell two scenario texts apart.
uint64_t text_hash(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

Status write_trace(const std::string& path, const sim::Scenario& s, const sim::RunRecord& r) {
  char hash[32];
  std::snprintf(hash, sizeof hash, "%016llx", (unsigned long long)text_hash(s.text));
  std::string out = "{\"type\":\"header\",\"version\":" + json_string(STRATA_VERSION) +
                    ",\"scenario\":" + json_string(s.name) + ",\"path\":" + json_string(s.path) +
                    ",\"seed\":" + std::to_string(r.seed) + ",\"scenario_fnv1a64\":\"" + hash +
                    "\"}\n";
  for (const auto& t : r.trace) {
    out += "{\"t_ns\":" + std::to_string(t.t_ns) + ",\"line\":" + json_string(t.line) + "}\n";
  }
  STRATA_ASSIGN_OR_RETURN(auto file, host().fs().open(path, OpenMode::kCreateTruncate));
  return file->append(as_bytes(out));
}

void print_summary(const sim::Scenario& s, const sim::RunOutcome& o, double wall_s) {
  const sim::RunRecord& r = o.record;
  const auto& m = o.measures;
  auto get = [&](const char* k) { return (long long)m.at(k); };
  std::printf("scenario    %s (%s)\n", s.name.c_str(), s.path.c_str());
  if (!s.title.empty()) std::printf("            %s\n", s.title.c_str());
  std::printf("seed        %llu\n", (unsigned long long)r.seed);
  std::printf("simulated   %.3f s, %llu events (%.0f events/s wall, %.2f s)\n",
              double(r.simulated_ns) / 1e9, (unsigned long long)r.events_run,
              wall_s > 0 ? double(r.events_run) / wall_s : 0.0, wall_s);
  std::printf("records     sent %lld, acked %lld, send errors %lld, polled %lld, final read %lld\n",
              get("sent"), get("acked"), get("send_errors"), get("polled"), get("final_records"));
  std::printf("latency     ack p50 %.2f ms, p99 %.2f ms, max %.2f ms; consumer lag max %lld\n",
              m.at("ack_latency_p50"), m.at("ack_latency_p99"), m.at("ack_latency_max"),
              get("max_consumer_lag"));
  std::printf("producers   %lld retries, %lld producer id resets; the broker acknowledged %lld "
              "duplicate batches without writing them\n",
              get("producer_retries"), get("producer_id_resets"), get("duplicate_batches"));
  for (const auto& [group, g] : o.check->groups) {
    std::printf("group       %s: %lld generations (last %d), %lld members expired; commits %lld, "
                "failed %lld; redelivered %lld; unowned %lld ms in all, longest %lld ms, "
                "at most %lld partitions at once\n",
                group.c_str(), (long long)g.generations, g.last_generation,
                get("members_expired"), (long long)g.commits, (long long)g.commit_failures,
                (long long)g.redelivered, (long long)g.unowned_ms, (long long)g.max_unowned_ms,
                (long long)g.max_unowned_partitions);
    std::printf("            unowned ms by partition:");
    for (const auto& [tp, ms] : g.unowned_ms_by_partition) {
      std::printf(" %s-%d %lld", tp.first.c_str(), tp.second, (long long)ms);
    }
    std::printf("\n");
  }
  std::printf("anomalies   %lld", get("anomalies"));
  for (const auto& [kind, n] : o.check->counts) {
    std::printf("%s %s %lld", kind == o.check->counts.begin()->first ? ":" : ",",
                std::string(sim::anomaly_name(kind)).c_str(), (long long)n);
  }
  std::printf("\n");
  std::map<sim::AnomalyKind, int> shown;
  for (const auto& a : o.check->anomalies) {
    if (shown[a.kind]++ >= 3) continue;
    std::printf("  %-20s %s %s/%d@%lld %s\n", std::string(sim::anomaly_name(a.kind)).c_str(),
                a.value_id.c_str(), a.topic.c_str(), a.partition, (long long)a.offset,
                a.detail.c_str());
  }
  std::printf("expect\n");
  for (const auto& e : r.expectations) {
    std::printf("  %s %-20s %s\n", e.passed ? "\u2713" : "\u2717", e.name.c_str(),
                e.detail.c_str());
  }
  std::printf("trace hash  %016llx\n", (unsigned long long)r.trace_hash);
  std::printf("result      %s\n", r.passed ? "PASS" : "FAIL");
}

int sim_run(const Argv& argv) {
  auto args = Args::parse(argv, {{"seed"}, {"db"}, {"trace"}, {"quiet", false}});
  if (!args || args->positional().size() != 1) {
    std::fprintf(stderr, "%s%s", args ? "" : (args.status().message() + "\n").c_str(),
                 kSimUsage);
    return 2;
  }
  auto scenario = load(args->positional()[0]);
  if (!scenario) {
    std::fprintf(stderr, "strata sim: %s\n", scenario.status().message().c_str());
    return 2;
  }
  std::optional<uint64_t> seed = scenario->seed;
  if (auto text = args->get("seed")) seed = parse_seed(*text);
  if (!seed) {
    std::fprintf(stderr, "strata sim: --seed: expected an integer from 0 to %llu, got \"%s\"\n",
                 (unsigned long long)UINT64_MAX, args->get("seed")->c_str());
    return 2;
  }
  sim::RunOptions options;
  options.keep_trace = args->has("trace") || args->has("db");
  options.keep_metrics = args->has("db");
  MonoTime t0 = host().now();
  auto outcome = sim::run_scenario(*scenario, *seed, options);
  double wall = double((host().now() - t0).count()) / 1e9;
  if (!outcome) {
    std::fprintf(stderr, "strata sim: %s\n", outcome.status().message().c_str());
    return 2;
  }
  outcome->record.scenario_path = scenario->path;
  if (!args->has("quiet")) print_summary(*scenario, *outcome, wall);
  if (auto path = args->get("trace")) {
    if (Status st = write_trace(*path, *scenario, outcome->record); !st) {
      std::fprintf(stderr, "strata sim: %s\n", st.message().c_str());
      return 1;
    }
  }
  if (auto path = args->get("db")) {
    if (Status st = sim::write_run_db(*path, outcome->record); !st) {
      std::fprintf(stderr, "strata sim: %s\n", st.message().c_str());
      return 1;
    }
  }
  return outcome->record.passed ? 0 : 1;
}

// One seed of a sweep: why it failed ("" if it passed) and the simulated time it covered.
struct SeedResult {
  std::string why;
  int64_t simulated_ns = 0;
};

SeedResult sweep_one(const sim::Scenario& scenario, uint64_t seed) {
  sim::RunOptions options;
  options.keep_trace = false;
  options.keep_metrics = false;
  auto outcome = sim::run_scenario(scenario, seed, options);
  if (!outcome) return {outcome.status().message().empty() ? "error" : outcome.status().message()};
  SeedResult r{"", outcome->record.simulated_ns};
  if (!outcome->record.passed) {
    for (const auto& e : outcome->record.expectations) {
      if (!e.passed) r.why += (r.why.empty() ? "" : "; ") + e.name + ": " + e.detail;
    }
    if (r.why.empty()) r.why = "failed";
  }
  return r;
}

// A child's result on its pipe: "<simulated_ns> <why>".
std::string encode(const SeedResult& r) { return std::to_string(r.simulated_ns) + " " + r.why; }

SeedResult decode(const Result<std::string>& text) {
  if (!text) return {text.status().message()};
  size_t space = text->find(' ');
  if (space == std::string::npos) return {"malformed result from the seed's process"};
  return {text->substr(space + 1), std::atoll(text->substr(0, space).c_str())};
}

void show_progress(uint64_t done, uint64_t total, size_t failing) {
  int width = 40, filled = int(double(done) / double(total) * width);
  std::fprintf(stderr, "\r[%s%s] %llu/%llu seeds, %zu failing", std::string(filled, '#').c_str(),
               std::string(width - filled, ' ').c_str(), (unsigned long long)done,
               (unsigned long long)total, failing);
}

int sim_sweep(const Argv& argv) {
  auto args = Args::parse(argv, {{"seeds"}, {"jobs"}});
  if (!args || args->positional().size() != 1 || !args->has("seeds")) {
    std::fprintf(stderr, "%s", kSimUsage);
    return 2;
  }
  std::string range = *args->get("seeds");
  size_t dots = range.find("..");
  std::optional<uint64_t> first, last;
  if (dots != std::string::npos) {
    first = parse_seed(std::string_view(range).substr(0, dots));
    last = parse_seed(std::string_view(range).substr(dots + 2));
  }
  if (!first || !last || *last < *first || *last - *first >= kSweepSeedsMax) {
    std::fprintf(stderr,
                 "strata sim: --seeds: expected A..B, seeds from 0 to %llu with A <= B and at "
                 "most %llu of them, got \"%s\"\n",
                 (unsigned long long)UINT64_MAX, (unsigned long long)kSweepSeedsMax,
                 range.c_str());
    return 2;
  }
  uint64_t a = *first, b = *last;
  auto jobs = args->get_int("jobs", 1);
  if (!jobs || *jobs < 1 || *jobs > kProcessJobsMax) {
    std::fprintf(stderr, "strata sim: --jobs: expected 1..%d\n", kProcessJobsMax);
    return 2;
  }
  auto scenario = load(args->positional()[0]);
  if (!scenario) {
    std::fprintf(stderr, "strata sim: %s\n", scenario.status().message().c_str());
    return 2;
  }
  uint64_t total = b - a + 1;
  std::map<uint64_t, std::string> failing;  // by seed, whatever order the seeds finish in
  uint64_t done = 0;
  int64_t simulated_ns = 0;
  auto record = [&](uint64_t seed, const SeedResult& r) {
    if (!r.why.empty()) failing[seed] = r.why;
    simulated_ns += r.simulated_ns;
    show_progress(++done, total, failing.size());
  };
  MonoTime t0 = host().now();
  if (*jobs == 1) {
    // Counted, not compared with b: b may be the largest seed, which `seed <= b` never passes.
    for (uint64_t i = 0; i < total; ++i) record(a + i, sweep_one(*scenario, a + i));
  } else {
    // Each seed in its own process: a simulation is single-threaded by design.
    ProcessTasks tasks;
    tasks.count = size_t(total);
    tasks.jobs = int(*jobs);
    tasks.work = [&](size_t i) { return encode(sweep_one(*scenario, a + i)); };
    tasks.done = [&](size_t i, Result<std::string> text) { record(a + i, decode(text)); };
    if (Status st = run_in_processes(tasks); !st) {
      std::fprintf(stderr, "\nstrata sim: %s\n", st.message().c_str());
      return 2;
    }
  }
  double wall = double((host().now() - t0).count()) / 1e9;
  std::fprintf(stderr, "\n");
  std::printf("%llu seeds, %zu failing (%.1f s wall, %lld job%s, %.0fx real time overall)\n",
              (unsigned long long)total, failing.size(), wall, (long long)*jobs,
              *jobs == 1 ? "" : "s", wall > 0 ? double(simulated_ns) / 1e9 / wall : 0.0);
  for (const auto& [seed, why] : failing) {
    std::printf("  seed %llu: %s\n    strata sim run %s --seed %llu\n", (unsigned long long)seed,
                why.c_str(), scenario->path.c_str(), (unsigned long long)seed);
  }
  return failing.empty() ? 0 : 1;
}

int sim_list(const Argv& argv) {
  std::string dir = argv.empty() ? "scenarios" : argv[0];
  auto names = host().fs().list_dir(dir);
  if (!names) {
    std::fprintf(stderr, "strata sim: %s: %s\n", dir.c_str(), names.status().message().c_str());
    return 2;
  }
  std::vector<std::string> files;  // list_dir returns sorted names
  for (const auto& n : *names) {
    if (n.size() > 5 && n.compare(n.size() - 5, 5, ".yaml") == 0) files.push_back(dir + "/" + n);
  }
  int bad = 0;
  for (const auto& f : files) {
    auto s = load(f);
    if (!s) {
      std::printf("%-44s  ERROR %s\n", f.c_str(), s.status().message().c_str());
      ++bad;
    } else {
      std::printf("%-44s  %s\n", f.c_str(), s->title.c_str());
    }
  }
  return bad ? 2 : 0;
}

}  // namespace

int cmd_sim(const Argv& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fputs(kSimUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  Argv rest(args.begin() + 1, args.end());
  if (args[0] == "run") return sim_run(rest);
  if (args[0] == "sweep") return sim_sweep(rest);
  if (args[0] == "list") return sim_list(rest);
  std::fprintf(stderr, "strata sim: unknown subcommand '%s'\n\n%s", args[0].c_str(), kSimUsage);
  return 2;
}

}  // namespace strata::cli
