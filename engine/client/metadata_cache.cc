#include "engine/client/metadata_cache.h"

#include <algorithm>

namespace strata::client {
namespace {

std::vector<NodeId> to_nodes(const std::vector<int32_t>& ids) {
  std::vector<NodeId> out;
  out.reserve(ids.size());
  for (int32_t id : ids) out.push_back(NodeId(id));
  return out;
}

TopicMetadata convert_topic(const proto::MetadataResponse::TopicMetadata& t) {
  TopicMetadata out;
  out.name = t.name;
  out.error_code = t.error_code;
  out.internal = t.is_internal;
  for (const auto& p : t.partitions) {
    PartitionMetadata pm;
    pm.id = PartitionId(p.partition_index);
    pm.error_code = p.error_code;
    pm.leader = p.leader_id >= 0 ? NodeId(p.leader_id) : kNoNode;
    pm.leader_epoch = LeaderEpoch(p.leader_epoch);
    pm.replicas = to_nodes(p.replica_nodes);
    pm.isr = to_nodes(p.isr_nodes);
    pm.offline = to_nodes(p.offline_replicas);
    out.partitions.push_back(std::move(pm));
  }
  std::sort(out.partitions.begin(), out.partitions.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

}  // namespace

std::vector<TopicMetadata> topics_from_response(const proto::MetadataResponse& resp) {
  std::vector<TopicMetadata> out;
  out.reserve(resp.topics.size());
  for (const auto& t : resp.topics) out.push_back(convert_topic(t));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

void MetadataCache::update(const proto::MetadataResponse& resp, MonoTime now, bool full) {
  brokers_.clear();
  for (const auto& b : resp.brokers) {
    // A port outside 1..65535 is a broken peer; leaving the broker out makes sends to it fail
    // with a retriable error rather than connecting somewhere wrong.
    if (b.port <= 0 || b.port > 65535) continue;
    brokers_[NodeId(b.node_id)] =
        BrokerMetadata{NodeId(b.node_id), Endpoint{b.host, uint16_t(b.port)}, b.rack};
  }
  if (full) topics_.clear();
  for (const auto& t : resp.topics) topics_[t.name] = convert_topic(t);
  controller_ = resp.controller_id >= 0 ? NodeId(resp.controller_id) : kNoNode;
  cluster_id_ = resp.cluster_id;
  ++version_;
  updated_at_ = now;
}

const TopicMetadata* MetadataCache::topic(const std::string& name) const {
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : &it->second;
}

NodeId MetadataCache::leader_for(const TopicPartition& tp) const {
  const TopicMetadata* t = topic(tp.topic);
  if (t == nullptr || t->error_code != 0) return kNoNode;
  for (const auto& p : t->partitions) {
    if (p.id == tp.partition) return p.error_code == 0 || p.leader != kNoNode ? p.leader : kNoNode;
  }
  return kNoNode;
}

std::optional<int32_t> MetadataCache::partition_count(const std::string& name) const {
  const TopicMetadata* t = topic(name);
  if (t == nullptr || t->error_code != 0 || t->partitions.empty()) return std::nullopt;
  return int32_t(t->partitions.size());
}

std::optional<Endpoint> MetadataCache::endpoint(NodeId node) const {
  auto it = brokers_.find(node);
  if (it == brokers_.end()) return std::nullopt;
  return it->second.endpoint;
}

}  // namespace strata::client
