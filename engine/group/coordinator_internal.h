// Helpers shared by coordinator.cc and coordinator_offsets.cc (not part of the API).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "engine/group/group.h"
#include "engine/runtime/runtime.h"

namespace strata::group::internal {

inline constexpr std::string_view kComponent = "group";

// Cancels `id` if it is set, and clears it.
inline void cancel_timer(Runtime& rt, TimerId& id) {
  if (id.value() != 0) rt.cancel(id);
  id = TimerId{0};
}

// Kafka's isStaticMemberFenced: the instance id is known and belongs to another member id.
// An unknown instance id is not fenced: that member was removed (session expiry, leave) and
// must hear UNKNOWN_MEMBER_ID so that it rejoins; FENCED_INSTANCE_ID is fatal to a client.
inline bool fenced_instance(const Group& g, const std::string& member_id,
                            const std::optional<std::string>& instance) {
  if (!instance) return false;
  auto it = g.static_members.find(*instance);
  return it != g.static_members.end() && it->second != member_id;
}

}  // namespace strata::group::internal
