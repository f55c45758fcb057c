#include "engine/client/group_requests.h"

#include <algorithm>

namespace strata::client {

proto::OffsetFetchRequest offset_fetch_request(const std::string& group,
                                               std::vector<TopicPartition> partitions) {
  std::sort(partitions.begin(), partitions.end());
  proto::OffsetFetchRequest req;
  req.group_id = group;
  req.topics.emplace();
  for (const auto& tp : partitions) {
    if (req.topics->empty() || req.topics->back().name != tp.topic) {
      req.topics->push_back({tp.topic, {}});
    }
    req.topics->back().partition_indexes.push_back(tp.partition.value());
  }
  return req;
}

proto::OffsetFetchRequest offset_fetch_all_request(const std::string& group) {
  proto::OffsetFetchRequest req;
  req.group_id = group;
  req.topics.reset();
  return req;
}

proto::OffsetCommitRequest offset_commit_request(
    const std::string& group, const CommitterIdentity& who,
    std::vector<std::pair<TopicPartition, int64_t>> offsets) {
  std::sort(offsets.begin(), offsets.end());
  proto::OffsetCommitRequest req;
  req.group_id = group;
  req.generation_id = who.generation;
  req.member_id = who.member_id;
  req.group_instance_id = who.group_instance_id;
  for (const auto& [tp, offset] : offsets) {
    STRATA_ASSERT(offset >= 0, "callers reject negative offsets first");
    if (req.topics.empty() || req.topics.back().name != tp.topic) {
      req.topics.push_back({tp.topic, {}});
    }
    auto& p = req.topics.back().partitions.emplace_back();
    p.partition_index = tp.partition.value();
    p.committed_offset = offset;
    p.committed_metadata = "";
  }
  return req;
}

}  // namespace strata::client
