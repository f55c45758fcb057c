// The broker side of the group coordinator's storage: `__consumer_offsets` as an ordinary
// compacted topic of this broker. Appends the coordinator's records as record batches
// (created on first use, as Kafka creates the topic when the first group needs it), and
// replays the topic into the coordinator when the broker starts.
#pragma once

#include <functional>

#include "engine/broker/topic_manager.h"
#include "engine/group/coordinator.h"

namespace strata::broker {

class OffsetsTopic final : public group::GroupLog {
 public:
  // `on_appended` wakes fetches waiting on a partition that grew.
  OffsetsTopic(Runtime& runtime, TopicManager& topics, const group::GroupConfig& config,
               std::function<void(PartitionReplica&)> on_appended);

  void append(int32_t partition, std::vector<group::OffsetsRecord> records,
              std::function<void(Status)> done) override;

  // The partition count the coordinator must hash over: the existing topic's, else the
  // configured one.
  int32_t partition_count() const;
  // Feeds every record of every partition to `coordinator`, then finish_load(). A batch that
  // cannot be read is an error (the broker refuses to start rather than forget commits);
  // a record that cannot be decoded is skipped with a warning.
  Status load(group::GroupCoordinator& coordinator);

 private:
  Result<PartitionReplica*> partition(int32_t index);

  Runtime& rt_;
  TopicManager& topics_;
  group::GroupConfig config_;
  std::function<void(PartitionReplica&)> on_appended_;
};

}  // namespace strata::broker
