// InitProducerId: an idempotent producer (transactional_id null) gets a fresh producer id
// with epoch 0, as Kafka's coordinator answers a null transactional id whatever producer id
// and epoch (v3+) the request names. Transactional ids need a transaction coordinator, which
// this broker does not have: they are refused.
#include "engine/broker/handlers.h"
#include "engine/protocol/messages.h"

namespace strata::broker {

Status handle_init_producer_id(Broker& b, const RequestContext& ctx, ByteReader& body) {
  proto::InitProducerIdRequest req;
  STRATA_RETURN_IF_ERROR(req.decode(body, ctx.version()));
  proto::InitProducerIdResponse resp;
  resp.producer_id = -1;
  resp.producer_epoch = -1;
  if (req.transactional_id.has_value()) {
    resp.error_code = static_cast<int16_t>(proto::ErrorCode::kTransactionalIdAuthorizationFailed);
    b.runtime().info("producer-ids", "refused transactional.id '" + *req.transactional_id +
                                         "' from " + ctx.peer.to_string() +
                                         ": transactions are not supported yet");
  } else if (auto id = b.topics().allocate_producer_id(); !id) {
    // Waiting for a block from a remote controller is retriable; a failed write is not.
    bool waiting = id.status().code() == StatusCode::kUnavailable;
    resp.error_code = static_cast<int16_t>(waiting ? proto::ErrorCode::kCoordinatorNotAvailable
                                                   : proto::ErrorCode::kKafkaStorageError);
    if (!waiting) {
      b.runtime().error("producer-ids", "cannot claim a producer id block: " +
                                            id.status().to_string());
    }
  } else {
    resp.producer_id = *id;
    resp.producer_epoch = 0;
  }
  b.respond(ctx, resp);
  return ok_status();
}

}  // namespace strata::broker
