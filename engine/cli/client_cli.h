// Shared plumbing of the client commands (topics, produce, consume): the common options
// (--bootstrap-server/-b, --format, --timeout-ms, --help), a PosixRuntime to run a client on,
// and output helpers (JSON strings, Kafka error lines).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/bytes.h"
#include "engine/cli/args.h"
#include "engine/cli/commands.h"
#include "engine/client/network_client.h"
#include "engine/runtime/posix_runtime.h"

namespace strata::cli {

enum class OutputFormat { kText, kJson };

// The options every client command accepts, to append to its own list.
std::vector<OptionSpec> common_client_options();

struct CommonOptions {
  client::ClientOptions client;
  OutputFormat format = OutputFormat::kText;
  std::optional<int64_t> timeout_ms;  // --timeout-ms
};

// Reads --bootstrap-server (default 127.0.0.1:9092), --format and --timeout-ms.
Result<CommonOptions> parse_common(const Args& args);

// Parses argv; on --help prints usage to stdout and returns exit code 0, on errors prints the
// message and usage to stderr and returns 2; otherwise fills `out` and returns nullopt.
std::optional<int> parse_or_usage(const std::string& command, const Argv& argv,
                                  std::vector<OptionSpec> specs, const char* usage, Args& out);

// A runtime for a command: logs warnings and errors only, stops on SIGINT/SIGTERM.
Result<std::unique_ptr<PosixRuntime>> make_runtime();

// Runs the loop until done() or the timeout (none: until done or a signal). Returns done().
bool run_until(PosixRuntime& rt, const std::function<bool()>& done,
               std::optional<int64_t> timeout_ms);

// Starts an asynchronous client call and runs the loop until its callback has run or
// `timeout_ms` has passed. The result lives in a shared slot, so a callback that comes after
// a timeout (close() completes everything) writes somewhere valid.
template <class T, class Start>
Result<T> await(PosixRuntime& rt, Start start, int64_t timeout_ms) {
  auto slot = std::make_shared<std::optional<Result<T>>>();
  start([slot](Result<T> r) { slot->emplace(std::move(r)); });
  if (!rt.run_until([&] { return slot->has_value(); }, milliseconds(timeout_ms))) {
    if (rt.stop_requested()) return Status::closed("interrupted");
    return Status::timed_out("no answer within " + std::to_string(timeout_ms) + " ms");
  }
  return std::move(**slot);
}

// Closes the client's connections and lets the loop deliver their close events, so nothing
// is left for a runtime that is about to be destroyed.
void close_client(PosixRuntime& rt, client::NetworkClient& net);

// "text" with JSON string escaping (quotes included).
std::string json_string(std::string_view s);
// Bytes as a JSON string, or null.
std::string json_bytes(const std::optional<ByteSpan>& b);
std::string to_string(const std::optional<ByteSpan>& b);

// Prints "strata <command>: <message>" on stderr.
void print_error(const std::string& command, const std::string& message);

}  // namespace strata::cli
