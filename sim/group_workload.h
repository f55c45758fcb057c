// A consumer-group member on a simulated node, run the way an application runs Kafka's
// consumer: a loop that calls poll() every `poll_interval`, processes the batch (writes every
// record to the History as a kPoll) and commits as its CommitMode says. The GroupConsumer
// (engine/client) underneath is the one `strata consume --group` runs on real sockets.
//
// What the history gets, besides polls:
//  - kAssigned for every partition of the member's assignment, once per generation, when the
//    member starts owning it (the rebalance listener's on_partitions_assigned);
//  - kRevoked with error "revoked" or "lost" when it stops;
//  - kCommit / kCommitError for every commit, whoever started it (auto-commit, the batch
//    commit, close), with Kafka's error name on failure;
//  - kSeek when auto.offset.reset moved a position.
//
// CommitMode::kBatch commits the offsets after the records it processed, synchronously, before
// its next poll() — and also from on_partitions_revoked for the partitions going away, as an
// application should. Lost partitions are not committed there: the member is out of its
// generation. A stall (stall()) keeps the application inside its batch: no poll(), no commit,
// while the client's heartbeats go on — exactly what max.poll.interval.ms exists to catch.
#pragma once

#include <memory>
#include <vector>

#include "engine/client/group_consumer.h"
#include "sim/history.h"
#include "sim/sim_node.h"
#include "sim/workload.h"

namespace strata::sim {

class GroupMemberWorkload {
 public:
  GroupMemberWorkload(SimNode& node, History& history, const ConsumerSpec& spec,
                      std::vector<Endpoint> bootstrap);
  ~GroupMemberWorkload();
  GroupMemberWorkload(const GroupMemberWorkload&) = delete;
  GroupMemberWorkload& operator=(const GroupMemberWorkload&) = delete;

  void start();
  // Stops the loop and closes the member (auto-commit, revocation, LeaveGroup).
  void stop();
  // The batch in hand takes `d` longer to process: no poll() and no commit until then.
  void stall(Duration d);
  int64_t polled() const { return polled_; }
  const client::GroupConsumer& member() const { return *member_; }

 private:
  void schedule_loop(Duration after);
  void loop();
  void poll_batch();
  void commit(client::OffsetMap offsets, std::function<void()> then);
  void on_assigned();
  void on_gone(const std::vector<client::TopicPartition>& tps, NameId how);
  void on_commit(const client::GroupConsumer::CommitOutcome& c);
  OpRecord group_op(OpType type, const client::TopicPartition& tp);

  SimNode& node_;
  History& history_;
  const ConsumerSpec& spec_;
  NameId client_name_;
  NameId group_name_;
  NameId revoked_name_;
  NameId lost_name_;
  bool running_ = false;
  TimerId timer_{0};
  MonoTime stalled_until_;
  // The offsets after the records processed since the last batch commit (CommitMode::kBatch).
  client::OffsetMap processed_;
  // Processed offsets of partitions lost since: the next loop still tries to commit them if
  // the member is in no generation (and fails, as the application would learn), else drops
  // them — committing them in a later generation would move another owner's offsets back.
  client::OffsetMap lost_processed_;
  std::map<client::TopicPartition, uint64_t> resets_seen_;
  int64_t polled_ = 0;
  // Declared last, destroyed first: its callbacks point into this object.
  std::unique_ptr<client::GroupConsumer> member_;
};

}  // namespace strata::sim
