// Metadata: brokers, the controller, and for each topic its partitions with leader, epoch,
// replicas and ISR — all as the controller's metadata image has them. Unknown topics are
// auto-created when both the request (v4+) and auto.create.topics.enable allow it.
#include <algorithm>

#include "engine/broker/handlers.h"
#include "engine/protocol/messages.h"

namespace strata::broker {
namespace {

using proto::ErrorCode;
using Response = proto::MetadataResponse;

Response::TopicMetadata describe_topic(const controller::TopicImage& t) {
  Response::TopicMetadata tm;
  tm.name = t.name;
  tm.is_internal = t.name == group::kOffsetsTopic;
  auto ids = [](const std::vector<NodeId>& nodes) {
    std::vector<int32_t> out;
    for (NodeId n : nodes) out.push_back(n.value());
    return out;
  };
  for (size_t i = 0; i < t.partitions.size(); ++i) {
    const controller::PartitionRegistration& reg = t.partitions[i];
    Response::PartitionMetadata pm;
    pm.partition_index = int32_t(i);
    pm.leader_id = reg.leader.value();
    pm.leader_epoch = reg.leader_epoch.value();
    pm.replica_nodes = ids(reg.replicas);
    pm.isr_nodes = ids(reg.isr);
    if (!reg.has_leader()) pm.error_code = static_cast<int16_t>(ErrorCode::kLeaderNotAvailable);
    tm.partitions.push_back(std::move(pm));
  }
  return tm;
}

Response::TopicMetadata missing_topic(Broker& b, const std::string& name, bool may_create) {
  Response::TopicMetadata tm;
  tm.name = name;
  if (Status s = validate_topic_name(name); !s) {
    tm.error_code = static_cast<int16_t>(ErrorCode::kInvalidTopicException);
    return tm;
  }
  if (!may_create) {
    tm.error_code = static_cast<int16_t>(ErrorCode::kUnknownTopicOrPartition);
    return tm;
  }
  AdminError err = b.auto_create_topic(name);
  if (!err.ok() && err.code != ErrorCode::kTopicAlreadyExists) {
    if (err.code != ErrorCode::kLeaderNotAvailable) {
      b.runtime().warn("metadata", "auto-creating " + name + ": " + err.message);
    }
    tm.error_code = static_cast<int16_t>(ErrorCode::kLeaderNotAvailable);
    return tm;
  }
  const controller::TopicImage* t = b.topics().image().topic(name);
  if (t == nullptr) {
    tm.error_code = static_cast<int16_t>(ErrorCode::kLeaderNotAvailable);
    return tm;
  }
  return describe_topic(*t);
}

}  // namespace

Status handle_metadata(Broker& b, const RequestContext& ctx, ByteReader& body) {
  proto::MetadataRequest req;
  STRATA_RETURN_IF_ERROR(req.decode(body, ctx.version()));
  Response resp;
  // The live brokers, as registered with the controller, and this one, which is alive even
  // before the controller has unfenced it.
  const controller::MetadataImage& image = b.topics().image();
  Endpoint adv = b.advertised();
  resp.brokers.push_back({b.node_id().value(), adv.host, adv.port, std::nullopt});
  for (const auto& [id, reg] : image.brokers()) {
    if (reg.fenced || reg.endpoints.empty() || id == b.node_id()) continue;
    const controller::BrokerEndpoint& e = reg.endpoints.front();
    resp.brokers.push_back({id.value(), e.host, e.port, reg.rack});
  }
  resp.cluster_id = b.topics().cluster_id();
  resp.controller_id =
      b.config().controller ? b.config().controller->id.value() : b.node_id().value();
  // v0: an empty list means all topics; v1+: null means all, empty means none.
  bool all = !req.topics.has_value() || (ctx.version() == 0 && req.topics->empty());
  if (all) {
    std::vector<const controller::TopicImage*> by_name;
    for (const auto& [id, t] : image.topics()) by_name.push_back(&t);
    std::sort(by_name.begin(), by_name.end(),
              [](const auto* x, const auto* y) { return x->name < y->name; });
    for (const auto* t : by_name) resp.topics.push_back(describe_topic(*t));
  } else {
    bool may_create = b.config().auto_create_topics_enable &&
                      (ctx.version() < 4 || req.allow_auto_topic_creation);
    for (const auto& rt : *req.topics) {
      const controller::TopicImage* t = image.topic(rt.name);
      resp.topics.push_back(t ? describe_topic(*t) : missing_topic(b, rt.name, may_create));
    }
  }
  b.respond(ctx, resp);
  return ok_status();
}

}  // namespace strata::broker
