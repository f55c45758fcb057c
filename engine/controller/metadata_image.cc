#include "engine/controller/metadata_image.h"

#include <algorithm>
#include <set>

#include "engine/base/limits.h"

namespace strata::controller {
namespace {

bool contains(const std::vector<NodeId>& v, NodeId n) {
  return std::find(v.begin(), v.end(), n) != v.end();
}

bool distinct(const std::vector<NodeId>& v) {
  std::set<NodeId> seen(v.begin(), v.end());
  return seen.size() == v.size();
}

std::string partition_name(const TopicImage& t, int32_t index) {
  return t.name + "-" + std::to_string(index);
}

}  // namespace

bool PartitionRegistration::in_isr(NodeId n) const {
  return contains(isr, n);
}
bool PartitionRegistration::is_replica(NodeId n) const {
  return contains(replicas, n);
}

const BrokerRegistration* MetadataImage::broker(NodeId id) const {
  auto it = brokers_.find(id);
  return it == brokers_.end() ? nullptr : &it->second;
}

bool MetadataImage::is_active(NodeId id) const {
  const BrokerRegistration* b = broker(id);
  return b != nullptr && !b->fenced;
}

const TopicImage* MetadataImage::topic(const TopicId& id) const {
  auto it = topics_.find(id);
  return it == topics_.end() ? nullptr : &it->second;
}

const TopicImage* MetadataImage::topic(const std::string& name) const {
  auto it = topic_ids_.find(name);
  return it == topic_ids_.end() ? nullptr : topic(it->second);
}

const PartitionRegistration* MetadataImage::partition(const TopicId& id, int32_t partition) const {
  const TopicImage* t = topic(id);
  if (t == nullptr || partition < 0 || size_t(partition) >= t->partitions.size()) return nullptr;
  return &t->partitions[size_t(partition)];
}

Status MetadataImage::replay(const MetadataRecord& record, Offset offset) {
  if (offset < next_offset_) {
    return Status::corruption("metadata record at offset " + std::to_string(offset.value()) +
                              " is not after the last one replayed");
  }
  Status s = std::visit([&](const auto& r) { return apply(r, offset); }, record);
  if (!s)
    return Status::corruption("metadata record at offset " + std::to_string(offset.value()) + " (" +
                              describe(record) + "): " + s.message());
  next_offset_ = offset + 1;
  return s;
}

BrokerRegistration* MetadataImage::find_broker(NodeId id, int64_t epoch, Status* error) {
  auto it = brokers_.find(id);
  if (it == brokers_.end()) {
    *error = Status::not_found("broker is not registered");
    return nullptr;
  }
  if (it->second.epoch != epoch) {
    *error = Status::invalid_argument("broker epoch " + std::to_string(epoch) +
                                      " is not the registered " + std::to_string(it->second.epoch));
    return nullptr;
  }
  return &it->second;
}

// A broker may be fenced, replaced or removed only once every partition it led has another
// leader (or none): records that move leadership come first.
Status MetadataImage::leads_nothing(NodeId broker) const {
  for (const auto& [id, t] : topics_) {
    for (size_t i = 0; i < t.partitions.size(); ++i) {
      if (t.partitions[i].leader == broker) {
        return Status::invalid_argument("broker still leads " + partition_name(t, int32_t(i)));
      }
    }
  }
  return ok_status();
}

TopicImage* MetadataImage::find_topic(const TopicId& id) {
  auto it = topics_.find(id);
  return it == topics_.end() ? nullptr : &it->second;
}

Status MetadataImage::apply(const RegisterBrokerRecord& r, Offset offset) {
  if (r.broker_id.value() < 0) return Status::invalid_argument("negative broker id");
  if (r.broker_epoch <= last_broker_epoch_) {
    return Status::invalid_argument("broker epoch does not go up");
  }
  if (!brokers_.contains(r.broker_id) && brokers_.size() >= size_t(limits::kBrokersMax)) {
    return Status::resource_exhausted("more than " + std::to_string(limits::kBrokersMax) +
                                      " brokers");
  }
  if (Status s = leads_nothing(r.broker_id); !s) return s;
  brokers_[r.broker_id] = BrokerRegistration{
      r.broker_id, r.incarnation, r.broker_epoch, r.endpoints, r.rack, true, offset};
  last_broker_epoch_ = r.broker_epoch;
  return ok_status();
}

Status MetadataImage::apply(const UnregisterBrokerRecord& r, Offset) {
  Status error;
  if (find_broker(r.broker_id, r.broker_epoch, &error) == nullptr) return error;
  if (Status s = leads_nothing(r.broker_id); !s) return s;
  brokers_.erase(r.broker_id);
  return ok_status();
}

Status MetadataImage::apply(const FenceBrokerRecord& r, Offset) {
  Status error;
  BrokerRegistration* b = find_broker(r.broker_id, r.broker_epoch, &error);
  if (b == nullptr) return error;
  if (Status s = leads_nothing(r.broker_id); !s) return s;
  b->fenced = true;
  return ok_status();
}

Status MetadataImage::apply(const UnfenceBrokerRecord& r, Offset) {
  Status error;
  BrokerRegistration* b = find_broker(r.broker_id, r.broker_epoch, &error);
  if (b == nullptr) return error;
  b->fenced = false;
  return ok_status();
}

Status MetadataImage::apply(const TopicRecord& r, Offset) {
  if (topic_ids_.contains(r.name)) return Status::already_exists("topic name in use");
  if (topics_.contains(r.topic_id)) return Status::already_exists("topic id in use");
  if (topics_.size() >= limits::kTopicsMax) return Status::resource_exhausted("too many topics");
  topics_[r.topic_id] = TopicImage{r.name, r.topic_id, {}, {}};
  topic_ids_[r.name] = r.topic_id;
  return ok_status();
}

Status MetadataImage::check_partition(const TopicImage& t, int32_t index,
                                      const PartitionRegistration& p) const {
  std::string name = partition_name(t, index);
  if (p.replicas.empty() || !distinct(p.replicas)) {
    return Status::invalid_argument(name + " needs distinct replicas");
  }
  if (!distinct(p.isr)) return Status::invalid_argument(name + " has a repeated ISR member");
  for (NodeId n : p.isr) {
    if (!p.is_replica(n))
      return Status::invalid_argument(name + " has an ISR member not a replica");
  }
  if (p.has_leader()) {
    if (!p.in_isr(p.leader))
      return Status::invalid_argument(name + " has a leader outside the ISR");
    if (!is_active(p.leader)) {
      return Status::invalid_argument(name + " has a fenced or unknown leader");
    }
  } else if (p.leader != kNoNode) {
    return Status::invalid_argument(name + " has an invalid leader id");
  }
  return ok_status();
}

Status MetadataImage::apply(const PartitionRecord& r, Offset) {
  TopicImage* t = find_topic(r.topic_id);
  if (t == nullptr) return Status::not_found("unknown topic id");
  if (r.partition != int32_t(t->partitions.size())) {
    return Status::invalid_argument("partitions must be added in order");
  }
  if (r.partition >= limits::kPartitionsPerTopicMax) {
    return Status::resource_exhausted("too many partitions");
  }
  PartitionRegistration p{r.replicas, r.isr, r.leader, r.leader_epoch, r.partition_epoch};
  if (Status s = check_partition(*t, r.partition, p); !s) return s;
  t->partitions.push_back(std::move(p));
  return ok_status();
}

Status MetadataImage::apply(const PartitionChangeRecord& r, Offset) {
  TopicImage* t = find_topic(r.topic_id);
  if (t == nullptr) return Status::not_found("unknown topic id");
  if (r.partition < 0 || size_t(r.partition) >= t->partitions.size()) {
    return Status::not_found("unknown partition");
  }
  PartitionRegistration next = t->partitions[size_t(r.partition)];
  if (r.replicas) next.replicas = *r.replicas;
  if (r.isr) next.isr = *r.isr;
  if (r.leader) {
    next.leader = *r.leader;
    next.leader_epoch += 1;
  }
  next.partition_epoch += 1;
  if (Status s = check_partition(*t, r.partition, next); !s) return s;
  t->partitions[size_t(r.partition)] = std::move(next);
  return ok_status();
}

Status MetadataImage::apply(const RemoveTopicRecord& r, Offset) {
  TopicImage* t = find_topic(r.topic_id);
  if (t == nullptr) return Status::not_found("unknown topic id");
  topic_ids_.erase(t->name);
  topics_.erase(r.topic_id);
  return ok_status();
}

Status MetadataImage::apply(const ConfigRecord& r, Offset) {
  auto it = topic_ids_.find(r.topic);
  if (it == topic_ids_.end()) return Status::not_found("config for an unknown topic");
  TopicImage& t = topics_.at(it->second);
  if (r.value) {
    t.configs[r.key] = *r.value;
  } else {
    t.configs.erase(r.key);
  }
  return ok_status();
}

Status MetadataImage::apply(const ProducerIdsRecord& r, Offset) {
  if (r.next_producer_id <= next_producer_id_) {
    return Status::invalid_argument("producer id blocks must go up");
  }
  next_producer_id_ = r.next_producer_id;
  return ok_status();
}

void MetadataImage::check_invariants() const {
  STRATA_ASSERT(topics_.size() == topic_ids_.size(), "every topic has one name");
  for (const auto& [name, id] : topic_ids_) {
    auto it = topics_.find(id);
    STRATA_ASSERT(it != topics_.end() && it->second.name == name, "name index is consistent");
  }
  for (const auto& [id, t] : topics_) {
    for (size_t i = 0; i < t.partitions.size(); ++i) {
      STRATA_ASSERT(check_partition(t, int32_t(i), t.partitions[i]).is_ok(),
                    "replayed partitions hold the partition invariants");
    }
  }
  for (const auto& [id, b] : brokers_) {
    STRATA_ASSERT(b.id == id && b.epoch <= last_broker_epoch_, "broker entries are consistent");
  }
}

}  // namespace strata::controller
