#include "engine/cli/client_cli.h"

#include <cstdio>
#include <iostream>

namespace strata::cli {

std::vector<OptionSpec> common_client_options() {
  return {{"bootstrap-server", true, "b"},
          {"format"},
          {"timeout-ms"},
          {"help", false, "h"}};
}

Result<CommonOptions> parse_common(const Args& args) {
  CommonOptions o;
  STRATA_ASSIGN_OR_RETURN(o.client.bootstrap_servers,
                          client::parse_bootstrap_servers(
                              args.get_or("bootstrap-server", "127.0.0.1:9092")));
  o.client.client_id = "strata-cli";
  std::string format = args.get_or("format", "text");
  if (format == "json") {
    o.format = OutputFormat::kJson;
  } else if (format != "text") {
    return Status::invalid_argument("--format must be text or json, not '" + format + "'");
  }
  if (args.has("timeout-ms")) {
    STRATA_ASSIGN_OR_RETURN(int64_t t, args.get_int("timeout-ms", 0));
    if (t <= 0) return Status::invalid_argument("--timeout-ms must be positive");
    o.timeout_ms = t;
  }
  return o;
}

std::optional<int> parse_or_usage(const std::string& command, const Argv& argv,
                                  std::vector<OptionSpec> specs, const char* usage, Args& out) {
  for (auto& s : common_client_options()) specs.push_back(std::move(s));
  auto args = Args::parse(argv, specs);
  if (!args) {
    print_error(command, args.status().message());
    std::cerr << usage;
    return 2;
  }
  if (args->has("help")) {
    std::cout << usage;
    return 0;
  }
  out = std::move(*args);
  return std::nullopt;
}

Result<std::unique_ptr<PosixRuntime>> make_runtime() {
  STRATA_ASSIGN_OR_RETURN(auto rt, PosixRuntime::create({.log_level_min = LogLevel::kWarn}));
  if (Status s = rt->stop_on_signals(); !s) rt->warn("cli", s.to_string());
  return rt;
}

bool run_until(PosixRuntime& rt, const std::function<bool()>& done,
               std::optional<int64_t> timeout_ms) {
  // Without a timeout, run in long slices until done or a signal asks us to stop.
  if (timeout_ms) return rt.run_until(done, milliseconds(*timeout_ms));
  while (!done() && !rt.stop_requested()) rt.run_until(done, std::chrono::hours(1));
  return done();
}

void close_client(PosixRuntime& rt, client::NetworkClient& net) {
  net.close();
  rt.run_until([&] { return net.connections_open() == 0; }, std::chrono::seconds(2));
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

std::string json_bytes(const std::optional<ByteSpan>& b) {
  return b ? json_string(as_chars(*b)) : "null";
}

std::string to_string(const std::optional<ByteSpan>& b) {
  return b ? std::string(as_chars(*b)) : std::string();
}

void print_error(const std::string& command, const std::string& message) {
  std::cerr << "strata " << command << ": " << message << "\n";
}

}  // namespace strata::cli
