// Status and Result<T>: every fallible operation in engine/ returns one of these. Exceptions
// never cross module boundaries.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "engine/base/assert.h"

namespace strata {

enum class StatusCode : int {
  kOk = 0,
  kNotFound,
  kAlreadyExists,
  kInvalidArgument,
  kCorruption,    // bytes on disk or on the wire fail validation
  kIoError,       // the operating system (or simulated disk) refused
  kOutOfRange,
  kResourceExhausted,  // a named limit was hit
  kUnavailable,
  kClosed,
  kTimedOut,
  kUnsupported,
};

std::string_view status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {
    STRATA_ASSERT(code != StatusCode::kOk, "error status needs an error code");
  }

  static Status not_found(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status already_exists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status invalid_argument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status io_error(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
  static Status out_of_range(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
  static Status resource_exhausted(std::string m) {
    return {StatusCode::kResourceExhausted, std::move(m)};
  }
  static Status unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status closed(std::string m) { return {StatusCode::kClosed, std::move(m)}; }
  static Status timed_out(std::string m) { return {StatusCode::kTimedOut, std::move(m)}; }
  static Status unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string to_string() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// The ok Status. A free function, not a static member: `s.ok()` on an instance would call a
// static factory and read as always true, so Status has no member named `ok`.
inline Status ok_status() { return Status(); }

// Result<T> holds a value or an error Status (never an ok Status).
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    STRATA_ASSERT(!std::get<Status>(v_).is_ok(), "Result from an ok Status has no value");
  }

  bool is_ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return is_ok(); }

  T& value() & {
    STRATA_ASSERT(is_ok(), "value() on an error Result");
    return std::get<T>(v_);
  }
  const T& value() const& {
    STRATA_ASSERT(is_ok(), "value() on an error Result");
    return std::get<T>(v_);
  }
  T&& value() && {
    STRATA_ASSERT(is_ok(), "value() on an error Result");
    return std::get<T>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Status& status() const {
    static const Status kOk;
    return is_ok() ? kOk : std::get<Status>(v_);
  }

 private:
  std::variant<T, Status> v_;
};

}  // namespace strata

// Propagate an error Status from an expression returning Status.
#define STRATA_RETURN_IF_ERROR(expr)          \
  do {                                        \
    ::strata::Status strata_st_ = (expr);     \
    if (!strata_st_.is_ok()) return strata_st_; \
  } while (0)

#define STRATA_CONCAT_INNER(a, b) a##b
#define STRATA_CONCAT(a, b) STRATA_CONCAT_INNER(a, b)
// Assign the value of a Result expression to `lhs`, or return its error Status.
#define STRATA_ASSIGN_OR_RETURN(lhs, expr)                          \
  auto STRATA_CONCAT(strata_res_, __LINE__) = (expr);               \
  if (!STRATA_CONCAT(strata_res_, __LINE__).is_ok())                \
    return STRATA_CONCAT(strata_res_, __LINE__).status();           \
  lhs = std::move(STRATA_CONCAT(strata_res_, __LINE__)).value()
