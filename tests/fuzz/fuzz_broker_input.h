// The input format of the fuzz_broker target (fuzz_broker.cc), shared with the program that
// writes its seed corpus (fuzz_broker_seeds.cc).
//
// An input is a script of steps separated by the four bytes kStepSeparator:
//
//   input = step (separator step)*
//   step  = control byte, then one request frame (header + body, without the size prefix)
//
// Separators rather than length prefixes because libFuzzer inserts and erases bytes: inside
// one frame that changes only that frame, while with a length prefix every later frame would
// be cut at the wrong place. A frame that happens to contain the separator is split in two;
// the seed writer never emits one.
//
// The control byte:
//   bits 0-1  the client connection that sends the frame (value % kConnections)
//   bits 2-4  virtual time to let pass before the step (kAdvance[value])
//   bit 5     recompute the CRC of every record batch of a Produce frame before sending it,
//             so that mutated batch headers get past the checksum
//   bit 6     close that connection and open a new one first
//   bit 7     pipeline: go on to the next step at once instead of waiting for the answer
// A step with an empty frame only lets time pass or reconnects.
//
// Member ids are made up by the broker ("<client id or instance id>-<uuid>"), so a script
// cannot write them. Instead, kMemberUuidPlaceholder followed by a digit d, anywhere in a
// frame, is replaced before sending by the uuid part of the d-th newest member id the broker
// has handed out in a JoinGroup response (0 = the newest, in order of first appearance); it
// is left as it is when there is no such id. Both are 36 bytes, so the frame keeps its shape.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/base/bytes.h"

namespace strata::fuzz_broker {

inline constexpr std::array<uint8_t, 4> kStepSeparator = {0xF1, 0x5E, 0xB7, 0xA3};

inline constexpr int kConnections = 3;
inline constexpr uint8_t kConnectionMask = 0x03;
inline constexpr int kAdvanceShift = 2;
inline constexpr uint8_t kAdvanceMask = 0x07;
inline constexpr uint8_t kFixCrcs = 0x20;
inline constexpr uint8_t kReconnect = 0x40;
inline constexpr uint8_t kPipeline = 0x80;

inline constexpr std::string_view kMemberUuidPlaceholder = "~~~~~~~~-~~~~-~~~~-~~~~-~~~~~~~~~~~";
inline constexpr size_t kMemberUuidBytes = 36;  // 8-4-4-4-12 hex digits
static_assert(kMemberUuidPlaceholder.size() + 1 == kMemberUuidBytes);

// The placeholder for the d-th newest member id's uuid.
inline std::string member_uuid(int d) {
  return std::string(kMemberUuidPlaceholder) + char('0' + d % 10);
}

using std::chrono::milliseconds;
inline constexpr std::array<milliseconds, 8> kAdvance = {
    milliseconds(0),    milliseconds(1),    milliseconds(20),    milliseconds(200),
    milliseconds(1000), milliseconds(5000), milliseconds(30000), milliseconds(300000)};

// The control byte for connection `conn`, advance index `advance` and flag bits `flags`.
constexpr uint8_t control(int conn, int advance = 0, uint8_t flags = 0) {
  return uint8_t((conn & kConnectionMask) | ((advance & kAdvanceMask) << kAdvanceShift) | flags);
}

// Appends one step to `input`.
inline void append_step(Bytes& input, uint8_t control_byte, ByteSpan frame) {
  if (!input.empty()) input.insert(input.end(), kStepSeparator.begin(), kStepSeparator.end());
  input.push_back(control_byte);
  input.insert(input.end(), frame.begin(), frame.end());
}

// Calls fn(control, frame) for every step of `input`, in order.
template <class Fn>
void for_each_step(ByteSpan input, Fn&& fn) {
  size_t start = 0;
  while (start < input.size()) {
    size_t end = start;
    while (end < input.size() &&
           !(input.size() - end >= kStepSeparator.size() && input[end] == kStepSeparator[0] &&
             input[end + 1] == kStepSeparator[1] && input[end + 2] == kStepSeparator[2] &&
             input[end + 3] == kStepSeparator[3])) {
      ++end;
    }
    if (end > start) fn(input[start], input.subspan(start + 1, end - start - 1));
    start = end + kStepSeparator.size();
  }
}

}  // namespace strata::fuzz_broker
