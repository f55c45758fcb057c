// ApiVersions: which APIs and versions this broker serves. Always answered with response
// header v0 (framing knows), even for the flexible v3 body.
#include "engine/broker/handlers.h"
#include "engine/protocol/api_keys.h"
#include "engine/protocol/messages.h"

namespace strata::broker {

Status handle_api_versions(Broker& b, const RequestContext& ctx, ByteReader& body) {
  proto::ApiVersionsRequest req;
  STRATA_RETURN_IF_ERROR(req.decode(body, ctx.version()));
  proto::ApiVersionsResponse resp;
  for (const auto& api : proto::supported_apis()) {
    int16_t key = proto::to_int(api.key);
    if (!broker_serves(key)) continue;
    proto::ApiVersionsResponse::ApiVersion v;
    v.api_key = key;
    v.min_version = api.min_version;
    v.max_version = api.max_version;
    resp.api_keys.push_back(v);
  }
  b.respond(ctx, resp);
  return ok_status();
}

}  // namespace strata::broker
