#include "engine/broker/properties.h"

#include <cctype>

namespace strata::broker {
namespace {

std::string_view trim_left(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\f')) ++i;
  return s.substr(i);
}

std::string_view trim(std::string_view s) {
  s = trim_left(s);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// True if the line ends in an odd number of backslashes (a continuation).
bool continues(std::string_view line) {
  size_t n = 0;
  while (n < line.size() && line[line.size() - 1 - n] == '\\') ++n;
  return n % 2 == 1;
}

std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out.push_back(s[i]);
      continue;
    }
    char c = s[++i];
    switch (c) {
      case 't': out.push_back('\t'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      default: out.push_back(c); break;  // \= \: \# \\ and unknown escapes
    }
  }
  return out;
}

// Splits a logical line at the first unescaped '=', ':' or whitespace.
PropertyEntry split_entry(std::string_view logical, int line) {
  size_t i = 0;
  for (; i < logical.size(); ++i) {
    char c = logical[i];
    if (c == '\\') {
      ++i;
      continue;
    }
    if (c == '=' || c == ':' || c == ' ' || c == '\t') break;
  }
  PropertyEntry e;
  e.key = unescape(logical.substr(0, i));
  std::string_view rest = i < logical.size() ? logical.substr(i) : std::string_view();
  rest = trim_left(rest);
  if (!rest.empty() && (rest[0] == '=' || rest[0] == ':')) rest = trim_left(rest.substr(1));
  e.value = unescape(trim(rest));
  e.line = line;
  return e;
}

}  // namespace

Result<std::vector<PropertyEntry>> parse_properties(std::string_view text,
                                                    std::string_view source) {
  std::vector<PropertyEntry> out;
  std::string logical;
  int line_no = 0, start_line = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view raw = text.substr(pos, nl == std::string_view::npos ? text.npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    std::string_view line = logical.empty() ? trim_left(raw) : trim_left(raw);
    if (logical.empty()) {
      if (line.empty() || line[0] == '#' || line[0] == '!') continue;
      start_line = line_no;
    }
    if (continues(line)) {
      logical.append(line.substr(0, line.size() - 1));
      continue;
    }
    logical.append(line);
    PropertyEntry e = split_entry(logical, start_line);
    logical.clear();
    if (e.key.empty()) {
      return Status::invalid_argument(std::string(source) + ":" + std::to_string(start_line) +
                                      ": entry has no key");
    }
    out.push_back(std::move(e));
  }
  if (!logical.empty()) {
    out.push_back(split_entry(logical, start_line));  // continuation at end of file
  }
  return out;
}

Result<PropertyEntry> parse_override(std::string_view text) {
  size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return Status::invalid_argument("--override expects key=value, got '" + std::string(text) +
                                    "'");
  }
  PropertyEntry e;
  e.key = std::string(trim(text.substr(0, eq)));
  e.value = std::string(trim(text.substr(eq + 1)));
  return e;
}

}  // namespace strata::broker
