// Strong integer types, so that an offset cannot be passed where a node id is expected.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>

namespace strata {

template <class Tag, class Rep>
class StrongInt {
 public:
  using rep = Rep;
  constexpr StrongInt() = default;
  constexpr explicit StrongInt(Rep v) : v_(v) {}
  constexpr Rep value() const { return v_; }
  constexpr auto operator<=>(const StrongInt&) const = default;

 private:
  Rep v_{};
};

// Offsets and epochs are also counted, so they get arithmetic with plain integers.
template <class Tag, class Rep>
class CountedInt : public StrongInt<Tag, Rep> {
 public:
  using StrongInt<Tag, Rep>::StrongInt;
  constexpr CountedInt operator+(Rep d) const { return CountedInt(this->value() + d); }
  constexpr CountedInt operator-(Rep d) const { return CountedInt(this->value() - d); }
  constexpr Rep operator-(CountedInt o) const { return this->value() - o.value(); }
  constexpr CountedInt& operator+=(Rep d) { return *this = *this + d; }
  constexpr auto operator<=>(const CountedInt&) const = default;
};

using NodeId = StrongInt<struct NodeIdTag, int32_t>;
using PartitionId = StrongInt<struct PartitionIdTag, int32_t>;
using Offset = CountedInt<struct OffsetTag, int64_t>;
using LeaderEpoch = CountedInt<struct LeaderEpochTag, int32_t>;
using ConnId = StrongInt<struct ConnIdTag, uint64_t>;
using TimerId = StrongInt<struct TimerIdTag, uint64_t>;

inline constexpr NodeId kNoNode{-1};
inline constexpr LeaderEpoch kNoLeaderEpoch{-1};

}  // namespace strata

template <class Tag, class Rep>
struct std::hash<strata::StrongInt<Tag, Rep>> {
  size_t operator()(const strata::StrongInt<Tag, Rep>& v) const {
    return std::hash<Rep>()(v.value());
  }
};
template <class Tag, class Rep>
struct std::hash<strata::CountedInt<Tag, Rep>> {
  size_t operator()(const strata::CountedInt<Tag, Rep>& v) const {
    return std::hash<Rep>()(v.value());
  }
};
