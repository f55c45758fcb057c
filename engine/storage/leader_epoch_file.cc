#include "engine/storage/leader_epoch_file.h"

#include <algorithm>
#include <charconv>

namespace strata {
namespace {

Result<int64_t> parse_number(std::string_view text, const std::string& where) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 0) {
    return Status::corruption(where + ": expected a non-negative number, saw '" +
                              std::string(text) + "'");
  }
  return v;
}

}  // namespace

Result<std::vector<EpochEntry>> read_leader_epochs(FileSystem& fs, const std::string& dir) {
  std::string path = dir + "/" + std::string(kLeaderEpochFileName);
  std::vector<EpochEntry> out;
  if (!fs.exists(path)) return out;
  STRATA_ASSIGN_OR_RETURN(std::string text, read_file_text(fs, path));
  std::vector<std::string_view> lines;
  std::string_view rest = text;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    lines.push_back(rest.substr(0, nl));
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  }
  auto where = [&](size_t line) { return path + ":" + std::to_string(line + 1); };
  if (lines.size() < 2) return Status::corruption(path + ": truncated header");
  STRATA_ASSIGN_OR_RETURN(int64_t version, parse_number(lines[0], where(0)));
  if (version != 0) {
    return Status::corruption(where(0) + ": unknown version " + std::string(lines[0]));
  }
  STRATA_ASSIGN_OR_RETURN(int64_t count, parse_number(lines[1], where(1)));
  if (static_cast<size_t>(count) != lines.size() - 2) {
    return Status::corruption(where(1) + ": says " + std::to_string(count) + " entries, file has " +
                              std::to_string(lines.size() - 2));
  }
  for (size_t i = 2; i < lines.size(); ++i) {
    size_t space = lines[i].find(' ');
    if (space == std::string_view::npos) {
      return Status::corruption(where(i) + ": expected '<epoch> <start offset>'");
    }
    STRATA_ASSIGN_OR_RETURN(int64_t epoch, parse_number(lines[i].substr(0, space), where(i)));
    STRATA_ASSIGN_OR_RETURN(int64_t start, parse_number(lines[i].substr(space + 1), where(i)));
    if (epoch > INT32_MAX) return Status::corruption(where(i) + ": epoch out of range");
    EpochEntry e{LeaderEpoch(static_cast<int32_t>(epoch)), Offset(start)};
    if (!out.empty() && (e.epoch <= out.back().epoch || e.start_offset < out.back().start_offset)) {
      return Status::corruption(where(i) + ": epochs and offsets must increase");
    }
    out.push_back(e);
  }
  return out;
}

Status write_leader_epochs(FileSystem& fs, const std::string& dir,
                           const std::vector<EpochEntry>& entries) {
  std::string text = "0\n" + std::to_string(entries.size()) + "\n";
  for (const EpochEntry& e : entries) {
    text += std::to_string(e.epoch.value()) + " " + std::to_string(e.start_offset.value()) + "\n";
  }
  return replace_file(fs, dir, dir + "/" + std::string(kLeaderEpochFileName), as_bytes(text));
}

Status record_leader_epoch(FileSystem& fs, const std::string& dir, LeaderEpoch epoch,
                           Offset log_end) {
  STRATA_ASSERT(epoch.value() >= 0, "leader epochs are not negative");
  STRATA_ASSIGN_OR_RETURN(std::vector<EpochEntry> entries, read_leader_epochs(fs, dir));
  if (!entries.empty() && entries.back().epoch == epoch && entries.back().start_offset <= log_end) {
    return ok_status();
  }
  std::erase_if(entries, [&](const EpochEntry& e) {
    return e.epoch >= epoch || e.start_offset > log_end;
  });
  entries.push_back({epoch, log_end});
  if (entries.size() > kLeaderEpochEntriesMax) {
    entries.erase(entries.begin(), entries.end() - kLeaderEpochEntriesMax);
  }
  return write_leader_epochs(fs, dir, entries);
}

}  // namespace strata
