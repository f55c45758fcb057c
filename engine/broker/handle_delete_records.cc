// DeleteRecords: moves partitions' log start offsets forward (kafka-delete-records, kafkajs'
// deleteTopicRecords). Records below the new start are no longer readable: a fetch there gets
// OFFSET_OUT_OF_RANGE and ListOffsets(earliest) answers the new start. Segments wholly below
// it are deleted, and the new start is in the partition's checkpoint (synced) before the
// answer, so a restart does not bring the records back.
#include <string>

#include "engine/broker/handlers.h"
#include "engine/protocol/messages.h"

namespace strata::broker {
namespace {

using proto::ErrorCode;
using Response = proto::DeleteRecordsResponse;

constexpr int64_t kHighWatermark = -1;

Response::PartitionResult delete_in(Broker& b, const std::string& topic, int32_t index,
                                    int64_t offset) {
  Response::PartitionResult r;
  r.partition_index = index;
  r.low_watermark = -1;
  const Topic* t = b.topics().find(topic);
  PartitionReplica* p = b.topics().find(topic, index);
  if (p == nullptr) {
    r.error_code = static_cast<int16_t>(ErrorCode::kUnknownTopicOrPartition);
    return r;
  }
  if (t->config.cleanup_policy == "compact") {
    // Kafka refuses it too: a compacted topic's log start is the cleaner's business.
    r.error_code = static_cast<int16_t>(ErrorCode::kPolicyViolation);
    return r;
  }
  Offset hw = p->high_watermark();
  if (offset < kHighWatermark || offset > hw.value()) {
    r.error_code = static_cast<int16_t>(ErrorCode::kOffsetOutOfRange);
    return r;
  }
  Offset target = offset == kHighWatermark ? hw : Offset(offset);
  if (Status s = p->log->delete_records_before(target); !s) {
    b.runtime().error("broker", "DeleteRecords on " + p->key() + ": " + s.to_string());
    r.error_code = static_cast<int16_t>(ErrorCode::kKafkaStorageError);
    return r;
  }
  r.low_watermark = p->log->log_start_offset().value();
  return r;
}

}  // namespace

Status handle_delete_records(Broker& b, const RequestContext& ctx, ByteReader& body) {
  proto::DeleteRecordsRequest req;
  STRATA_RETURN_IF_ERROR(req.decode(body, ctx.version()));
  Response resp;
  for (const auto& t : req.topics) {
    Response::TopicResult tr;
    tr.name = t.name;
    for (const auto& part : t.partitions) {
      tr.partitions.push_back(delete_in(b, t.name, part.partition_index, part.offset));
    }
    resp.topics.push_back(std::move(tr));
  }
  b.respond(ctx, resp);
  return ok_status();
}

}  // namespace strata::broker
