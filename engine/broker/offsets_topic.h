// The broker side of the group coordinator's storage: `__consumer_offsets` as an ordinary
// compacted topic, its partitions placed over the brokers like any topic's. The broker that
// leads a group's partition coordinates the group. Appends the coordinator's records as
// record batches, and replays into the coordinator every partition this broker holds: at
// start, and whenever the metadata gives it one more (the topic is created when the first
// group needs it, as in Kafka).
#pragma once

#include <functional>
#include <set>

#include "engine/broker/topic_manager.h"
#include "engine/group/coordinator.h"

namespace strata::broker {

class OffsetsTopic final : public group::GroupLog {
 public:
  // `on_appended` wakes fetches waiting on a partition that grew; `ensure_topic` creates the
  // topic (or asks the controller to) when an append finds none.
  OffsetsTopic(Runtime& runtime, TopicManager& topics, const group::GroupConfig& config,
               std::function<void(PartitionReplica&)> on_appended,
               std::function<void()> ensure_topic);

  void append(int32_t partition, std::vector<group::OffsetsRecord> records,
              std::function<void(Status)> done) override;

  // The partition count the coordinator must hash over: the existing topic's, else the
  // configured one.
  int32_t partition_count() const;
  // The topic as the controller should create it: offsets.topic.num.partitions, compacted.
  CreateTopicSpec spec() const;
  // At start: feeds every record of every partition held here to `coordinator`, then
  // finish_load(). A batch that cannot be read is an error (the broker refuses to start
  // rather than forget commits); a record that cannot be decoded is skipped with a warning.
  Status load(group::GroupCoordinator& coordinator);
  // After a metadata change: loads the partitions this broker holds that are not loaded yet,
  // each finished on its own (its groups only).
  Status load_new_partitions(group::GroupCoordinator& coordinator);

 private:
  Result<PartitionReplica*> partition(int32_t index);
  Status replay_partition(group::GroupCoordinator& coordinator, PartitionReplica& p);

  Runtime& rt_;
  TopicManager& topics_;
  group::GroupConfig config_;
  std::function<void(PartitionReplica&)> on_appended_;
  std::function<void()> ensure_topic_;
  std::set<int32_t> loaded_;  // partitions replayed into the coordinator
};

}  // namespace strata::broker
