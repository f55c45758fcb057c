// Offset requests that both a group member (GroupConsumer) and the admin client build: the
// topic-grouped layout of OffsetFetch and OffsetCommit from flat partition lists.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/client/metadata_cache.h"
#include "engine/protocol/messages.h"

namespace strata::client {

// Who commits: a member (its generation and ids) or, with the defaults, an admin client
// committing for a group without members.
struct CommitterIdentity {
  int32_t generation = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
};

// nullopt asks for every partition the group committed (a null topic array, v2+).
proto::OffsetFetchRequest offset_fetch_request(const std::string& group,
                                               std::vector<TopicPartition> partitions);
proto::OffsetFetchRequest offset_fetch_all_request(const std::string& group);

// `offsets` must not hold negative offsets (callers check user input first).
proto::OffsetCommitRequest offset_commit_request(
    const std::string& group, const CommitterIdentity& who,
    std::vector<std::pair<TopicPartition, int64_t>> offsets);

}  // namespace strata::client
