#include "engine/cli/args.h"

#include <charconv>

namespace strata::cli {
namespace {

const OptionSpec* find_spec(const std::vector<OptionSpec>& specs, const std::string& name,
                            bool is_short) {
  for (const auto& s : specs) {
    if ((!is_short && s.name == name) || (is_short && !s.short_name.empty() &&
                                          s.short_name == name)) {
      return &s;
    }
  }
  return nullptr;
}

}  // namespace

Result<Args> Args::parse(const std::vector<std::string>& argv,
                         const std::vector<OptionSpec>& specs) {
  Args out;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    bool is_long = a.size() > 2 && a.rfind("--", 0) == 0;
    bool is_short = !is_long && a.size() > 1 && a[0] == '-' && a != "-" &&
                    !(a[1] >= '0' && a[1] <= '9');
    if (!is_long && !is_short) {
      out.positional_.push_back(a);
      continue;
    }
    std::string name = a.substr(is_long ? 2 : 1);
    std::optional<std::string> inline_value;
    if (auto eq = name.find('='); is_long && eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const OptionSpec* spec = find_spec(specs, name, is_short);
    if (spec == nullptr) return Status::invalid_argument("unknown option '" + a + "'");
    if (!spec->takes_value) {
      out.values_[spec->name].push_back("true");
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= argv.size()) {
        return Status::invalid_argument("option --" + spec->name + " needs a value");
      }
      inline_value = argv[++i];
    }
    out.values_[spec->name].push_back(*inline_value);
  }
  return out;
}

std::optional<std::string> Args::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::string Args::get_or(const std::string& name, const std::string& fallback) const {
  auto v = get(name);
  return v ? *v : fallback;
}

const std::vector<std::string>& Args::all(const std::string& name) const {
  static const std::vector<std::string> kEmpty;
  auto it = values_.find(name);
  return it == values_.end() ? kEmpty : it->second;
}

Result<int64_t> Args::get_int(const std::string& name, int64_t fallback) const {
  auto v = get(name);
  if (!v) return fallback;
  int64_t out = 0;
  auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || ptr != v->data() + v->size()) {
    return Status::invalid_argument("option --" + name + " expects an integer, got '" + *v + "'");
  }
  return out;
}

}  // namespace strata::cli
