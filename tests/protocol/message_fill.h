// Test helper: fills every field of a generated message with a distinct non-default value,
// through the generated for_each_field(), so that round-trip tests cover every field of
// every message without listing them by hand.
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/protocol/messages.h"

namespace strata::proto::testing {

// Two elements per array: enough to catch a count or element-boundary bug.
inline constexpr size_t kFillArrayElements = 2;

class Filler {
 public:
  // With keep_nulls, fields whose schema default is null stay null (exercising the null
  // encodings); otherwise every optional gets a value.
  explicit Filler(bool keep_nulls = false) : keep_nulls_(keep_nulls) {}

  template <class T>
  void operator()(std::string_view, T& field) {
    fill(field);
  }

 private:
  static ByteSpan records() {
    static const uint8_t kRecords[] = {0xde, 0xad, 0xbe, 0xef, 0x01};
    return ByteSpan(kRecords, sizeof(kRecords));
  }

  void fill(bool& v) { v = true; }
  void fill(double& v) { v = 0.5 + next_; ++next_; }
  template <std::integral T>
  void fill(T& v) {
    v = static_cast<T>(next_++ * 3 + 1);
  }
  void fill(std::string& v) { v = "s" + std::to_string(next_++); }
  void fill(Bytes& v) { v = {1, 2, static_cast<uint8_t>(next_++)}; }
  void fill(Uuid& v) {
    for (auto& b : v) b = static_cast<uint8_t>(next_++);
  }
  void fill(std::optional<ByteSpan>& v) {
    if (!keep_nulls_) v = records();
  }
  template <class T>
  void fill(std::optional<T>& v) {
    if (!v.has_value() && keep_nulls_) return;
    fill(v.has_value() ? *v : v.emplace());
  }
  template <class T>
  void fill(std::vector<T>& v) {
    v.resize(kFillArrayElements);
    for (auto& e : v) fill(e);
  }
  template <class S>
    requires requires(S& s, Filler& f) { s.for_each_field(f); }
  void fill(S& s) {
    s.for_each_field(*this);
  }

  bool keep_nulls_;
  int next_ = 1;
};

template <class Msg>
Msg filled(bool keep_nulls = false) {
  Msg m;
  Filler f(keep_nulls);
  m.for_each_field(f);
  return m;
}

template <class Msg>
Bytes encode(const Msg& m, int16_t version) {
  Bytes out;
  ByteWriter w(out);
  m.encode(w, version);
  return out;
}

}  // namespace strata::proto::testing
