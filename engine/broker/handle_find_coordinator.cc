// FindCoordinator: which broker coordinates a group — the leader of the group's
// __consumer_offsets partition (Broker::group_coordinator_node), created here if needed.
// Advertised from v0 because librdkafka 2.0.2 enables groups (and LZ4) only when v0 is in the
// broker's range.
// Transaction coordinators (key_type 1) are not implemented yet.
#include "engine/broker/handlers.h"
#include "engine/protocol/messages.h"

namespace strata::broker {

Status handle_find_coordinator(Broker& b, const RequestContext& ctx, ByteReader& body) {
  proto::FindCoordinatorRequest req;
  STRATA_RETURN_IF_ERROR(req.decode(body, ctx.version()));
  proto::FindCoordinatorResponse resp;
  if (req.key_type != 0) {
    resp.error_code = static_cast<int16_t>(proto::ErrorCode::kCoordinatorNotAvailable);
    resp.error_message = "Transactions are not supported yet.";
    resp.node_id = -1;
  } else if (req.key.empty()) {
    resp.error_code = static_cast<int16_t>(proto::ErrorCode::kInvalidGroupId);
    resp.error_message = "The group id is empty.";
    resp.node_id = -1;
  } else {
    // As in Kafka, the first group to look for its coordinator creates __consumer_offsets;
    // COORDINATOR_NOT_AVAILABLE until its partition has a leader.
    b.ensure_offsets_topic();
    NodeId node = b.group_coordinator_node(req.key);
    const controller::BrokerRegistration* reg = b.topics().image().broker(node);
    if (node == b.node_id()) {
      Endpoint at = b.advertised();
      resp.node_id = node.value();
      resp.host = at.host;
      resp.port = at.port;
    } else if (reg != nullptr && !reg->fenced && !reg->endpoints.empty()) {
      resp.node_id = node.value();
      resp.host = reg->endpoints.front().host;
      resp.port = reg->endpoints.front().port;
    } else {
      resp.error_code = static_cast<int16_t>(proto::ErrorCode::kCoordinatorNotAvailable);
      resp.node_id = -1;
    }
  }
  b.respond(ctx, resp);
  return ok_status();
}

}  // namespace strata::broker
