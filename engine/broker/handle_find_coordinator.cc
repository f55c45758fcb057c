// FindCoordinator: advertised from v0 because librdkafka 2.0.2 enables LZ4 (and its group
// support) only when FindCoordinator v0 is in the broker's range. Group and transaction
// coordinators are not implemented yet, so the honest answer is COORDINATOR_NOT_AVAILABLE,
// which clients treat as retriable.
#include "engine/broker/handlers.h"
#include "engine/protocol/messages.h"

namespace strata::broker {

Status handle_find_coordinator(Broker& b, const RequestContext& ctx, ByteReader& body) {
  proto::FindCoordinatorRequest req;
  STRATA_RETURN_IF_ERROR(req.decode(body, ctx.version()));
  proto::FindCoordinatorResponse resp;
  resp.error_code = static_cast<int16_t>(proto::ErrorCode::kCoordinatorNotAvailable);
  resp.error_message = "The coordinator is not available.";
  resp.node_id = -1;
  b.respond(ctx, resp);
  return Status::ok();
}

}  // namespace strata::broker
