// Turning Kafka error codes from responses into Status values the client's callers see. The
// message starts with Kafka's error name ("NOT_LEADER_OR_FOLLOWER: ...") so tools can print
// it as Kafka's own tools do; the StatusCode says whether retrying may help.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/base/status.h"
#include "engine/protocol/errors.h"

namespace strata::client {

inline Status kafka_error(int16_t code, std::string_view context) {
  using proto::ErrorCode;
  std::string msg = std::string(proto::error_name(code));
  if (!context.empty()) msg += ": " + std::string(context);
  StatusCode sc = StatusCode::kInvalidArgument;
  switch (ErrorCode{code}) {
    case ErrorCode::kTopicAlreadyExists: sc = StatusCode::kAlreadyExists; break;
    case ErrorCode::kRequestTimedOut: sc = StatusCode::kTimedOut; break;
    case ErrorCode::kOffsetOutOfRange: sc = StatusCode::kOutOfRange; break;
    case ErrorCode::kUnsupportedVersion: sc = StatusCode::kUnsupported; break;
    case ErrorCode::kCorruptMessage: sc = StatusCode::kCorruption; break;
    default:
      if (proto::is_retriable(ErrorCode{code})) sc = StatusCode::kUnavailable;
      break;
  }
  return Status(sc, std::move(msg));
}

// The message alone, for printing: "TOPIC_ALREADY_EXISTS: Topic 'demo' already exists."
inline std::string kafka_error_text(int16_t code, std::string_view context) {
  return kafka_error(code, context).message();
}

}  // namespace strata::client
