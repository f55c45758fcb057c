// Subcommands of the `strata` binary. Each takes the arguments after its name and returns
// the process exit code (0 ok, 1 runtime failure, 2 usage or configuration error).
#pragma once

#include <string>
#include <vector>

namespace strata::cli {

using Argv = std::vector<std::string>;

int cmd_broker(const Argv& args);
int cmd_topics(const Argv& args);
int cmd_produce(const Argv& args);
int cmd_consume(const Argv& args);
int cmd_groups(const Argv& args);  // groups list|describe|delete|reset-offsets
int cmd_perf(const Argv& args);
int cmd_sim(const Argv& args);  // sim run|sweep|list (deterministic scenarios)

}  // namespace strata::cli
