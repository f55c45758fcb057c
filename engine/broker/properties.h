// Java-properties file parsing (the format of Kafka's server.properties): `key=value`,
// `key: value` or `key value`; `#` and `!` comments; a trailing backslash continues a line.
// Every entry remembers its line so that errors can name file:line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"

namespace strata::broker {

struct PropertyEntry {
  std::string key;
  std::string value;
  int line = 0;  // 1-based line in the source; 0 for --override entries
};

// Parses the text of a properties file. `source` names the file in error messages.
Result<std::vector<PropertyEntry>> parse_properties(std::string_view text,
                                                    std::string_view source);

// Parses "key=value" from the command line (--override key=value).
Result<PropertyEntry> parse_override(std::string_view text);

}  // namespace strata::broker
