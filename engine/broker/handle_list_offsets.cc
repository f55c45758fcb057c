// ListOffsets: earliest (-2) is the log start offset, latest (-1) the high watermark (the
// last stable offset for read_committed), any other timestamp the first offset whose record
// timestamp is at or after it (offset -1 when there is none).
#include "engine/broker/handlers.h"
#include "engine/protocol/messages.h"

namespace strata::broker {
namespace {

using proto::ErrorCode;
using Response = proto::ListOffsetsResponse;

constexpr int64_t kLatest = -1;
constexpr int64_t kEarliest = -2;

void list_partition(Broker& b, const std::string& topic, PartitionReplica* p,
                    const proto::ListOffsetsRequest::Partition& rp,
                    Response::PartitionResponse& out) {
  out.partition_index = rp.partition_index;
  if (p == nullptr) {
    out.error_code =
        static_cast<int16_t>(b.topics().missing_partition_error(topic, rp.partition_index));
    return;
  }
  if (!p->is_leader) {
    out.error_code = static_cast<int16_t>(ErrorCode::kNotLeaderOrFollower);
    return;
  }
  if (rp.current_leader_epoch >= 0 && rp.current_leader_epoch != p->leader_epoch.value()) {
    out.error_code = static_cast<int16_t>(rp.current_leader_epoch > p->leader_epoch.value()
                                              ? ErrorCode::kUnknownLeaderEpoch
                                              : ErrorCode::kFencedLeaderEpoch);
    return;
  }
  out.leader_epoch = p->leader_epoch.value();
  if (rp.timestamp == kLatest) {
    out.offset = p->high_watermark().value();
    return;
  }
  if (rp.timestamp == kEarliest) {
    out.offset = p->log->log_start_offset().value();
    return;
  }
  auto found = p->log->offset_for_timestamp(rp.timestamp);
  if (!found) {
    out.error_code = static_cast<int16_t>(ErrorCode::kKafkaStorageError);
    return;
  }
  if (*found && (*found)->offset < p->high_watermark()) {
    out.offset = (*found)->offset.value();
    out.timestamp = (*found)->timestamp_ms;
  }
}

}  // namespace

Status handle_list_offsets(Broker& b, const RequestContext& ctx, ByteReader& body) {
  proto::ListOffsetsRequest req;
  STRATA_RETURN_IF_ERROR(req.decode(body, ctx.version()));
  Response resp;
  for (const auto& t : req.topics) {
    Response::TopicResponse tr;
    tr.name = t.name;
    for (const auto& rp : t.partitions) {
      Response::PartitionResponse pr;
      list_partition(b, t.name, b.topics().find(t.name, rp.partition_index), rp, pr);
      tr.partitions.push_back(pr);
    }
    resp.topics.push_back(std::move(tr));
  }
  b.respond(ctx, resp);
  return ok_status();
}

}  // namespace strata::broker
