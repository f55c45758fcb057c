// `strata broker --config FILE [--override key=value]...`
#include <cstdio>
#include <iostream>

#include "engine/broker/broker.h"
#include "engine/broker/config.h"
#include "engine/cli/args.h"
#include "engine/cli/commands.h"
#include "engine/runtime/posix_runtime.h"

namespace strata::cli {
namespace {

constexpr const char* kBrokerUsage =
    "usage: strata broker [--config FILE] [--override key=value]... [--log-level LEVEL]\n"
    "  --config FILE          server.properties with Kafka's key names (default: none, all\n"
    "                         defaults)\n"
    "  --override key=value   set a key after the file (repeatable)\n"
    "  --log-level LEVEL      debug|info|warn|error (default info)\n";

Result<broker::ConfigLoad> load_config(Runtime& rt, const Args& args) {
  std::vector<broker::PropertyEntry> entries;
  std::string source = args.get_or("config", "(defaults)");
  if (auto path = args.get("config")) {
    auto text = read_file_text(rt.fs(), *path);
    if (!text) return Status::invalid_argument(*path + ": " + text.status().message());
    STRATA_ASSIGN_OR_RETURN(entries, broker::parse_properties(*text, *path));
  }
  for (const auto& o : args.all("override")) {
    STRATA_ASSIGN_OR_RETURN(auto entry, broker::parse_override(o));
    entries.push_back(std::move(entry));
  }
  return broker::load_broker_config(entries, source);
}

std::optional<LogLevel> parse_level(const std::string& s) {
  if (s == "debug") return LogLevel::kDebug;
  if (s == "info") return LogLevel::kInfo;
  if (s == "warn") return LogLevel::kWarn;
  if (s == "error") return LogLevel::kError;
  return std::nullopt;
}

}  // namespace

int cmd_broker(const Argv& argv) {
  auto args = Args::parse(argv, {{"config"}, {"override"}, {"log-level"}, {"help", false}});
  if (!args || args->has("help") || !args->positional().empty()) {
    if (!args) std::cerr << "strata broker: " << args.status().message() << "\n";
    std::cerr << kBrokerUsage;
    return args && args->has("help") ? 0 : 2;
  }
  auto level = parse_level(args->get_or("log-level", "info"));
  if (!level) {
    std::cerr << "strata broker: --log-level must be debug, info, warn or error\n";
    return 2;
  }
  auto rt = PosixRuntime::create({.log_level_min = *level});
  if (!rt) {
    std::cerr << "strata broker: " << rt.status().to_string() << "\n";
    return 1;
  }
  auto loaded = load_config(**rt, *args);
  if (!loaded) {
    std::cerr << "strata broker: configuration error: " << loaded.status().message() << "\n";
    return 2;
  }
  for (const auto& w : loaded->warnings) (*rt)->warn("config", w);
  if (Status s = (*rt)->stop_on_signals(); !s) (*rt)->warn("broker", s.to_string());

  broker::Broker b(**rt, loaded->config);
  if (Status s = b.start(); !s) {
    (*rt)->error("broker", "failed to start: " + s.to_string());
    return 1;
  }
  (*rt)->run();
  (*rt)->info("broker", "stopping");
  // A broker of a remote controller first hands its leaderships over (at most 5 s; a second
  // signal cuts it short).
  bool moved = false;
  if (b.begin_controlled_shutdown([&moved] { moved = true; })) {
    (*rt)->run_until([&moved] { return moved; }, std::chrono::seconds(5));
  }
  Status s = b.shutdown();
  if (!s) {
    (*rt)->error("broker", "shutdown: " + s.to_string());
    return 1;
  }
  (*rt)->info("broker", "stopped cleanly");
  return 0;
}

}  // namespace strata::cli
