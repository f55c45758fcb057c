// The controller's broker lifecycle: registration, heartbeats, sessions, fencing, and the
// leader elections that follow a broker leaving or coming back. Topic operations are in
// controller_topics.cc.
#include "engine/controller/controller.h"

#include <algorithm>

#include "engine/base/limits.h"

namespace strata::controller {

Status Controller::replay(const MetadataRecord& record, Offset offset) {
  return image_.replay(record, offset);
}

std::vector<NodeId> Controller::active_brokers() const {
  std::vector<NodeId> out;
  for (const auto& [id, b] : image_.brokers()) {
    if (!b.fenced) out.push_back(id);
  }
  return out;
}

bool Controller::unclean_allowed(const TopicImage& topic) const {
  auto it = topic.configs.find("unclean.leader.election.enable");
  if (it == topic.configs.end()) return config_.unclean_leader_election_enable;
  return it->second == "true";
}

ErrorCode Controller::check_broker(NodeId id, int64_t epoch) const {
  const BrokerRegistration* b = image_.broker(id);
  if (b == nullptr) return ErrorCode::kBrokerIdNotRegistered;
  if (b->epoch != epoch) return ErrorCode::kStaleBrokerEpoch;
  return ErrorCode::kNone;
}

std::vector<PartitionChangeRecord> Controller::changes_without(NodeId broker) const {
  std::vector<PartitionChangeRecord> out;
  for (const auto& [topic_id, t] : image_.topics()) {
    for (size_t i = 0; i < t.partitions.size(); ++i) {
      const PartitionRegistration& p = t.partitions[i];
      if (!p.in_isr(broker)) continue;  // a leader is always in its ISR
      PartitionChangeRecord change{topic_id, int32_t(i), {}, {}, {}};
      std::vector<NodeId> isr;
      std::copy_if(p.isr.begin(), p.isr.end(), std::back_inserter(isr),
                   [&](NodeId n) { return n != broker; });
      // The last ISR member stays in it: it holds every committed record, so it is the one
      // replica that can lead again without losing any.
      if (!isr.empty()) change.isr = isr;
      if (p.leader == broker) {
        NodeId next = kNoNode;
        for (NodeId r : p.replicas) {
          if (r != broker && image_.is_active(r) && std::count(isr.begin(), isr.end(), r) > 0) {
            next = r;
            break;
          }
        }
        if (next == kNoNode && unclean_allowed(t)) {
          for (NodeId r : p.replicas) {
            if (r != broker && image_.is_active(r)) {
              next = r;
              change.isr = std::vector<NodeId>{r};
              break;
            }
          }
        }
        change.leader = next;
      }
      if (change.isr || change.leader) out.push_back(std::move(change));
    }
  }
  return out;
}

std::vector<PartitionChangeRecord> Controller::changes_with(NodeId broker) const {
  std::vector<PartitionChangeRecord> out;
  for (const auto& [topic_id, t] : image_.topics()) {
    for (size_t i = 0; i < t.partitions.size(); ++i) {
      const PartitionRegistration& p = t.partitions[i];
      if (p.has_leader() || !p.is_replica(broker)) continue;
      if (p.in_isr(broker)) {
        out.push_back({topic_id, int32_t(i), broker, {}, {}});
      } else if (unclean_allowed(t)) {
        // Unclean: a replica outside the ISR leads, and whatever only the ISR had is lost.
        out.push_back({topic_id, int32_t(i), broker, std::vector<NodeId>{broker}, {}});
      }
    }
  }
  return out;
}

template <class Reply>
void Controller::fence(ControllerResult<Reply>& result, const BrokerRegistration& broker) {
  const NodeId id = broker.id;
  const int64_t epoch = broker.epoch;
  // Leadership moves first: a fenced broker may lead nothing.
  for (PartitionChangeRecord& c : changes_without(id)) emit(result, std::move(c));
  emit(result, FenceBrokerRecord{id, epoch});
}

ControllerResult<BrokerRegistrationReply> Controller::on_broker_registration(
    const BrokerRegistrationRequest& request, int64_t now_ms) {
  ControllerResult<BrokerRegistrationReply> result;
  const NodeId id = request.broker_id;
  if (id.value() < 0 || request.endpoints.size() > size_t(limits::kListenersPerBrokerMax)) {
    result.reply.error = ErrorCode::kInvalidRequest;
    return result;
  }
  const BrokerRegistration* existing = image_.broker(id);
  if (existing == nullptr && image_.brokers().size() >= size_t(limits::kBrokersMax)) {
    result.reply.error = ErrorCode::kInvalidRequest;
    return result;
  }
  if (existing != nullptr && existing->incarnation == request.incarnation) {
    // A retry of a registration that succeeded: same epoch, no new record.
    session_deadline_ms_[id] = now_ms + config_.broker_session_timeout_ms;
    result.reply.broker_epoch = existing->epoch;
    return result;
  }
  if (existing != nullptr) {
    auto deadline = session_deadline_ms_.find(id);
    if (deadline != session_deadline_ms_.end() && deadline->second > now_ms) {
      // Another process with this node.id is alive: two brokers must not share an id.
      result.reply.error = ErrorCode::kDuplicateBrokerRegistration;
      return result;
    }
    if (!existing->fenced) fence(result, *existing);
  }
  const int64_t epoch = image_.next_offset().value();  // Kafka's too: the record's offset
  emit(result,
       RegisterBrokerRecord{id, request.incarnation, epoch, request.endpoints, request.rack});
  session_deadline_ms_[id] = now_ms + config_.broker_session_timeout_ms;
  result.reply.broker_epoch = epoch;
  check_invariants();
  return result;
}

ControllerResult<BrokerHeartbeatReply> Controller::on_broker_heartbeat(
    const BrokerHeartbeatRequest& request, int64_t now_ms) {
  ControllerResult<BrokerHeartbeatReply> result;
  const NodeId id = request.broker_id;
  result.reply.error = check_broker(id, request.broker_epoch);
  if (result.reply.error != ErrorCode::kNone) return result;
  session_deadline_ms_[id] = now_ms + config_.broker_session_timeout_ms;
  const BrokerRegistration broker = *image_.broker(id);
  // Caught up: the broker has replayed its own registration.
  result.reply.is_caught_up = request.metadata_offset > broker.registered_at;
  if (request.want_shutdown) {
    // Controlled shutdown: hand leadership over first, so that clients move before the
    // process stops; then the broker is fenced and told it may go. Its session ends with
    // it, so that a restart may register at once.
    if (!broker.fenced) fence(result, broker);
    session_deadline_ms_.erase(id);
    result.reply.should_shut_down = true;
  } else if (broker.fenced && !request.want_fence && result.reply.is_caught_up) {
    emit(result, UnfenceBrokerRecord{id, broker.epoch});
    for (PartitionChangeRecord& c : changes_with(id)) emit(result, std::move(c));
  } else if (!broker.fenced && request.want_fence) {
    fence(result, broker);
  }
  result.reply.is_fenced = image_.broker(id)->fenced;
  check_invariants();
  return result;
}

ControllerResult<int> Controller::on_tick(int64_t now_ms) {
  ControllerResult<int> result;
  result.reply = 0;
  std::vector<BrokerRegistration> expired;
  for (const auto& [id, b] : image_.brokers()) {
    if (b.fenced) continue;  // no session to keep: it may register again at any time
    auto [it, fresh] =
        session_deadline_ms_.try_emplace(id, now_ms + config_.broker_session_timeout_ms);
    if (!fresh && it->second <= now_ms) expired.push_back(b);
  }
  for (const BrokerRegistration& b : expired) {
    fence(result, b);
    ++result.reply;
  }
  check_invariants();
  return result;
}

void Controller::check_invariants() const {
  image_.check_invariants();
  for (const auto& [id, deadline] : session_deadline_ms_) {
    STRATA_ASSERT(image_.broker(id) != nullptr, "sessions belong to registered brokers");
  }
}

}  // namespace strata::controller
