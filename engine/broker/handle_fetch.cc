// Fetch: byte-range reads of whole batches below the high watermark (the last stable offset
// for read_committed, equal to it while there are no transactions). Honours max_bytes (capped
// by fetch.max.bytes) and partition_max_bytes with KIP-74's rule (the response's first batch
// is returned even when larger, no other batch is), and min_bytes/max_wait_ms by parking the
// request in the fetch purgatory until enough data arrives or the wait ends — no polling.
#include <algorithm>

#include "engine/broker/handlers.h"
#include "engine/protocol/messages.h"

namespace strata::broker {
namespace {

using proto::ErrorCode;
using Response = proto::FetchResponse;

int16_t code(ErrorCode e) { return static_cast<int16_t>(e); }

class FetchOperation final : public DelayedOperation {
 public:
  FetchOperation(Broker& b, RequestContext ctx, proto::FetchRequest req)
      : b_(b), ctx_(std::move(ctx)), req_(std::move(req)) {}

  bool try_complete() override {
    if (!b_.connection_open(ctx_.slot.conn)) return true;  // nobody to answer
    Attempt a = read_all();
    if (a.errors || a.bytes >= int64_t(std::max(req_.min_bytes, 1)) || req_.max_wait_ms <= 0) {
      b_.respond(ctx_, a.response);
      return true;
    }
    return false;
  }
  void on_expire() override {
    if (!b_.connection_open(ctx_.slot.conn)) return;
    Attempt a = read_all();
    b_.respond(ctx_, a.response);
  }
  std::string describe() const override {
    return "Fetch from " + ctx_.peer.to_string() + " min_bytes=" +
           std::to_string(req_.min_bytes) + " max_wait_ms=" + std::to_string(req_.max_wait_ms);
  }
  std::vector<std::string> watch_keys() const {
    std::vector<std::string> keys;
    for (const auto& t : req_.topics) {
      for (const auto& p : t.partitions) {
        keys.push_back(t.topic + "-" + std::to_string(p.partition));
      }
    }
    return keys;
  }
  Duration max_wait() const {
    int32_t ms = std::clamp(req_.max_wait_ms, 0, limits::kFetchMaxWaitMsMax);
    return std::chrono::milliseconds(ms);
  }

 private:
  struct Attempt {
    Response response;
    std::vector<std::shared_ptr<Bytes>> buffers;  // own the bytes `response` views
    int64_t bytes = 0;
    bool errors = false;
  };

  void read_partition(const std::string& topic, const proto::FetchRequest::FetchPartition& fp,
                      PartitionReplica* p,
                      int64_t& budget, Attempt& a, Response::PartitionData& out) {
    out.partition_index = fp.partition;
    out.aborted_transactions = std::vector<Response::AbortedTransaction>{};
    // Never null: librdkafka cannot parse a null record set, even beside an error code.
    out.records = ByteSpan();
    if (p == nullptr) {
      out.error_code = code(b_.topics().missing_partition_error(topic, fp.partition));
      out.high_watermark = out.last_stable_offset = -1;
      a.errors = true;
      return;
    }
    if (!p->is_leader) {
      out.error_code = code(ErrorCode::kNotLeaderOrFollower);
      out.high_watermark = out.last_stable_offset = -1;
      a.errors = true;
      return;
    }
    Offset hw = p->high_watermark();
    out.high_watermark = out.last_stable_offset = hw.value();
    out.log_start_offset = p->log->log_start_offset().value();
    if (fp.current_leader_epoch >= 0 && fp.current_leader_epoch != p->leader_epoch.value()) {
      out.error_code = code(fp.current_leader_epoch > p->leader_epoch.value()
                                ? ErrorCode::kUnknownLeaderEpoch
                                : ErrorCode::kFencedLeaderEpoch);
      a.errors = true;
      return;
    }
    // KIP-74: until something was returned, the first batch may exceed the budget.
    int32_t max = int32_t(std::min<int64_t>(fp.partition_max_bytes, budget));
    if (max <= 0 && a.bytes > 0) return;
    auto read = p->log->read(Offset(fp.fetch_offset), std::max(max, 1), hw);
    // Only the response's first batch may exceed the limits; later partitions get what fits,
    // else nothing (Kafka's minOneMessage is false for them).
    if (read && a.bytes > 0 && int64_t(read->records.size()) > max) return;
    take_read(std::move(read), budget, a, out);
  }

  // Puts a log read into `out` (its bytes kept alive by `a`), or its error.
  static void take_read(Result<ReadResult> read, int64_t& budget, Attempt& a,
                        Response::PartitionData& out) {
    if (!read) {
      out.error_code = read.status().code() == StatusCode::kOutOfRange
                           ? code(ErrorCode::kOffsetOutOfRange)
                           : code(ErrorCode::kKafkaStorageError);
      a.errors = true;
      return;
    }
    auto buf = std::make_shared<Bytes>(std::move(read->records));
    a.bytes += int64_t(buf->size());
    budget -= int64_t(buf->size());
    out.records = ByteSpan(*buf);
    a.buffers.push_back(std::move(buf));
  }

  // Brokers (replica id >= 0) follow the controller's metadata log. Every record in it is
  // committed (the single voter syncs it before answering), so it is read to its end.
  void read_metadata_log(const proto::FetchRequest::FetchPartition& fp, int64_t& budget,
                         Attempt& a, Response::PartitionData& out) {
    out.partition_index = fp.partition;
    out.aborted_transactions = std::vector<Response::AbortedTransaction>{};
    out.records = ByteSpan();
    MetadataLog* log = b_.topics().metadata_log();
    if (req_.replica_id < 0 || fp.partition != 0 || log == nullptr) {
      out.error_code = code(log == nullptr ? ErrorCode::kNotLeaderOrFollower
                                           : ErrorCode::kUnknownTopicOrPartition);
      out.high_watermark = out.last_stable_offset = -1;
      a.errors = true;
      return;
    }
    Offset end = log->log_end_offset();
    out.high_watermark = out.last_stable_offset = end.value();
    out.log_start_offset = 0;
    int32_t max = int32_t(std::clamp<int64_t>(std::min<int64_t>(fp.partition_max_bytes, budget),
                                              1, INT32_MAX));
    take_read(log->read(Offset(fp.fetch_offset), max), budget, a, out);
  }

  Attempt read_all() {
    Attempt a;
    // Below v3 a request has no limit of its own; fetch.max.bytes bounds every response, so
    // a request naming one partition many times cannot make it gigabytes.
    int64_t asked = ctx_.version() >= 3 ? req_.max_bytes : INT32_MAX;
    int64_t budget = std::min<int64_t>(asked, b_.config().fetch_max_bytes);
    for (const auto& ft : req_.topics) {
      Response::FetchableTopic rt;
      rt.topic = ft.topic;
      for (const auto& fp : ft.partitions) {
        Response::PartitionData pd;
        if (ft.topic == kClusterMetadataTopic) {
          read_metadata_log(fp, budget, a, pd);
        } else {
          read_partition(ft.topic, fp, b_.topics().find(ft.topic, fp.partition), budget, a, pd);
        }
        rt.partitions.push_back(std::move(pd));
      }
      a.response.responses.push_back(std::move(rt));
    }
    return a;
  }

  Broker& b_;
  RequestContext ctx_;
  proto::FetchRequest req_;
};

}  // namespace

Status handle_fetch(Broker& b, const RequestContext& ctx, ByteReader& body) {
  proto::FetchRequest req;
  STRATA_RETURN_IF_ERROR(req.decode(body, ctx.version()));
  auto op = std::make_unique<FetchOperation>(b, ctx, std::move(req));
  auto keys = op->watch_keys();
  Duration wait = op->max_wait();
  if (!b.fetch_purgatory().try_complete_else_watch(std::move(op), keys, wait)) {
    b.runtime().warn("fetch", "fetch purgatory full; answered without waiting");
  }
  return ok_status();
}

}  // namespace strata::broker
