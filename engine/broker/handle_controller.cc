// BrokerRegistration, BrokerHeartbeat and AllocateProducerIds: what the other brokers of the
// cluster ask the controller (engine/broker/controller_link.h is the other side). A broker
// that is not the controller answers NOT_CONTROLLER.
#include "engine/broker/handlers.h"
#include "engine/protocol/messages.h"

namespace strata::broker {
namespace {

using proto::ErrorCode;

int16_t code(ErrorCode e) {
  return static_cast<int16_t>(e);
}

}  // namespace

Status handle_broker_registration(Broker& b, const RequestContext& ctx, ByteReader& body) {
  proto::BrokerRegistrationRequest req;
  STRATA_RETURN_IF_ERROR(req.decode(body, ctx.version()));
  proto::BrokerRegistrationResponse resp;
  if (!b.topics().is_controller()) {
    resp.error_code = code(ErrorCode::kNotController);
  } else if (req.cluster_id != b.topics().cluster_id()) {
    resp.error_code = code(ErrorCode::kInconsistentClusterId);
    b.runtime().warn("controller", "broker " + std::to_string(req.broker_id) +
                                       " registered for cluster " + req.cluster_id + ", this is " +
                                       b.topics().cluster_id());
  } else {
    controller::BrokerRegistrationRequest r;
    r.broker_id = NodeId(req.broker_id);
    r.incarnation = req.incarnation_id;
    for (const auto& l : req.listeners) r.endpoints.push_back({l.name, l.host, l.port});
    r.rack = req.rack;
    controller::BrokerRegistrationReply reply = b.topics().register_broker(r);
    resp.error_code = code(reply.error);
    resp.broker_epoch = reply.broker_epoch;
  }
  b.respond(ctx, resp);
  return ok_status();
}

Status handle_broker_heartbeat(Broker& b, const RequestContext& ctx, ByteReader& body) {
  proto::BrokerHeartbeatRequest req;
  STRATA_RETURN_IF_ERROR(req.decode(body, ctx.version()));
  proto::BrokerHeartbeatResponse resp;
  if (!b.topics().is_controller()) {
    resp.error_code = code(ErrorCode::kNotController);
  } else {
    controller::BrokerHeartbeatReply reply = b.topics().broker_heartbeat(
        {NodeId(req.broker_id), req.broker_epoch, Offset(req.current_metadata_offset),
         req.want_fence, req.want_shut_down});
    resp.error_code = code(reply.error);
    resp.is_caught_up = reply.is_caught_up;
    resp.is_fenced = reply.is_fenced;
    resp.should_shut_down = reply.should_shut_down;
  }
  b.respond(ctx, resp);
  return ok_status();
}

Status handle_allocate_producer_ids(Broker& b, const RequestContext& ctx, ByteReader& body) {
  proto::AllocateProducerIdsRequest req;
  STRATA_RETURN_IF_ERROR(req.decode(body, ctx.version()));
  proto::AllocateProducerIdsResponse resp;
  if (!b.topics().is_controller()) {
    resp.error_code = code(ErrorCode::kNotController);
  } else {
    controller::ProducerIdsReply reply =
        b.topics().allocate_producer_ids(NodeId(req.broker_id), req.broker_epoch);
    resp.error_code = code(reply.error);
    resp.producer_id_start = reply.first_producer_id;
    resp.producer_id_len = int32_t(reply.count);
  }
  b.respond(ctx, resp);
  return ok_status();
}

}  // namespace strata::broker
