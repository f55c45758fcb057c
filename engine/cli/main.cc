// `strata`: the broker and its tools in one binary.
#include <cstdio>
#include <string>
#include <vector>

#include "engine/cli/commands.h"

namespace {

constexpr const char* kUsage =
    "usage: strata <command> [options]\n"
    "\n"
    "commands:\n"
    "  broker   --config FILE [--override key=value]...   run a broker\n"
    "  topics   create|list|describe|delete ...            manage topics\n"
    "  produce  TOPIC [--key K --value V | stdin lines]    write records\n"
    "  consume  TOPIC [--from-beginning] [--count N]       read records\n"
    "           [--group G]                                as a consumer-group member\n"
    "  groups   list|describe|delete|reset-offsets ...     manage consumer groups\n"
    "  perf     produce|consume ...                        benchmarks\n"
    "  sim      run|sweep|list SCENARIO ...                simulated scenario runs\n"
    "\n"
    "Run `strata <command> --help` for the options of one command.\n";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  std::string command = args[0];
  args.erase(args.begin());
  using namespace strata::cli;
  if (command == "broker") return cmd_broker(args);
  if (command == "topics") return cmd_topics(args);
  if (command == "produce") return cmd_produce(args);
  if (command == "consume") return cmd_consume(args);
  if (command == "groups") return cmd_groups(args);
  if (command == "perf") return cmd_perf(args);
  if (command == "sim") return cmd_sim(args);
  std::fprintf(stderr, "strata: unknown command '%s'\n\n%s", command.c_str(), kUsage);
  return 2;
}
