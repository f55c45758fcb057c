// Consumer: assign-based reading (consumer groups come later), a sans-I/O state machine over
// Runtime.
//
// Per assigned partition the consumer keeps a position (the next offset to deliver). A
// partition without one — newly assigned, seek_to_beginning/end, or after
// OFFSET_OUT_OF_RANGE — asks its leader with ListOffsets (EARLIEST or LATEST, from
// auto.offset.reset or the seek); with auto.offset.reset = none it fails instead and the
// error callback says so.
//
// Fetching: one Fetch in flight per leader, covering every ready partition it leads, with
// fetch.min.bytes, fetch.max.wait.ms, max.partition.fetch.bytes, fetch.max.bytes and
// isolation.level. Batches are decoded whatever their codec; records below the position are
// skipped (a fetch may return a batch that starts earlier) and a trailing partial batch is
// dropped (the next fetch starts at it again). Control batches only advance the position.
//
// Records wait in a bounded queue that poll() drains, or go to a record callback. A Fetch is
// only sent while the queue has room (queue_records_max), so it overshoots by at most one
// response. seek() drops the partition's queued records and ignores answers to fetches sent
// before it.
//
// The Consumer owns its NetworkClient; callbacks run from the runtime loop.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/base/fifo.h"
#include "engine/client/network_client.h"
#include "engine/protocol/record_batch.h"

namespace strata::client {

enum class OffsetReset { kEarliest, kLatest, kNone };
Result<OffsetReset> parse_offset_reset(std::string_view name);

struct ConsumerConfig {
  OffsetReset auto_offset_reset = OffsetReset::kLatest;  // auto.offset.reset
  int32_t fetch_min_bytes = 1;                           // fetch.min.bytes
  int32_t fetch_max_wait_ms = 500;                       // fetch.max.wait.ms
  int32_t max_partition_fetch_bytes = 1024 * 1024;       // max.partition.fetch.bytes
  int32_t fetch_max_bytes = 50 * 1024 * 1024;            // fetch.max.bytes
  int8_t isolation_level = 0;  // isolation.level: 0 read_uncommitted, 1 read_committed
  int64_t request_timeout_ms = 30000;
  int64_t retry_backoff_ms = 100;
  size_t queue_records_max = 10000;  // at most limits::kConsumerQueueRecordsMax
};

Status validate(const ConsumerConfig& config);

struct ConsumerRecord {
  std::string topic;
  PartitionId partition{0};
  Offset offset{0};
  int64_t timestamp_ms = -1;
  bool log_append_time = false;  // timestamp type: LogAppendTime rather than CreateTime
  // Views into `storage`: the fetched (or decompressed) bytes the record was read from,
  // shared by the records of one fetch. A record, or a copy, stays valid however long it is
  // kept; nothing was copied to deliver it.
  std::optional<ByteSpan> key;
  std::optional<ByteSpan> value;
  std::vector<RecordHeader> headers;
  std::shared_ptr<const Bytes> storage;
};

struct PartitionProgress {
  std::optional<Offset> position;
  int64_t high_watermark = -1;     // from the last fetch answer; -1 before the first
  int64_t log_start_offset = -1;
  int64_t last_stable_offset = -1;
  // Times the position was set from ListOffsets (seek_to_beginning/end, auto.offset.reset).
  uint64_t offset_resets = 0;
  // high watermark - position, when both are known.
  std::optional<int64_t> lag() const {
    if (!position || high_watermark < 0) return std::nullopt;
    return std::max<int64_t>(0, high_watermark - position->value());
  }
};

struct ConsumerStats {
  uint64_t records = 0;
  uint64_t bytes = 0;  // key + value bytes delivered
  uint64_t fetches = 0;
  uint64_t offset_resets = 0;
};

class Consumer {
 public:
  using RecordCallback = std::function<void(const ConsumerRecord&)>;
  using ErrorCallback = std::function<void(const TopicPartition&, const Status&)>;

  Consumer(Runtime& rt, ClientOptions client, ConsumerConfig config);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // Replaces the assignment. Partitions kept keep their positions; new ones have none.
  void assign(const std::vector<TopicPartition>& partitions);
  const std::vector<TopicPartition>& assignment() const { return assignment_; }
  // `tp` must be assigned (a programmer error otherwise).
  void seek(const TopicPartition& tp, Offset offset);
  void seek_to_beginning(const std::vector<TopicPartition>& partitions);
  void seek_to_end(const std::vector<TopicPartition>& partitions);
  std::optional<Offset> position(const TopicPartition& tp) const;
  std::optional<PartitionProgress> progress(const TopicPartition& tp) const;
  // Per assigned partition with a position: the offset of the next record the application
  // will get, i.e. the oldest queued record, else the fetch position. This is what a group
  // member commits (records fetched but not yet polled are not consumed).
  std::map<TopicPartition, Offset> delivered_positions() const;
  // The error that stopped a partition (auto.offset.reset = none, corrupt data, ...).
  std::optional<Status> partition_error(const TopicPartition& tp) const;

  // With a record callback, records are handed over as they arrive and poll() returns none.
  void set_record_callback(RecordCallback cb) { record_cb_ = std::move(cb); }
  void set_error_callback(ErrorCallback cb) { error_cb_ = std::move(cb); }
  // Takes up to `max_records` queued records, oldest first.
  std::vector<ConsumerRecord> poll(size_t max_records);
  size_t queued() const { return queue_.size(); }
  const ConsumerStats& stats() const { return stats_; }
  NetworkClient& network() { return net_; }

 private:
  struct PartitionState {
    std::optional<Offset> position;
    std::optional<OffsetReset> reset;  // a ListOffsets lookup is wanted
    bool listing = false;              // ListOffsets in flight
    bool fetching = false;             // part of a Fetch in flight
    uint64_t epoch = 0;                // bumped by seek: stale answers are ignored
    MonoTime backoff_until;
    std::optional<Status> error;
    PartitionProgress progress;
  };
  struct FetchedPartition {
    TopicPartition tp;
    uint64_t epoch;
    Offset offset;
  };

  // consumer.cc
  PartitionState& state(const TopicPartition& tp);
  void wake(MonoTime at);
  void run();
  void list_offsets(NodeId leader, std::vector<TopicPartition> tps);
  void on_list_offsets(std::vector<std::pair<TopicPartition, uint64_t>> asked,
                       Result<proto::ListOffsetsResponse> resp);
  void fail_partition(const TopicPartition& tp, PartitionState& s, Status error);
  void retry_later(PartitionState& s);
  void drop_queued(const TopicPartition& tp);
  void deliver_to_callback();
  void report();

  // consumer_fetch.cc
  void fetch(NodeId leader, std::vector<TopicPartition> tps);
  void on_fetch(NodeId leader, std::vector<FetchedPartition> asked,
                Result<proto::FetchResponse> resp);
  void on_fetch_partition(const FetchedPartition& f,
                          const proto::FetchResponse::PartitionData& data);
  Status take_records(const TopicPartition& tp, PartitionState& s, ByteSpan records);

  Runtime& rt_;
  ConsumerConfig config_;
  NetworkClient net_;
  std::vector<TopicPartition> assignment_;
  std::map<TopicPartition, PartitionState> parts_;
  std::map<NodeId, bool> fetching_from_;
  Fifo<ConsumerRecord> queue_;
  std::vector<RecordView> decoded_;  // take_records' scratch, kept for its capacity
  RecordCallback record_cb_;
  ErrorCallback error_cb_;
  std::vector<std::pair<TopicPartition, Status>> errors_;  // waiting for report()
  bool delivering_ = false;
  TimerId timer_{0};
  MonoTime timer_at_;
  bool timer_set_ = false;
  ConsumerStats stats_;
};

}  // namespace strata::client
