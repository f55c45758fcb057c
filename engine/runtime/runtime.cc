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
