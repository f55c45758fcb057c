// GroupConsumer: finding the coordinator, JoinGroup, SyncGroup (and the leader's assignment),
// heartbeats and LeaveGroup. Assignment changes, commits and close are in group_consumer.cc.
#include <algorithm>

#include "engine/client/client_errors.h"
#include "engine/client/consumer_protocol.h"
#include "engine/client/group_consumer.h"

namespace strata::client {
namespace {

using proto::ErrorCode;

constexpr int8_t kCoordinatorKeyGroup = 0;
// JoinGroup waits up to the rebalance timeout at the coordinator; Kafka's client allows this
// much on top before giving up on the request.
constexpr int64_t kJoinTimeoutSlackMs = 5000;

bool is(int16_t code, ErrorCode e) {
  return code == proto::to_int(e);
}

}  // namespace

uint64_t GroupConsumer::new_epoch() {
  join_in_flight_ = false;
  heartbeat_in_flight_ = false;
  return ++join_epoch_;
}

void GroupConsumer::retry_after(int64_t ms) {
  rt_.cancel(retry_timer_);
  retry_timer_ = rt_.schedule(milliseconds(ms), [this] {
    retry_timer_ = TimerId(0);
    step();
  });
}

// The one place that decides what to send next; safe to call at any time.
void GroupConsumer::step() {
  check_invariants();
  if (state_ != MemberState::kJoining && state_ != MemberState::kSyncing &&
      state_ != MemberState::kStable) {
    return;
  }
  if (coordinator_ == kNoNode) return find_coordinator();
  if (!network().metadata().endpoint(coordinator_)) {
    network().request_metadata_update();  // the metadata listener calls step() again
    return;
  }
  switch (state_) {
    case MemberState::kJoining:
      if (!preparing_ && !join_in_flight_) send_join();
      break;
    case MemberState::kSyncing:
      if (leader_members_) leader_assign();
      break;
    case MemberState::kStable:
      if (rejoin_needed_) return begin_rejoin("a rejoin was requested");
      if (!awaiting_offsets_.empty() && !offset_fetch_in_flight_) fetch_committed();
      if (heartbeat_timer_.value() == 0 && !heartbeat_in_flight_) schedule_heartbeat();
      break;
    default:
      break;
  }
}

void GroupConsumer::find_coordinator() {
  if (finding_coordinator_) return;
  finding_coordinator_ = true;
  ++stats_.coordinator_lookups;
  proto::FindCoordinatorRequest req;
  req.key = config_.group_id;
  req.key_type = kCoordinatorKeyGroup;
  network().send_any(std::move(req), [this](Result<proto::FindCoordinatorResponse> r) {
    on_find_coordinator(std::move(r));
  });
}

void GroupConsumer::on_find_coordinator(Result<proto::FindCoordinatorResponse> r) {
  finding_coordinator_ = false;
  int64_t backoff = config_.consumer.retry_backoff_ms;
  if (!r) {
    rt_.debug("group", "FindCoordinator failed: " + r.status().message());
    return retry_after(backoff);
  }
  if (r->error_code != 0) {
    Status s = kafka_error(r->error_code, "finding the coordinator of group " + config_.group_id);
    if (!proto::is_retriable(ErrorCode{r->error_code})) return fail(s);
    rt_.debug("group", s.message());
    return retry_after(backoff);
  }
  if (r->node_id < 0) return retry_after(backoff);
  coordinator_ = NodeId(r->node_id);
  rt_.debug("group",
            "group " + config_.group_id + " coordinator is node " + std::to_string(r->node_id));
  step();
}

void GroupConsumer::coordinator_dead(const std::string& why) {
  if (coordinator_ != kNoNode) {
    rt_.info("group", "coordinator of group " + config_.group_id + " lost: " + why);
  }
  coordinator_ = kNoNode;
  if (state_ == MemberState::kSyncing) {
    // The generation may still complete without us; rejoining with our member id is safe.
    state_ = MemberState::kJoining;
    leader_members_.reset();
  }
  new_epoch();
  ++assign_epoch_;
  offset_fetch_in_flight_ = false;
  retry_after(config_.consumer.retry_backoff_ms);
}

// Coordinator moved or unavailable: handled (true) by looking it up again.
bool GroupConsumer::handle_coordinator_error(int16_t code, const std::string& api) {
  if (!is(code, ErrorCode::kNotCoordinator) && !is(code, ErrorCode::kCoordinatorNotAvailable)) {
    return false;
  }
  coordinator_dead(api + ": " + std::string(proto::error_name(code)));
  return true;
}

void GroupConsumer::begin_rejoin(const std::string& why) {
  if (state_ != MemberState::kStable && state_ != MemberState::kLeft) return;
  rt_.info("group", "member " + member_id_ + " of " + config_.group_id + " rejoins: " + why);
  rejoin_needed_ = false;
  rebalance_noticed_ = false;
  rt_.cancel(heartbeat_timer_);
  heartbeat_timer_ = TimerId(0);
  rt_.cancel(commit_timer_);
  commit_timer_ = TimerId(0);
  state_ = MemberState::kJoining;
  new_epoch();
  if (protocol_ == RebalanceProtocol::kCooperative || owned_.empty()) return step();
  // Eager: commit what was consumed, revoke everything, then join.
  auto finish = [this] {
    if (!preparing_ || state_ != MemberState::kJoining) return;
    preparing_ = false;
    revoke(owned_);
    step();
  };
  preparing_ = true;
  if (!config_.enable_auto_commit || generation_ < 0) return finish();
  commit(consumer_.delivered_positions(), [this, finish](const Status& s) {
    if (!s) report(s);
    finish();
  });
}

void GroupConsumer::send_join() {
  STRATA_ASSERT(state_ == MemberState::kJoining && !join_in_flight_);
  proto::JoinGroupRequest req;
  req.group_id = config_.group_id;
  req.session_timeout_ms = config_.session_timeout_ms;
  req.rebalance_timeout_ms = config_.max_poll_interval_ms;
  req.member_id = member_id_;
  req.group_instance_id = config_.group_instance_id;
  req.protocol_type = kConsumerProtocolType;
  Subscription sub;
  sub.topics = topics_;
  // Eager members revoked everything before joining; cooperative ones report what they hold.
  if (protocol_ == RebalanceProtocol::kCooperative) sub.owned_partitions = owned_;
  Bytes metadata = encode_subscription(sub);
  for (const auto* a : assignors_) req.protocols.push_back({std::string(a->name), metadata});
  uint64_t epoch = new_epoch();
  join_in_flight_ = true;
  SendOptions o;
  o.timeout = milliseconds(std::max<int64_t>(config_.consumer.request_timeout_ms,
                                             config_.max_poll_interval_ms + kJoinTimeoutSlackMs));
  network().send(
      coordinator_, std::move(req),
      [this, epoch](Result<proto::JoinGroupResponse> r) { on_join(epoch, std::move(r)); }, o);
}

void GroupConsumer::on_join(uint64_t epoch, Result<proto::JoinGroupResponse> r) {
  if (epoch != join_epoch_ || state_ != MemberState::kJoining) return;
  join_in_flight_ = false;
  if (!r) return coordinator_dead("JoinGroup: " + r.status().message());
  int16_t code = r->error_code;
  if (code == 0) {
    ++stats_.joins;
    generation_ = r->generation_id;
    member_id_ = r->member_id;
    protocol_name_ = r->protocol_name;
    leader_id_ = r->leader;
    state_ = MemberState::kSyncing;
    if (!is_leader()) return send_sync({});
    std::vector<AssignorMember> members;
    for (const auto& m : r->members) {
      if (members.size() >= limits::kGroupMembersMax) break;
      AssignorMember am{m.member_id, m.group_instance_id, {}, {}};
      auto sub = decode_subscription(m.metadata);
      if (sub) {
        am.topics = std::move(sub->topics);
        am.owned = std::move(sub->owned_partitions);
      } else {
        rt_.warn("group", "member " + m.member_id + ": " + sub.status().message());
      }
      for (const auto& t : am.topics) network().add_topic(t);
      members.push_back(std::move(am));
    }
    leader_members_ = std::move(members);
    network().request_metadata_update();  // fresh partition counts for the assignment
    return;
  }
  if (is(code, ErrorCode::kMemberIdRequired)) {
    member_id_ = r->member_id;  // KIP-394: join again with the id the coordinator gave us
    return step();
  }
  if (handle_coordinator_error(code, "JoinGroup")) return;
  if (is(code, ErrorCode::kUnknownMemberId) || is(code, ErrorCode::kIllegalGeneration)) {
    // The group went on without us: what a cooperative member still holds may belong to
    // someone else by now, so it is lost, and the next assignment fetches committed offsets.
    lose_partitions();
    reset_generation(is(code, ErrorCode::kUnknownMemberId));
    return step();
  }
  if (is(code, ErrorCode::kCoordinatorLoadInProgress) ||
      is(code, ErrorCode::kRebalanceInProgress)) {
    return retry_after(config_.consumer.retry_backoff_ms);
  }
  fail(kafka_error(code, "joining group " + config_.group_id));
}

// The leader's part: wait until metadata knows every subscribed topic, then assign.
void GroupConsumer::leader_assign() {
  STRATA_ASSERT(leader_members_.has_value() && state_ == MemberState::kSyncing);
  const MetadataCache& md = network().metadata();
  PartitionCounts counts;
  for (const auto& m : *leader_members_) {
    for (const auto& t : m.topics) {
      const TopicMetadata* tm = md.topic(t);
      if (tm == nullptr) return network().request_metadata_update();
      if (tm->error_code != 0 && proto::is_retriable(ErrorCode{tm->error_code}) &&
          !is(tm->error_code, ErrorCode::kUnknownTopicOrPartition)) {
        return network().request_metadata_update();  // e.g. a topic being created
      }
      if (auto n = md.partition_count(t)) counts[t] = *n;
    }
  }
  const Assignor* assignor = find_assignor(protocol_name_);
  if (assignor == nullptr) {
    return fail(Status::invalid_argument("the coordinator chose assignor '" + protocol_name_ +
                                         "', which this member does not have"));
  }
  GroupAssignment ga = assignor->assign(counts, *leader_members_);
  leader_members_.reset();
  std::vector<proto::SyncGroupRequest::Assignment> out;
  for (auto& [member, tps] : ga) {
    MemberAssignment a;
    a.partitions = std::move(tps);
    out.push_back({member, encode_assignment(a)});
  }
  send_sync(std::move(out));
}

void GroupConsumer::send_sync(std::vector<proto::SyncGroupRequest::Assignment> assignments) {
  proto::SyncGroupRequest req;
  req.group_id = config_.group_id;
  req.generation_id = generation_;
  req.member_id = member_id_;
  req.group_instance_id = config_.group_instance_id;
  req.assignments = std::move(assignments);
  uint64_t epoch = join_epoch_;
  network().send(coordinator_, std::move(req), [this, epoch](Result<proto::SyncGroupResponse> r) {
    on_sync(epoch, std::move(r));
  });
}

void GroupConsumer::on_sync(uint64_t epoch, Result<proto::SyncGroupResponse> r) {
  if (epoch != join_epoch_ || state_ != MemberState::kSyncing) return;
  if (!r) return coordinator_dead("SyncGroup: " + r.status().message());
  int16_t code = r->error_code;
  if (code == 0) {
    auto a = decode_assignment(r->assignment);
    if (!a) {
      report(a.status());
      state_ = MemberState::kJoining;
      return retry_after(config_.consumer.retry_backoff_ms);
    }
    ++stats_.rebalances;
    return apply_assignment(std::move(a->partitions));
  }
  if (handle_coordinator_error(code, "SyncGroup")) return;
  state_ = MemberState::kJoining;
  if (is(code, ErrorCode::kRebalanceInProgress)) return step();
  if (is(code, ErrorCode::kUnknownMemberId) || is(code, ErrorCode::kIllegalGeneration)) {
    lose_partitions();  // as in on_join
    reset_generation(is(code, ErrorCode::kUnknownMemberId));
    return step();
  }
  fail(kafka_error(code, "syncing group " + config_.group_id));
}

void GroupConsumer::schedule_heartbeat() {
  rt_.cancel(heartbeat_timer_);
  heartbeat_timer_ = rt_.schedule(milliseconds(config_.heartbeat_interval_ms), [this] {
    heartbeat_timer_ = TimerId(0);
    send_heartbeat();
  });
}

void GroupConsumer::send_heartbeat() {
  if (state_ != MemberState::kStable || heartbeat_in_flight_) return;
  if (coordinator_ == kNoNode) return step();
  proto::HeartbeatRequest req;
  req.group_id = config_.group_id;
  req.generation_id = generation_;
  req.member_id = member_id_;
  req.group_instance_id = config_.group_instance_id;
  heartbeat_in_flight_ = true;
  ++stats_.heartbeats;
  uint64_t epoch = join_epoch_;
  network().send(coordinator_, std::move(req), [this, epoch](Result<proto::HeartbeatResponse> r) {
    on_heartbeat(epoch, std::move(r));
  });
}

void GroupConsumer::on_heartbeat(uint64_t epoch, Result<proto::HeartbeatResponse> r) {
  if (epoch != join_epoch_ || state_ != MemberState::kStable) return;
  heartbeat_in_flight_ = false;
  if (!r) return coordinator_dead("Heartbeat: " + r.status().message());
  int16_t code = r->error_code;
  if (code == 0) return schedule_heartbeat();
  if (handle_coordinator_error(code, "Heartbeat")) return;
  if (is(code, ErrorCode::kRebalanceInProgress)) {
    // As Kafka's consumer: the heartbeat only notices the rebalance; the member rejoins (an
    // eager one revoking everything first) from the application's next poll(), which is why
    // the rebalance timeout is max.poll.interval.ms. Heartbeats go on meanwhile.
    rebalance_noticed_ = true;
    return schedule_heartbeat();
  }
  if (is(code, ErrorCode::kUnknownMemberId) || is(code, ErrorCode::kIllegalGeneration)) {
    rt_.info("group", "heartbeat: " + std::string(proto::error_name(code)));
    lose_partitions();
    reset_generation(is(code, ErrorCode::kUnknownMemberId));
    state_ = MemberState::kJoining;
    return step();
  }
  if (proto::is_retriable(ErrorCode{code})) return schedule_heartbeat();
  fail(kafka_error(code, "heartbeat of group " + config_.group_id));
}

void GroupConsumer::send_leave(std::function<void()> done) {
  if (member_id_.empty() || config_.group_instance_id || coordinator_ == kNoNode) return done();
  proto::LeaveGroupRequest req;
  req.group_id = config_.group_id;
  req.member_id = member_id_;                         // v0-2
  req.members.push_back({member_id_, std::nullopt});  // v3
  network().send(coordinator_, std::move(req),
                 [done = std::move(done)](Result<proto::LeaveGroupResponse>) { done(); });
}

void GroupConsumer::reset_generation(bool reset_member_id) {
  generation_ = -1;
  leader_id_.clear();
  if (reset_member_id) member_id_.clear();
}

void GroupConsumer::fail(Status s) {
  rt_.error("group", "group " + config_.group_id + ": " + s.message());
  state_ = MemberState::kFailed;
  failure_ = s;
  rt_.cancel(heartbeat_timer_);
  rt_.cancel(commit_timer_);
  rt_.cancel(poll_timer_);
  rt_.cancel(retry_timer_);
  report(s);
}

}  // namespace strata::client
