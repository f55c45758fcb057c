#include "sim/group_workload.h"

#include <utility>

#include "engine/base/assert.h"

namespace strata::sim {
namespace {

// "UNKNOWN_MEMBER_ID: committing offsets of group g" → "UNKNOWN_MEMBER_ID": Kafka's error name
// (or the client's own, e.g. COMMIT_FAILED) when the message starts with one, else the message.
std::string_view error_name(const Status& s) {
  std::string_view m = s.message();
  size_t colon = m.find(':');
  std::string_view head = m.substr(0, colon);
  bool is_name = !head.empty() && head.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ_") ==
                                      std::string_view::npos;
  return is_name ? head : m.substr(0, 80);
}

}  // namespace

GroupMemberWorkload::GroupMemberWorkload(SimNode& node, History& history,
                                         const ConsumerSpec& spec,
                                         std::vector<Endpoint> bootstrap)
    : node_(node), history_(history), spec_(spec), client_name_(history_.intern(spec_.id)),
      group_name_(history_.intern(spec_.group)), revoked_name_(history_.intern("revoked")),
      lost_name_(history_.intern("lost")) {
  client::ClientOptions options;
  options.bootstrap_servers = std::move(bootstrap);
  options.client_id = spec_.id;
  client::GroupConsumerConfig config = spec_.group_config;
  config.group_id = spec_.group;
  config.consumer = spec_.config;
  config.enable_auto_commit = spec_.commit == CommitMode::kAuto;
  member_ = std::make_unique<client::GroupConsumer>(node_, options, config);
  member_->set_rebalance_listener({
      [this](const auto& tps) { on_gone(tps, revoked_name_); },
      [this](const auto&) { on_assigned(); },
      [this](const auto& tps) { on_gone(tps, lost_name_); },
  });
  member_->set_commit_observer(
      [this](const client::GroupConsumer::CommitOutcome& c) { on_commit(c); });
}

GroupMemberWorkload::~GroupMemberWorkload() {
  if (timer_.value() != 0 && node_.up()) node_.cancel(timer_);
}

void GroupMemberWorkload::start() {
  STRATA_ASSERT(!running_, "group member started twice");
  running_ = true;
  Status st = member_->subscribe({spec_.topic});
  STRATA_ASSERT(st.is_ok(), "the scenario parser checks the topic name");
  schedule_loop(spec_.poll_interval);
}

void GroupMemberWorkload::stop() {
  if (!running_) return;
  running_ = false;
  if (timer_.value() != 0) node_.cancel(timer_);
  timer_ = TimerId(0);
  member_->close();
}

void GroupMemberWorkload::stall(Duration d) {
  stalled_until_ = std::max(stalled_until_, node_.now() + d);
}

void GroupMemberWorkload::schedule_loop(Duration after) {
  timer_ = node_.schedule(after, [this] {
    timer_ = TimerId(0);
    loop();
  });
}

void GroupMemberWorkload::loop() {
  if (!running_) return;
  if (node_.now() < stalled_until_) return schedule_loop(stalled_until_ - node_.now());
  client::OffsetMap lost = std::exchange(lost_processed_, {});
  if (member_->generation() < 0) processed_.merge(lost);
  if (spec_.commit == CommitMode::kBatch && !processed_.empty()) {
    return commit(std::exchange(processed_, {}), [this] { poll_batch(); });
  }
  poll_batch();
}

void GroupMemberWorkload::poll_batch() {
  if (!running_) return;
  std::vector<client::ConsumerRecord> records = member_->poll(size_t(spec_.max_poll_records));
  for (const client::ConsumerRecord& r : records) {
    client::TopicPartition tp{r.topic, r.partition};
    auto progress = member_->consumer().progress(tp);
    record_poll(history_, node_.now(), client_name_, history_.intern(r.topic), r,
                progress ? progress->offset_resets : 0, resets_seen_[tp]);
    ++polled_;
    if (spec_.commit == CommitMode::kBatch) processed_[tp] = Offset(r.offset.value() + 1);
  }
  schedule_loop(spec_.poll_interval);
}

void GroupMemberWorkload::commit(client::OffsetMap offsets, std::function<void()> then) {
  member_->commit(std::move(offsets), [then = std::move(then)](const Status&) {
    if (then) then();
  });
}

OpRecord GroupMemberWorkload::group_op(OpType type, const client::TopicPartition& tp) {
  OpRecord op;
  op.t_ns = node_.now().ns;
  op.type = type;
  op.client = client_name_;
  op.topic = history_.intern(tp.topic);
  op.partition = tp.partition.value();
  op.set_group(group_name_, member_->generation());
  return op;
}

void GroupMemberWorkload::on_assigned() {
  for (const client::TopicPartition& tp : member_->assignment()) {
    history_.add(group_op(OpType::kAssigned, tp));
  }
}

void GroupMemberWorkload::on_gone(const std::vector<client::TopicPartition>& tps, NameId how) {
  client::OffsetMap last;
  for (const client::TopicPartition& tp : tps) {
    OpRecord op = group_op(OpType::kRevoked, tp);
    op.error = how;
    history_.add(op);
    auto it = processed_.find(tp);
    if (it == processed_.end()) continue;
    (how == revoked_name_ ? last : lost_processed_).insert(*it);
    processed_.erase(it);
  }
  // What was processed of a revoked partition is committed before it moves on; the answer
  // arrives through the commit observer.
  if (!last.empty()) member_->commit(std::move(last), nullptr);
}

void GroupMemberWorkload::on_commit(const client::GroupConsumer::CommitOutcome& c) {
  bool ok = c.status.is_ok();
  NameId error = ok ? kNoName : history_.intern(error_name(c.status));
  if (!ok) {
    node_.warn("group", "commit of " + std::to_string(c.offsets.size()) +
                            " partition(s) in generation " + std::to_string(c.generation) +
                            " failed: " + c.status.message());
  }
  for (const auto& [tp, offset] : c.offsets) {
    OpRecord op = group_op(ok ? OpType::kCommit : OpType::kCommitError, tp);
    op.offset = offset.value();
    op.set_group(group_name_, c.generation);
    op.set_invoked_ns(c.sent.ns);
    op.error = error;
    history_.add(op);
  }
}

}  // namespace strata::sim
