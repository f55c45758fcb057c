#include "engine/runtime/runtime.h"

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
  std::string text(file->size(), '\0');
  auto span = std::span<uint8_t>(reinterpret_cast<uint8_t*>(text.data()), text.size());
  STRATA_ASSIGN_OR_RETURN(size_t n, file->read_at(0, span));
  text.resize(n);
  return text;
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
