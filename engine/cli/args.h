// Minimal command-line parsing for the strata tools: positional arguments plus
// `--name value`, `--name=value` and boolean `--flag` options. Options may repeat
// (--override a=1 --override b=2). Unknown options are errors that name the option.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/base/status.h"

namespace strata::cli {

struct OptionSpec {
  std::string name;        // without the leading "--"
  bool takes_value = true;
  std::string short_name;  // e.g. "b" for -b, optional
};

class Args {
 public:
  static Result<Args> parse(const std::vector<std::string>& argv,
                            const std::vector<OptionSpec>& specs);

  const std::vector<std::string>& positional() const { return positional_; }
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::optional<std::string> get(const std::string& name) const;
  std::string get_or(const std::string& name, const std::string& fallback) const;
  const std::vector<std::string>& all(const std::string& name) const;
  Result<int64_t> get_int(const std::string& name, int64_t fallback) const;

 private:
  std::vector<std::string> positional_;
  std::map<std::string, std::vector<std::string>> values_;
};

}  // namespace strata::cli
