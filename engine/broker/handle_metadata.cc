// Metadata: brokers, the controller, and for each topic its partitions with leader, epoch,
// replicas and ISR. Unknown topics are auto-created when both the request (v4+) and
// auto.create.topics.enable allow it.
#include "engine/broker/handlers.h"
#include "engine/protocol/messages.h"

namespace strata::broker {
namespace {

using proto::ErrorCode;
using Response = proto::MetadataResponse;

Response::TopicMetadata describe_topic(Broker& b, const std::string& name, const Topic& t) {
  Response::TopicMetadata tm;
  tm.name = name;
  tm.is_internal = name == group::kOffsetsTopic;
  int32_t self = b.node_id().value();
  for (const auto& p : t.partitions) {
    Response::PartitionMetadata pm;
    pm.partition_index = p->index;
    pm.leader_id = self;
    pm.leader_epoch = p->leader_epoch.value();
    pm.replica_nodes = {self};
    pm.isr_nodes = {self};
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
    b.runtime().warn("metadata", "auto-creating " + name + ": " + err.message);
    tm.error_code = static_cast<int16_t>(ErrorCode::kLeaderNotAvailable);
    return tm;
  }
  return describe_topic(b, name, *b.topics().find(name));
}

}  // namespace

Status handle_metadata(Broker& b, const RequestContext& ctx, ByteReader& body) {
  proto::MetadataRequest req;
  STRATA_RETURN_IF_ERROR(req.decode(body, ctx.version()));
  Response resp;
  Endpoint adv = b.advertised();
  resp.brokers.push_back({b.node_id().value(), adv.host, adv.port, std::nullopt});
  resp.cluster_id = b.topics().cluster_id();
  resp.controller_id = b.node_id().value();
  // v0: an empty list means all topics; v1+: null means all, empty means none.
  bool all = !req.topics.has_value() || (ctx.version() == 0 && req.topics->empty());
  if (all) {
    for (const auto& [name, t] : b.topics().topics()) {
      resp.topics.push_back(describe_topic(b, name, t));
    }
  } else {
    bool may_create = b.config().auto_create_topics_enable &&
                      (ctx.version() < 4 || req.allow_auto_topic_creation);
    for (const auto& rt : *req.topics) {
      const Topic* t = b.topics().find(rt.name);
      resp.topics.push_back(t ? describe_topic(b, rt.name, *t)
                              : missing_topic(b, rt.name, may_create));
    }
  }
  b.respond(ctx, resp);
  return ok_status();
}

}  // namespace strata::broker
