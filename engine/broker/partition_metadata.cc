#include "engine/broker/partition_metadata.h"

#include <charconv>

namespace strata::broker {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

Result<std::optional<controller::TopicId>> read_partition_metadata(Runtime& rt,
                                                                   const std::string& dir) {
  const std::string path = dir + "/" + std::string(log_format::kPartitionMetadataName);
  if (!rt.fs().exists(path)) return std::optional<controller::TopicId>();
  STRATA_ASSIGN_OR_RETURN(std::string text, read_file_text(rt.fs(), path));
  // Two lines, "version: 0" and "topic_id: <22 characters>", as Kafka writes them.
  std::optional<controller::TopicId> id;
  bool version = false;
  size_t line_no = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    size_t end = rest.find('\n');
    std::string_view line = trim(rest.substr(0, end));
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    ++line_no;
    if (line.empty()) continue;
    auto bad = [&](const std::string& what) {
      return Status::corruption(path + ":" + std::to_string(line_no) + ": " + what);
    };
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return bad("expected 'key: value'");
    std::string_view key = trim(line.substr(0, colon));
    std::string_view value = trim(line.substr(colon + 1));
    if (key == "version") {
      if (value != "0") return bad("unknown version '" + std::string(value) + "'");
      version = true;
    } else if (key == "topic_id") {
      id = controller::topic_id_from_base64url(value);
      if (!id) return bad("'" + std::string(value) + "' is not a topic id");
    } else {
      return bad("unknown key '" + std::string(key) + "'");
    }
  }
  if (!version || !id) return Status::corruption(path + ": needs version and topic_id");
  return id;
}

Status write_partition_metadata(Runtime& rt, const std::string& dir,
                                const controller::TopicId& id) {
  std::string text = "version: 0\ntopic_id: " + controller::to_base64url(id) + "\n";
  return replace_file(rt.fs(), dir, dir + "/" + std::string(log_format::kPartitionMetadataName),
                      as_bytes(text));
}

std::string earlier_topic(const std::string& topic, const controller::TopicId& found,
                          const controller::TopicId& now) {
  return "it belongs to an earlier topic '" + topic + "' (topic id " +
         controller::to_base64url(found) + ", now " + controller::to_base64url(now) + ")";
}

std::optional<PartitionDirName> parse_partition_dir_name(const std::string& name) {
  size_t dash = name.rfind('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 == name.size()) return std::nullopt;
  const char* first = name.data() + dash + 1;
  const char* last = name.data() + name.size();
  if (*first == '0' && last - first > 1) return std::nullopt;  // "t-01" is no partition's
  int32_t partition = 0;
  auto [end, ec] = std::from_chars(first, last, partition);
  if (ec != std::errc() || end != last || partition < 0) return std::nullopt;
  return PartitionDirName{name.substr(0, dash), partition};
}

}  // namespace strata::broker
