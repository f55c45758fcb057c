#include "engine/runtime/runtime.h"

#include <algorithm>

namespace strata {

namespace {
class DetachedHandler final : public ConnectionHandler {
 public:
  void on_frame(ConnId, Bytes) override {}
  void on_closed(ConnId, const Status&) override {}
};
}  // namespace

ConnectionHandler& detached_connection_handler() {
  static DetachedHandler handler;
  return handler;
}

Result<std::string> read_file_text(FileSystem& fs, const std::string& path) {
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<File> file, fs.open(path, OpenMode::kReadOnly));
  // Reads until end of file rather than trusting size(): a device or pipe (/dev/stdin)
  // reports 0, and must then either be read or fail, never look like an empty file.
  std::string text;
  size_t chunk = std::max<size_t>(file->size(), 4096);
  for (;;) {
    size_t at = text.size();
    text.resize(at + chunk);
    auto span = std::span<uint8_t>(reinterpret_cast<uint8_t*>(text.data()) + at, chunk);
    STRATA_ASSIGN_OR_RETURN(size_t n, file->read_at(at, span));
    text.resize(at + n);
    if (n == 0) return text;
  }
}

Status replace_file(FileSystem& fs, const std::string& dir, const std::string& path,
                    ByteSpan data, Durability durability) {
  const std::string tmp = path + ".tmp";
  bool durable = durability == Durability::kDurable;
  {
    STRATA_ASSIGN_OR_RETURN(std::unique_ptr<File> file, fs.open(tmp, OpenMode::kCreateTruncate));
    STRATA_RETURN_IF_ERROR(file->append(data));
    if (durable) STRATA_RETURN_IF_ERROR(file->sync());
  }
  STRATA_RETURN_IF_ERROR(fs.rename(tmp, path));
  return durable ? fs.sync_dir(dir) : ok_status();
}

std::string_view log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "DEBUG";
    case LogLevel::kInfo: return "INFO";
    case LogLevel::kWarn: return "WARN";
    case LogLevel::kError: return "ERROR";
  }
  return "?";
}

}  // namespace strata
