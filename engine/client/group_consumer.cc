// GroupConsumer: subscription, poll, commits, applying assignments (with committed offsets)
// and close. The group protocol itself (coordinator, join, sync, heartbeat) is group_join.cc.
#include "engine/client/group_consumer.h"

#include <algorithm>

#include "engine/client/client_errors.h"
#include "engine/client/group_requests.h"

namespace strata::client {
namespace {

using proto::ErrorCode;

bool is(int16_t code, ErrorCode e) {
  return code == proto::to_int(e);
}

std::vector<TopicPartition> minus(const std::vector<TopicPartition>& a,
                                  const std::vector<TopicPartition>& b) {
  std::vector<TopicPartition> out;
  for (const auto& tp : a) {
    if (!std::binary_search(b.begin(), b.end(), tp)) out.push_back(tp);
  }
  return out;
}

ClientOptions group_client_options(ClientOptions o, const GroupConsumerConfig& c) {
  o.request_timeout_ms = c.consumer.request_timeout_ms;
  o.retry_backoff_ms = c.consumer.retry_backoff_ms;
  return o;
}

}  // namespace

std::string_view member_state_name(MemberState s) {
  switch (s) {
    case MemberState::kUnsubscribed:
      return "Unsubscribed";
    case MemberState::kJoining:
      return "Joining";
    case MemberState::kSyncing:
      return "Syncing";
    case MemberState::kStable:
      return "Stable";
    case MemberState::kLeft:
      return "Left";
    case MemberState::kClosing:
      return "Closing";
    case MemberState::kClosed:
      return "Closed";
    case MemberState::kFailed:
      return "Failed";
  }
  return "?";
}

Status validate(const GroupConsumerConfig& c) {
  STRATA_RETURN_IF_ERROR(validate(c.consumer));
  if (c.group_id.empty()) return Status::invalid_argument("group.id must not be empty");
  if (c.group_instance_id && c.group_instance_id->empty()) {
    return Status::invalid_argument("group.instance.id must not be empty when given");
  }
  STRATA_RETURN_IF_ERROR(parse_assignment_strategy(c.assignment_strategy).status());
  if (c.session_timeout_ms <= 0 || c.heartbeat_interval_ms <= 0 || c.max_poll_interval_ms <= 0 ||
      c.auto_commit_interval_ms <= 0) {
    return Status::invalid_argument(
        "session.timeout.ms, heartbeat.interval.ms, max.poll.interval.ms and "
        "auto.commit.interval.ms must be positive");
  }
  if (c.heartbeat_interval_ms >= c.session_timeout_ms) {
    return Status::invalid_argument("heartbeat.interval.ms must be lower than session.timeout.ms");
  }
  return ok_status();
}

GroupConsumer::GroupConsumer(Runtime& rt, ClientOptions client, GroupConsumerConfig config)
    : rt_(rt),
      config_(std::move(config)),
      consumer_(rt, group_client_options(std::move(client), config_), config_.consumer) {
  STRATA_ASSERT(validate(config_).is_ok(), "validate() the group consumer config first");
  assignors_ = *parse_assignment_strategy(config_.assignment_strategy);
  protocol_ = client::rebalance_protocol(assignors_);
  network().add_metadata_listener([this] { step(); });
  consumer_.set_error_callback([this](const TopicPartition&, const Status& s) { report(s); });
}

GroupConsumer::~GroupConsumer() {
  for (TimerId t : {heartbeat_timer_, commit_timer_, poll_timer_, retry_timer_}) rt_.cancel(t);
}

Status GroupConsumer::subscribe(std::vector<std::string> topics) {
  if (state_ == MemberState::kClosing || state_ == MemberState::kClosed ||
      state_ == MemberState::kFailed) {
    return Status::closed("the group consumer is " + std::string(member_state_name(state_)));
  }
  if (topics.empty()) return Status::invalid_argument("subscribe to at least one topic");
  if (topics.size() > limits::kSubscribedTopicsMax) {
    return Status::invalid_argument("too many topics in one subscription");
  }
  for (const auto& t : topics) {
    if (t.empty() || t.size() > size_t(INT16_MAX)) {
      return Status::invalid_argument("topic names must be 1.." + std::to_string(INT16_MAX) +
                                      " bytes");
    }
  }
  std::sort(topics.begin(), topics.end());
  topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
  topics_ = std::move(topics);
  for (const auto& t : topics_) network().add_topic(t);
  last_poll_ = rt_.now();
  if (state_ == MemberState::kUnsubscribed) {
    state_ = MemberState::kJoining;
    rt_.cancel(poll_timer_);
    poll_timer_ =
        rt_.schedule(milliseconds(config_.max_poll_interval_ms), [this] { on_poll_timeout(); });
    step();
  } else {
    rejoin_needed_ = true;
    step();
  }
  return ok_status();
}

std::vector<ConsumerRecord> GroupConsumer::poll(size_t max_records) {
  last_poll_ = rt_.now();
  if (state_ == MemberState::kLeft) {
    state_ = MemberState::kJoining;
    rt_.cancel(poll_timer_);
    poll_timer_ =
        rt_.schedule(milliseconds(config_.max_poll_interval_ms), [this] { on_poll_timeout(); });
    step();
  }
  if (rebalance_noticed_ && state_ == MemberState::kStable) {
    begin_rejoin("the group is rebalancing");
  }
  // Eager revocation under way: the positions to commit are taken, and every partition is
  // about to go; a record handed out now would be read again by its next owner.
  if (preparing_) return {};
  return consumer_.poll(max_records);
}

void GroupConsumer::on_poll_timeout() {
  poll_timer_ = TimerId(0);
  if (state_ != MemberState::kJoining && state_ != MemberState::kSyncing &&
      state_ != MemberState::kStable) {
    return;
  }
  Duration idle = rt_.now() - last_poll_;
  Duration limit = milliseconds(config_.max_poll_interval_ms);
  if (idle < limit) {
    poll_timer_ = rt_.schedule(limit - idle, [this] { on_poll_timeout(); });
    return;
  }
  ++stats_.poll_timeouts;
  rt_.warn("group", "member " + member_id_ + " of " + config_.group_id +
                        ": poll() not called within max.poll.interval.ms; leaving the group");
  // Lost, not revoked: the member is out of the group before the application can commit
  // (Kafka calls onPartitionsLost on the next poll).
  lose_partitions();
  send_leave([] {});
  reset_generation(!config_.group_instance_id.has_value());
  new_epoch();
  ++assign_epoch_;
  offset_fetch_in_flight_ = false;
  preparing_ = false;
  leader_members_.reset();
  rt_.cancel(heartbeat_timer_);
  heartbeat_timer_ = TimerId(0);
  rt_.cancel(commit_timer_);
  commit_timer_ = TimerId(0);
  state_ = MemberState::kLeft;
}

Status GroupConsumer::seek(const TopicPartition& tp, Offset offset) {
  // A rebalance may have taken the partition away since the caller looked: not a bug.
  if (!std::binary_search(owned_.begin(), owned_.end(), tp)) {
    return Status::invalid_argument("seek: " + tp.to_string() + " is not assigned to member " +
                                    member_id_);
  }
  if (offset.value() < 0) return Status::invalid_argument("seek: negative offset");
  awaiting_offsets_.erase(tp);  // the application's position wins over the committed one
  update_fetching();
  consumer_.seek(tp, offset);
  return ok_status();
}

// Kafka's client: owned minus revoked are kept, new partitions wait for their committed
// offsets before fetching; revoked partitions are committed first (auto-commit).
void GroupConsumer::apply_assignment(std::vector<TopicPartition> next) {
  std::sort(next.begin(), next.end());
  next.erase(std::unique(next.begin(), next.end()), next.end());
  std::vector<TopicPartition> revoked = minus(owned_, next);
  std::vector<TopicPartition> added = minus(next, owned_);
  if (!revoked.empty()) {
    if (config_.enable_auto_commit) {
      OffsetMap positions = consumer_.delivered_positions();
      std::erase_if(positions, [&](const auto& kv) {
        return !std::binary_search(revoked.begin(), revoked.end(), kv.first);
      });
      commit(std::move(positions), [this](const Status& s) {
        if (!s) report(s);
      });
    }
    revoke(revoked);
  }
  owned_ = next;
  ++assign_epoch_;
  offset_fetch_in_flight_ = false;
  awaiting_offsets_.insert(added.begin(), added.end());
  std::erase_if(awaiting_offsets_, [&](const TopicPartition& tp) {
    return !std::binary_search(owned_.begin(), owned_.end(), tp);
  });
  state_ = MemberState::kStable;
  update_fetching();
  // KIP-429: what we gave up goes to its new owner in a follow-up rebalance.
  if (protocol_ == RebalanceProtocol::kCooperative && !revoked.empty()) rejoin_needed_ = true;
  schedule_auto_commit();
  check_invariants();
  if (awaiting_offsets_.empty() && listener_.on_partitions_assigned) {
    listener_.on_partitions_assigned(added);
  }
  step();
}

void GroupConsumer::update_fetching() {
  std::vector<TopicPartition> ready;
  for (const auto& tp : owned_) {
    if (!awaiting_offsets_.count(tp)) ready.push_back(tp);
  }
  consumer_.assign(ready);
}

void GroupConsumer::fetch_committed() {
  STRATA_ASSERT(!awaiting_offsets_.empty() && coordinator_ != kNoNode);
  proto::OffsetFetchRequest req = offset_fetch_request(
      config_.group_id, std::vector<TopicPartition>(awaiting_offsets_.begin(),
                                                    awaiting_offsets_.end()));
  offset_fetch_in_flight_ = true;
  uint64_t epoch = assign_epoch_;
  network().send(coordinator_, std::move(req), [this, epoch](Result<proto::OffsetFetchResponse> r) {
    on_offset_fetch(epoch, std::move(r));
  });
}

void GroupConsumer::on_offset_fetch(uint64_t epoch, Result<proto::OffsetFetchResponse> r) {
  if (epoch != assign_epoch_ || state_ != MemberState::kStable) return;
  offset_fetch_in_flight_ = false;
  if (!r) return coordinator_dead("OffsetFetch: " + r.status().message());
  int16_t top = r->error_code;
  for (const auto& t : r->topics) {
    for (const auto& p : t.partitions) {
      if (p.error_code != 0 && top == 0) top = p.error_code;
    }
  }
  if (top != 0) {
    if (handle_coordinator_error(top, "OffsetFetch")) return;
    if (proto::is_retriable(ErrorCode{top}) || is(top, ErrorCode::kUnstableOffsetCommit)) {
      return retry_after(config_.consumer.retry_backoff_ms);
    }
    report(kafka_error(top, "fetching committed offsets of group " + config_.group_id));
  }
  std::vector<TopicPartition> added(awaiting_offsets_.begin(), awaiting_offsets_.end());
  awaiting_offsets_.clear();
  update_fetching();
  for (const auto& t : r->topics) {
    for (const auto& p : t.partitions) {
      TopicPartition tp{t.name, PartitionId(p.partition_index)};
      if (p.error_code != 0 || p.committed_offset < 0) continue;  // auto.offset.reset decides
      if (!std::binary_search(added.begin(), added.end(), tp)) continue;
      committed_[tp] = Offset(p.committed_offset);
      consumer_.seek(tp, Offset(p.committed_offset));
    }
  }
  check_invariants();
  if (listener_.on_partitions_assigned) listener_.on_partitions_assigned(added);
}

void GroupConsumer::revoke(std::vector<TopicPartition> tps) {
  if (tps.empty()) return;
  stats_.partitions_revoked += tps.size();
  owned_ = minus(owned_, tps);
  for (const auto& tp : tps) {
    awaiting_offsets_.erase(tp);
    committed_.erase(tp);  // bounded by what we own
  }
  update_fetching();
  if (listener_.on_partitions_revoked) listener_.on_partitions_revoked(tps);
}

void GroupConsumer::lose_partitions() {
  if (owned_.empty()) return;
  std::vector<TopicPartition> lost = std::move(owned_);
  owned_.clear();
  awaiting_offsets_.clear();
  committed_.clear();
  stats_.partitions_lost += lost.size();
  update_fetching();
  if (listener_.on_partitions_lost) listener_.on_partitions_lost(lost);
}

void GroupConsumer::commit(CommitCallback cb) {
  OffsetMap positions = consumer_.delivered_positions();
  commit(std::move(positions), std::move(cb));
}

void GroupConsumer::commit(OffsetMap offsets, CommitCallback cb) {
  auto later = [this, &offsets](CommitCallback cb, Status s) {
    if (!s.is_ok() && commit_observer_) commit_observer_({offsets, generation_, rt_.now(), s});
    rt_.schedule(Duration(0), [cb = std::move(cb), s] {
      if (cb) cb(s);
    });
  };
  if (offsets.empty()) return later(std::move(cb), ok_status());
  if (generation_ < 0) {
    // Out of every generation (left after a poll timeout, fenced, or rejoining): sent with
    // generation -1 the commit could pass as a simple consumer's on an empty group and move
    // its offsets back.
    std::string why = state_ == MemberState::kLeft
                          ? "left group " + config_.group_id +
                                " after max.poll.interval.ms; the group has rebalanced and its "
                                "partitions may belong to another member now"
                          : "of group " + config_.group_id +
                                " is in no generation (it is rejoining the group)";
    return later(std::move(cb), Status::invalid_argument("COMMIT_FAILED: member " + why));
  }
  for (const auto& [tp, offset] : offsets) {
    if (offset.value() < 0) {
      return later(std::move(cb), Status::invalid_argument("commit: offset " +
                                                           std::to_string(offset.value()) +
                                                           " for " + tp.to_string() +
                                                           " is negative"));
    }
  }
  if (coordinator_ == kNoNode) {
    step();
    return later(std::move(cb), kafka_error(proto::to_int(ErrorCode::kCoordinatorNotAvailable),
                                            "no coordinator known for group " + config_.group_id));
  }
  if (commits_in_flight_ >= limits::kPendingCommitsMax) {
    return later(std::move(cb), Status::resource_exhausted("too many commits in flight"));
  }
  send_commit(std::move(offsets), std::move(cb));
}

void GroupConsumer::send_commit(OffsetMap offsets, CommitCallback cb) {
  std::vector<std::pair<TopicPartition, int64_t>> flat;
  for (const auto& [tp, offset] : offsets) flat.emplace_back(tp, offset.value());
  proto::OffsetCommitRequest req = offset_commit_request(
      config_.group_id, {generation_, member_id_, config_.group_instance_id}, std::move(flat));
  ++commits_in_flight_;
  int32_t generation = generation_;
  MonoTime sent = rt_.now();
  network().send(coordinator_, std::move(req),
                 [this, generation, sent, offsets = std::move(offsets),
                  cb = std::move(cb)](Result<proto::OffsetCommitResponse> r) mutable {
                   on_commit(generation, sent, std::move(offsets), std::move(cb), std::move(r));
                 });
}

void GroupConsumer::on_commit(int32_t generation, MonoTime sent, OffsetMap offsets,
                              CommitCallback cb,
                              Result<proto::OffsetCommitResponse> r) {
  --commits_in_flight_;
  int16_t code = 0;
  Status result = r.status();
  if (r) {
    for (const auto& t : r->topics) {
      for (const auto& p : t.partitions) {
        if (p.error_code != 0) {
          code = p.error_code;
          continue;
        }
        auto it = offsets.find({t.name, PartitionId(p.partition_index)});
        if (it != offsets.end() && std::binary_search(owned_.begin(), owned_.end(), it->first)) {
          committed_[it->first] = it->second;
        }
      }
    }
    if (code != 0) result = kafka_error(code, "committing offsets of group " + config_.group_id);
  } else {
    coordinator_dead("OffsetCommit: " + r.status().message());
  }
  if (result) {
    ++stats_.commits;
  } else {
    ++stats_.commit_failures;
  }
  if (commit_observer_) commit_observer_({offsets, generation, sent, result});
  bool current = generation == generation_ && state_ == MemberState::kStable;
  if (code != 0 && current) {
    if (handle_coordinator_error(code, "OffsetCommit")) {
    } else if (is(code, ErrorCode::kRebalanceInProgress)) {
      begin_rejoin("a commit found the group rebalancing");
    } else if (is(code, ErrorCode::kUnknownMemberId) || is(code, ErrorCode::kIllegalGeneration)) {
      lose_partitions();
      reset_generation(is(code, ErrorCode::kUnknownMemberId));
      state_ = MemberState::kJoining;
      new_epoch();
      step();
    }
  }
  if (cb) cb(result);
}

void GroupConsumer::schedule_auto_commit() {
  if (!config_.enable_auto_commit || commit_timer_.value() != 0) return;
  commit_timer_ = rt_.schedule(milliseconds(config_.auto_commit_interval_ms), [this] {
    commit_timer_ = TimerId(0);
    if (state_ != MemberState::kStable) return;
    OffsetMap positions = consumer_.delivered_positions();
    std::erase_if(positions, [&](const auto& kv) {
      auto c = committed_.find(kv.first);
      return c != committed_.end() && c->second == kv.second;  // nothing new consumed
    });
    commit(std::move(positions), [this](const Status& s) {
      if (!s) report(s);
    });
    schedule_auto_commit();
  });
}

void GroupConsumer::close(std::function<void()> done) {
  if (state_ == MemberState::kClosing || state_ == MemberState::kClosed) {
    if (done) rt_.schedule(Duration(0), std::move(done));
    return;
  }
  bool stable = state_ == MemberState::kStable;
  close_done_ = std::move(done);
  state_ = MemberState::kClosing;
  for (TimerId* t : {&heartbeat_timer_, &commit_timer_, &poll_timer_, &retry_timer_}) {
    rt_.cancel(*t);
    *t = TimerId(0);
  }
  OffsetMap positions = consumer_.delivered_positions();
  if (!stable || !config_.enable_auto_commit || positions.empty() || coordinator_ == kNoNode) {
    return finish_close();
  }
  send_commit(std::move(positions), [this](const Status& s) {
    if (!s) report(s);
    finish_close();
  });
}

void GroupConsumer::finish_close() {
  if (state_ != MemberState::kClosing) return;
  if (generation_ >= 0) {
    revoke(owned_);
  } else {
    lose_partitions();
  }
  send_leave([this] {
    if (state_ != MemberState::kClosing) return;
    state_ = MemberState::kClosed;
    reset_generation(true);
    if (close_done_) std::exchange(close_done_, nullptr)();
  });
}

void GroupConsumer::report(const Status& s) {
  if (error_cb_) error_cb_(s);
}

void GroupConsumer::check_invariants() const {
  STRATA_ASSERT(std::is_sorted(owned_.begin(), owned_.end()));
  STRATA_ASSERT(owned_.size() <= limits::kAssignedPartitionsMax);
  for (const auto& tp : awaiting_offsets_) {
    STRATA_ASSERT(std::binary_search(owned_.begin(), owned_.end(), tp),
                  "waiting for offsets of a partition not owned");
  }
}

}  // namespace strata::client
