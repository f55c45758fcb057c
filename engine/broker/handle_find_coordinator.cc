// FindCoordinator: which broker coordinates a group. Advertised from v0 because librdkafka
// 2.0.2 enables groups (and LZ4) only when v0 is in the broker's range. With one broker every
// group's __consumer_offsets partition is led here, so the answer is this broker; transaction
// coordinators (key_type 1) are not implemented yet.
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
    Endpoint at = b.advertised();
    resp.node_id = b.node_id().value();
    resp.host = at.host;
    resp.port = at.port;
  }
  b.respond(ctx, resp);
  return ok_status();
}

}  // namespace strata::broker
