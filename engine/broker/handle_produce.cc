// Produce: validate each partition's batches (CRC, framing, codec), assign offsets, stamp the
// leader epoch (and LogAppendTime where the topic asks for it), append to the partition log.
// acks=0 gets no response; acks=1 and acks=-1 are answered after the append — without
// followers yet the ISR is the leader alone, so "all in-sync replicas" have the data then.
// Only the partition's leader (the controller's choice) takes records.
// Batches of idempotent producers pass the partition's sequence check first
// (producer_state.h).
#include "engine/broker/handlers.h"
#include "engine/protocol/messages.h"
#include "engine/protocol/record_batch.h"

namespace strata::broker {
namespace {

using proto::ErrorCode;
using Response = proto::ProduceResponse;

int16_t code(ErrorCode e) { return static_cast<int16_t>(e); }

// Appends one partition's records; fills `out`. `frame` owns the bytes `records` views.
// Returns whether the log grew.
bool produce_partition(Broker& b, const RequestContext& ctx, PartitionReplica& p,
                       ByteSpan records, Response::PartitionResponse& out) {
  const Topic& topic = *b.topics().find(p.topic);
  if (records.size() > size_t(topic.config.max_message_bytes) + 12) {
    out.error_code = code(ErrorCode::kMessageTooLarge);
    return false;
  }
  // Old message sets (magic 0/1) put their magic byte at the same position as batch v2; say
  // so precisely instead of reporting a short or corrupt batch.
  if (records.size() > batch_format::kMagicAt &&
      int8_t(records[batch_format::kMagicAt]) != batch_format::kMagicV2) {
    b.runtime().warn("produce", p.key() + " from " + ctx.peer.to_string() +
                                    ": message format magic " +
                                    std::to_string(int(records[batch_format::kMagicAt])) +
                                    " is not supported (record batch v2 only)");
    out.error_code = code(ErrorCode::kInvalidRecord);
    return false;
  }
  AppendValidationOptions options;
  options.require_keys = p.log->config().cleanup_compact;
  AppendValidation v = validate_for_append(records, options);
  if (!v.ok()) {
    b.runtime().warn("produce", p.key() + " from " + ctx.peer.to_string() + ": " +
                                    v.status.message());
    out.error_code = v.error_code();
    return false;
  }
  // An idempotent producer's batch is checked against the sequence state; a retry of a
  // batch already written is acknowledged again with its offsets and not written twice.
  const BatchInfo* idempotent = nullptr;
  for (const BatchInfo& info : v.batches) {
    if (info.transactional || info.control) {
      // Transactions need a transaction coordinator, which is not served yet.
      out.error_code = code(ErrorCode::kUnsupportedForMessageFormat);
      return false;
    }
    if (info.producer_id >= 0) idempotent = &info;
  }
  if (idempotent != nullptr) {
    const BatchInfo& info = *idempotent;
    if (v.batches.size() != 1 || info.base_sequence < 0 || info.producer_epoch < 0) {
      b.runtime().warn("produce", p.key() + " from " + ctx.peer.to_string() +
                                      ": an idempotent produce must carry exactly one batch "
                                      "with a producer epoch and base sequence");
      out.error_code = code(ErrorCode::kInvalidRecord);
      return false;
    }
    SequenceCheck check =
        p.producers.check(info.producer_id, info.producer_epoch, info.base_sequence,
                          last_sequence(info.base_sequence, info.records_count));
    if (check.duplicate != nullptr) {
      out.base_offset = check.duplicate->first_offset;
      out.log_append_time_ms = check.duplicate->timestamp_ms;
      out.log_start_offset = p.log->log_start_offset().value();
      ++b.stats().duplicate_batches;
      return false;
    }
    if (!check.append()) {
      b.runtime().info("produce", p.key() + " from " + ctx.peer.to_string() + ": " + check.why);
      out.error_code = code(check.error);
      return false;
    }
  }
  // The records view points into the request frame, which this request owns: stamp in place.
  auto* base = ctx.frame->data();
  std::span<uint8_t> mutable_records(base + (records.data() - base), records.size());
  int64_t now_ms = b.runtime().wall_clock_ms();
  if (topic.config.message_timestamp_type == "LogAppendTime") {
    for (const BatchInfo& info : v.batches) {
      set_log_append_time(mutable_records.subspan(info.position, info.size_bytes), now_ms);
    }
  }
  auto appended = p.log->append(mutable_records, p.leader_epoch, now_ms);
  if (!appended) {
    b.runtime().error("produce", p.key() + ": append failed: " + appended.status().to_string());
    out.error_code = code(ErrorCode::kKafkaStorageError);
    return false;
  }
  if (idempotent != nullptr) {
    ProducerBatch written{idempotent->base_sequence,
                          last_sequence(idempotent->base_sequence, idempotent->records_count),
                          appended->first_offset.value(), appended->last_offset.value(),
                          appended->log_append_time_ms};
    // The batch's max timestamp as stored: LogAppendTime replaced it with the append time.
    int64_t max_timestamp =
        appended->log_append_time_ms != -1 ? appended->log_append_time_ms
                                           : idempotent->max_timestamp;
    p.producers.record(idempotent->producer_id, idempotent->producer_epoch, written,
                       max_timestamp);
  }
  out.base_offset = appended->first_offset.value();
  out.log_append_time_ms = appended->log_append_time_ms;
  out.log_start_offset = appended->log_start_offset.value();
  int64_t count = 0;
  for (const BatchInfo& info : v.batches) count += info.records_count;
  b.stats().records_in += count;
  b.stats().bytes_in += records.size();
  return true;
}

}  // namespace

Status handle_produce(Broker& b, const RequestContext& ctx, ByteReader& body) {
  proto::ProduceRequest req;
  STRATA_RETURN_IF_ERROR(req.decode(body, ctx.version()));
  Response resp;
  // Fetches waiting on the partitions this request grows are woken once the whole request is
  // appended, as Kafka completes delayed operations after a request: a consumer of several
  // partitions then gets one answer with all of them, not one answer per partition.
  std::vector<PartitionReplica*> grown;
  bool acks_ok = req.acks == 0 || req.acks == 1 || req.acks == -1;
  for (const auto& td : req.topic_data) {
    Response::TopicResponse tr;
    tr.name = td.name;
    for (const auto& pd : td.partition_data) {
      Response::PartitionResponse pr;
      pr.index = pd.index;
      pr.base_offset = -1;
      PartitionReplica* p = b.topics().find(td.name, pd.index);
      if (!acks_ok) {
        pr.error_code = code(ErrorCode::kInvalidRequiredAcks);
      } else if (req.transactional_id.has_value()) {
        pr.error_code = code(ErrorCode::kTransactionalIdAuthorizationFailed);
      } else if (p == nullptr) {
        pr.error_code = code(b.topics().missing_partition_error(td.name, pd.index));
      } else if (!p->is_leader) {
        pr.error_code = code(ErrorCode::kNotLeaderOrFollower);
      } else if (td.name == group::kOffsetsTopic) {
        // Only the group coordinator writes its internal topic.
        pr.error_code = code(ErrorCode::kInvalidTopicException);
      } else if (!pd.records.has_value() || pd.records->empty()) {
        pr.error_code = code(ErrorCode::kCorruptMessage);
      } else {
        if (produce_partition(b, ctx, *p, *pd.records, pr)) grown.push_back(p);
      }
      tr.partition_responses.push_back(pr);
    }
    resp.responses.push_back(std::move(tr));
  }
  if (req.acks == 0) {
    // No response to carry an error: like Kafka, close the connection so the producer notices.
    for (const auto& tr : resp.responses) {
      for (const auto& pr : tr.partition_responses) {
        if (pr.error_code != 0) {
          b.close_connection(ctx, "acks=0 produce to " + tr.name + "-" +
                                      std::to_string(pr.index) + " failed with error " +
                                      std::to_string(pr.error_code));
          b.respond_nothing(ctx);
          for (PartitionReplica* p : grown) b.on_appended(*p);
          return ok_status();
        }
      }
    }
    b.respond_nothing(ctx);
  } else {
    b.respond(ctx, resp);
  }
  for (PartitionReplica* p : grown) b.on_appended(*p);
  return ok_status();
}

}  // namespace strata::broker
