// The controller's topic operations: create (with placement), delete, add partitions, config
// overrides, AlterPartition from leaders, and producer id blocks.
#include <algorithm>
#include <set>

#include "engine/base/limits.h"
#include "engine/base/splitmix.h"
#include "engine/controller/controller.h"
#include "engine/controller/placement.h"

namespace strata::controller {
namespace {

TopicReply error_reply(ErrorCode code, std::string message) {
  TopicReply r;
  r.error = code;
  r.message = std::move(message);
  return r;
}

TopicReply unknown_topic(const std::string& name) {
  return error_reply(ErrorCode::kUnknownTopicOrPartition, "topic '" + name + "' does not exist");
}

TopicReply too_few_brokers(int32_t rf, size_t active) {
  return error_reply(ErrorCode::kInvalidReplicationFactor,
                     "replication factor " + std::to_string(rf) + " needs as many brokers; " +
                         std::to_string(active) + " are active");
}

}  // namespace

TopicReply Controller::plan_assignments(const CreateTopicRequest& request, uint64_t random,
                                        std::vector<std::vector<NodeId>>* replicas) const {
  if (!request.assignments.empty()) {
    if (request.partitions != -1 || request.replication_factor != -1) {
      return error_reply(ErrorCode::kInvalidRequest,
                         "a replica assignment comes without partition count and "
                         "replication factor");
    }
    size_t width = request.assignments.begin()->second.size();
    int32_t expected = 0;
    for (const auto& [index, nodes] : request.assignments) {
      std::set<NodeId> distinct(nodes.begin(), nodes.end());
      if (index != expected++ || nodes.empty() || nodes.size() != width ||
          distinct.size() != nodes.size()) {
        return error_reply(ErrorCode::kInvalidReplicaAssignment,
                           "partitions must be numbered from 0, each with the same number of "
                           "distinct replicas");
      }
      for (NodeId n : nodes) {
        if (image_.broker(n) == nullptr) {
          return error_reply(ErrorCode::kInvalidReplicaAssignment,
                             "broker " + std::to_string(n.value()) + " is not registered");
        }
      }
      if (std::none_of(nodes.begin(), nodes.end(), [&](NodeId n) { return image_.is_active(n); })) {
        return error_reply(
            ErrorCode::kInvalidReplicaAssignment,
            "every broker assigned to partition " + std::to_string(index) + " is fenced");
      }
      replicas->push_back(nodes);
    }
  } else {
    int32_t partitions = request.partitions == -1 ? config_.num_partitions : request.partitions;
    int32_t rf = request.replication_factor == -1 ? config_.default_replication_factor
                                                  : request.replication_factor;
    if (partitions <= 0 || partitions > limits::kPartitionsPerTopicMax) {
      return error_reply(ErrorCode::kInvalidPartitions,
                         "number of partitions must be between 1 and " +
                             std::to_string(limits::kPartitionsPerTopicMax));
    }
    std::vector<NodeId> active = active_brokers();
    if (rf <= 0 || size_t(rf) > active.size()) {
      return too_few_brokers(rf, active.size());
    }
    *replicas = place_replicas(active, {0, partitions, rf, random});
  }
  if (replicas->size() > size_t(limits::kPartitionsPerTopicMax)) {
    return error_reply(ErrorCode::kInvalidPartitions, "too many partitions");
  }
  TopicReply ok;
  ok.partitions = int32_t(replicas->size());
  ok.replication_factor = int16_t(replicas->front().size());
  return ok;
}

TopicReply Controller::create_topic(ControllerResult<std::vector<TopicReply>>& result,
                                    const CreateTopicRequest& request, uint64_t random) {
  if (image_.topic(request.name) != nullptr) {
    return error_reply(ErrorCode::kTopicAlreadyExists,
                       "topic '" + request.name + "' already exists");
  }
  if (image_.topics().size() >= limits::kTopicsMax) {
    return error_reply(ErrorCode::kPolicyViolation, "the cluster has the most topics it keeps");
  }
  std::vector<std::vector<NodeId>> replicas;
  TopicReply reply = plan_assignments(request, random, &replicas);
  if (reply.error != ErrorCode::kNone) return reply;
  uint64_t state = random;
  do {
    for (size_t i = 0; i < reply.topic_id.size(); i += 8) {
      uint64_t v = splitmix64(state);
      for (size_t j = 0; j < 8; ++j) reply.topic_id[i + j] = uint8_t(v >> (8 * j));
    }
  } while (reply.topic_id == TopicId{} || image_.topic(reply.topic_id) != nullptr);
  emit(result, TopicRecord{request.name, reply.topic_id});
  for (const auto& [key, value] : request.configs) {
    emit(result, ConfigRecord{request.name, key, value});
  }
  for (size_t i = 0; i < replicas.size(); ++i) {
    std::vector<NodeId> isr;
    std::copy_if(replicas[i].begin(), replicas[i].end(), std::back_inserter(isr),
                 [&](NodeId n) { return image_.is_active(n); });
    emit(result, PartitionRecord{reply.topic_id, int32_t(i), replicas[i], isr, isr.front(),
                                 LeaderEpoch(0), 0});
  }
  return reply;
}

ControllerResult<std::vector<TopicReply>> Controller::on_create_topics(
    const std::vector<CreateTopicRequest>& requests, uint64_t random) {
  ControllerResult<std::vector<TopicReply>> result;
  uint64_t state = random;
  for (const CreateTopicRequest& request : requests) {
    result.reply.push_back(create_topic(result, request, splitmix64(state)));
  }
  check_invariants();
  return result;
}

ControllerResult<std::vector<TopicReply>> Controller::on_delete_topics(
    const std::vector<std::string>& names) {
  ControllerResult<std::vector<TopicReply>> result;
  for (const std::string& name : names) {
    const TopicImage* t = image_.topic(name);
    if (t == nullptr) {
      result.reply.push_back(unknown_topic(name));
      continue;
    }
    TopicReply reply;
    reply.topic_id = t->id;
    reply.partitions = int32_t(t->partitions.size());
    emit(result, RemoveTopicRecord{t->id});
    result.reply.push_back(reply);
  }
  check_invariants();
  return result;
}

ControllerResult<TopicReply> Controller::on_create_partitions(const std::string& name,
                                                              int32_t total, uint64_t random) {
  ControllerResult<TopicReply> result;
  const TopicImage* t = image_.topic(name);
  if (t == nullptr) {
    result.reply = unknown_topic(name);
    return result;
  }
  const int32_t current = int32_t(t->partitions.size());
  if (total <= current || total > limits::kPartitionsPerTopicMax) {
    result.reply = error_reply(ErrorCode::kInvalidPartitions,
                               "topic has " + std::to_string(current) +
                                   " partitions; the new count must be above that and at most " +
                                   std::to_string(limits::kPartitionsPerTopicMax));
    return result;
  }
  const int32_t rf = int32_t(t->partitions.front().replicas.size());
  std::vector<NodeId> active = active_brokers();
  if (size_t(rf) > active.size()) {
    result.reply = too_few_brokers(rf, active.size());
    return result;
  }
  const TopicId id = t->id;
  auto replicas = place_replicas(active, {current, total - current, rf, random});
  for (size_t i = 0; i < replicas.size(); ++i) {
    emit(result, PartitionRecord{id, current + int32_t(i), replicas[i], replicas[i],
                                 replicas[i].front(), LeaderEpoch(0), 0});
  }
  result.reply.topic_id = id;
  result.reply.partitions = total;
  result.reply.replication_factor = int16_t(rf);
  check_invariants();
  return result;
}

ControllerResult<TopicReply> Controller::on_alter_topic_configs(
    const std::string& name, const std::map<std::string, std::string>& overrides) {
  ControllerResult<TopicReply> result;
  const TopicImage* t = image_.topic(name);
  if (t == nullptr) {
    result.reply = unknown_topic(name);
    return result;
  }
  result.reply.topic_id = t->id;
  const std::map<std::string, std::string> current = t->configs;
  for (const auto& [key, value] : current) {
    if (!overrides.contains(key)) emit(result, ConfigRecord{name, key, std::nullopt});
  }
  for (const auto& [key, value] : overrides) {
    auto it = current.find(key);
    if (it == current.end() || it->second != value) emit(result, ConfigRecord{name, key, value});
  }
  return result;
}

ControllerResult<AlterPartitionReply> Controller::on_alter_partition(
    const AlterPartitionRequest& request) {
  ControllerResult<AlterPartitionReply> result;
  AlterPartitionReply& reply = result.reply;
  reply.error = check_broker(request.broker_id, request.broker_epoch);
  if (reply.error != ErrorCode::kNone) return result;
  const PartitionRegistration* p = image_.partition(request.topic_id, request.partition);
  if (p == nullptr) {
    reply.error = ErrorCode::kUnknownTopicOrPartition;
    return result;
  }
  reply.partition = *p;
  if (p->leader != request.broker_id) {
    reply.error = ErrorCode::kNotLeaderOrFollower;
  } else if (request.leader_epoch != p->leader_epoch) {
    reply.error = request.leader_epoch < p->leader_epoch ? ErrorCode::kFencedLeaderEpoch
                                                         : ErrorCode::kNotLeaderOrFollower;
  } else if (request.partition_epoch != p->partition_epoch) {
    // The leader's view is stale (the controller changed the ISR meanwhile).
    reply.error = ErrorCode::kInvalidUpdateVersion;
  }
  if (reply.error != ErrorCode::kNone) return result;
  std::set<NodeId> distinct(request.new_isr.begin(), request.new_isr.end());
  bool has_leader = distinct.contains(request.broker_id);
  bool replicas_only = std::all_of(request.new_isr.begin(), request.new_isr.end(),
                                   [&](NodeId n) { return p->is_replica(n); });
  if (!has_leader || !replicas_only || distinct.size() != request.new_isr.size()) {
    reply.error = ErrorCode::kInvalidRequest;
    return result;
  }
  for (NodeId n : request.new_isr) {
    // KIP-841: a fenced broker may not join the ISR, or it could be elected while down.
    if (!p->in_isr(n) && !image_.is_active(n)) {
      reply.error = ErrorCode::kIneligibleReplica;
      return result;
    }
  }
  if (request.new_isr != p->isr) {
    emit(result,
         PartitionChangeRecord{request.topic_id, request.partition, {}, request.new_isr, {}});
  }
  reply.partition = *image_.partition(request.topic_id, request.partition);
  check_invariants();
  return result;
}

ControllerResult<ProducerIdsReply> Controller::on_allocate_producer_ids(NodeId broker_id,
                                                                        int64_t broker_epoch) {
  ControllerResult<ProducerIdsReply> result;
  result.reply.error = check_broker(broker_id, broker_epoch);
  if (result.reply.error != ErrorCode::kNone) return result;
  const int64_t first = image_.next_producer_id();
  const int64_t count = config_.producer_id_block_size;
  STRATA_ASSERT(count > 0, "producer id blocks are not empty");
  emit(result, ProducerIdsRecord{broker_id, broker_epoch, first + count});
  result.reply.first_producer_id = first;
  result.reply.count = count;
  return result;
}

ControllerResult<ProducerIdsReply> Controller::on_reserve_producer_ids(NodeId broker_id,
                                                                       int64_t broker_epoch,
                                                                       int64_t floor) {
  ControllerResult<ProducerIdsReply> result;
  result.reply.error = check_broker(broker_id, broker_epoch);
  if (result.reply.error != ErrorCode::kNone) return result;
  if (floor > image_.next_producer_id()) {
    emit(result, ProducerIdsRecord{broker_id, broker_epoch, floor});
  }
  return result;
}

}  // namespace strata::controller
