// CreateTopics, DeleteTopics and CreatePartitions: topic administration. Every change is
// written (and synced) to the metadata log before it is acknowledged.
#include <set>

#include "engine/broker/handlers.h"
#include "engine/protocol/messages.h"

namespace strata::broker {
namespace {

using proto::ErrorCode;

std::optional<std::string> message_of(const AdminError& e) {
  if (e.ok()) return std::nullopt;
  return response_message(e.message);
}

}  // namespace

Status handle_create_topics(Broker& b, const RequestContext& ctx, ByteReader& body) {
  proto::CreateTopicsRequest req;
  STRATA_RETURN_IF_ERROR(req.decode(body, ctx.version()));
  proto::CreateTopicsResponse resp;
  std::set<std::string> seen;
  for (const auto& t : req.topics) {
    proto::CreateTopicsResponse::TopicResult r;
    r.name = t.name;
    AdminError err;
    if (!seen.insert(t.name).second) {
      err = {ErrorCode::kInvalidRequest, "Duplicate topic name in the request."};
    } else {
      CreateTopicSpec spec;
      spec.name = t.name;
      spec.partitions = t.num_partitions;
      spec.replication_factor = t.replication_factor;
      // A client's own replica assignment; the controller checks it.
      for (const auto& a : t.assignments) {
        auto& nodes = spec.assignments[a.partition_index];
        for (int32_t id : a.broker_ids) nodes.emplace_back(id);
      }
      spec.validate_only = req.validate_only;
      for (const auto& c : t.configs) {
        if (c.value) spec.configs[c.name] = *c.value;
      }
      err = b.topics().create_topic(spec);
    }
    r.error_code = static_cast<int16_t>(err.code);
    r.error_message = message_of(err);
    resp.topics.push_back(std::move(r));
  }
  b.respond(ctx, resp);
  return ok_status();
}

Status handle_delete_topics(Broker& b, const RequestContext& ctx, ByteReader& body) {
  proto::DeleteTopicsRequest req;
  STRATA_RETURN_IF_ERROR(req.decode(body, ctx.version()));
  proto::DeleteTopicsResponse resp;
  for (const auto& name : req.topic_names) {
    proto::DeleteTopicsResponse::TopicResult r;
    r.name = name;
    AdminError err = b.topics().delete_topic(name);
    r.error_code = static_cast<int16_t>(err.code);
    resp.responses.push_back(std::move(r));
  }
  b.respond(ctx, resp);
  return ok_status();
}

Status handle_create_partitions(Broker& b, const RequestContext& ctx, ByteReader& body) {
  proto::CreatePartitionsRequest req;
  STRATA_RETURN_IF_ERROR(req.decode(body, ctx.version()));
  proto::CreatePartitionsResponse resp;
  for (const auto& t : req.topics) {
    proto::CreatePartitionsResponse::TopicResult r;
    r.name = t.name;
    AdminError err;
    if (t.assignments.has_value()) {
      err = {ErrorCode::kInvalidReplicaAssignment,
             "Manual replica assignment is not supported by this broker."};
    } else {
      err = b.topics().create_partitions(t.name, t.count, req.validate_only);
    }
    r.error_code = static_cast<int16_t>(err.code);
    r.error_message = message_of(err);
    resp.results.push_back(std::move(r));
  }
  b.respond(ctx, resp);
  return ok_status();
}

}  // namespace strata::broker
