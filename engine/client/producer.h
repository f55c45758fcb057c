// Producer: Kafka's producer as a sans-I/O state machine over Runtime.
//
//   send(record, cb)  -> partitioner -> per-partition batches (batch.size, linger.ms)
//                     -> sender: one Produce request per leader with at most one batch per
//                        partition, at most max.in.flight.requests.per.connection per leader
//                     -> cb(RecordMetadata) or cb(error)
//
// Partitioning follows the Java client: an explicit partition wins; a key goes to
// toPositive(murmur2(key)) % partitions; a null key sticks to one randomly chosen partition
// until its batch fills (KIP-480), so small batches do not spread over every partition.
//
// Retries: a retriable error (NOT_LEADER_OR_FOLLOWER, a lost connection, a timeout, ...) puts
// the batch back at the head of its partition after retry.backoff.ms, refreshing metadata
// when the error says it is stale, until delivery.timeout.ms after the record was accepted.
// Without idempotence this is Kafka's at-least-once behaviour: a request that timed out may
// still have been written, so a retry can duplicate records, and with more than one request
// in flight a retried batch can land after a later one (reordering). Use
// max.in.flight.requests.per.connection = 1 to keep the order.
//
// Idempotence (enable.idempotence, KIP-98): the producer first asks a broker for a producer
// id (InitProducerId) and numbers each partition's records; the broker acknowledges a batch
// it already holds with its first offsets instead of writing it again, and refuses a gap. A
// retried batch goes back into its partition's queue in sequence order, and a batch refused
// as out of order behind an earlier unacknowledged one is retried after it, so up to five
// requests may be in flight without reordering. When the broker has lost the producer's
// last batches (an unsynced crash) or a batch expired unsent, the sequence cannot continue:
// the producer waits for its requests in flight, takes a new producer id and renumbers what
// it still holds, as librdkafka does. Requires acks=all and at most five requests in flight.
//
// Memory: buffer.memory bounds the bytes of accepted, uncompleted records; send() refuses a
// record with kResourceExhausted when it would not fit (Kafka blocks for max.block.ms; a
// state machine cannot block, so the caller retries after some callbacks have run).
//
// Callbacks run from the runtime loop, never inside send(). The Producer owns its
// NetworkClient; destroying it drops uncompleted callbacks unrun.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/base/fifo.h"
#include "engine/client/network_client.h"
#include "engine/protocol/errors.h"
#include "engine/protocol/record_batch.h"

namespace strata::client {

struct ProducerConfig {
  int16_t acks = -1;                        // acks: -1 (all), 1, 0
  int32_t batch_size = 16384;               // batch.size
  int64_t linger_ms = 5;                    // linger.ms
  Codec compression = Codec::kNone;         // compression.type
  int32_t retries = INT32_MAX;              // retries
  int64_t retry_backoff_ms = 100;           // retry.backoff.ms
  int64_t delivery_timeout_ms = 120000;     // delivery.timeout.ms
  int64_t request_timeout_ms = 30000;       // request.timeout.ms
  int32_t max_in_flight = 5;                // max.in.flight.requests.per.connection
  int64_t buffer_memory = 32 * 1024 * 1024; // buffer.memory
  int32_t max_request_size = 1024 * 1024;   // max.request.size
  bool enable_idempotence = false;          // enable.idempotence (librdkafka's default)
};

// Checks ranges and Kafka's rule delivery.timeout.ms >= linger.ms + request.timeout.ms.
Status validate(const ProducerConfig& config);
// "none", "gzip", "snappy", "lz4", "zstd".
Result<Codec> parse_compression(std::string_view name);

struct ProducerRecord {
  std::string topic;
  std::optional<PartitionId> partition;
  std::optional<Bytes> key;
  std::optional<Bytes> value;
  std::vector<RecordHeader> headers;
  std::optional<int64_t> timestamp_ms;  // the runtime's wall clock when unset
};

struct RecordMetadata {
  std::string topic;
  PartitionId partition{0};
  Offset offset{-1};  // -1 with acks=0: the broker does not say
  int64_t timestamp_ms = -1;
};

using SendCallback = std::function<void(const Result<RecordMetadata>&)>;

struct ProducerStats {
  uint64_t records_sent = 0;    // acknowledged (or written, for acks=0)
  uint64_t records_failed = 0;
  uint64_t batches_sent = 0;
  uint64_t retries = 0;
  uint64_t requests = 0;
  uint64_t producer_id_resets = 0;  // idempotence: new producer ids taken after the first
};

class Producer {
 public:
  Producer(Runtime& rt, ClientOptions client, ProducerConfig config);
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Accepts the record, its bytes copied before send() returns (then `cb` runs exactly once,
  // later), or refuses it at once with a Status (then `cb` is never called):
  // kResourceExhausted when buffer.memory is full, kInvalidArgument for an empty topic, a
  // record above max.request.size or a partition outside the topic.
  Status send(const ProducerRecord& record, SendCallback cb);
  // `done` runs once every record accepted before this call has completed.
  void flush(std::function<void()> done);

  // Records accepted and not yet completed.
  size_t pending_records() const { return incomplete_.size(); }
  int64_t buffered_bytes() const { return buffered_bytes_; }
  const ProducerStats& stats() const { return stats_; }
  NetworkClient& network() { return net_; }
  const ProducerConfig& config() const { return config_; }

 private:
  struct Completion {
    SendCallback cb;
    int64_t timestamp_ms;
    uint64_t seq;
    int64_t bytes;
  };
  struct Batch {
    TopicPartition tp;
    RecordBatchBuilder builder;
    std::vector<Completion> records;
    MonoTime created;
    MonoTime retry_at;
    int attempts = 0;
    std::shared_ptr<Bytes> built;  // encoded once, resent as is on retries
    // Idempotence: the producer id generation and first sequence it was stamped with.
    uint64_t generation = 0;
    int32_t base_seq = -1;
    explicit Batch(const BatchBuilderOptions& o) : builder(o) {}
  };
  using BatchPtr = std::shared_ptr<Batch>;
  // Sequence numbers of accepted, uncompleted records. Records are accepted in sequence
  // order and complete in any order, so a window of flags from the oldest uncompleted one
  // is enough (a std::set cost a tree node per record).
  class Incomplete {
   public:
    void add(uint64_t seq);
    void remove(uint64_t seq);  // no effect if `seq` is not incomplete
    size_t size() const { return count_; }
    bool empty() const { return count_ == 0; }
    uint64_t oldest() const;  // UINT64_MAX when empty

   private:
    Fifo<uint8_t> done_;  // done_[i] != 0: record first_ + i has completed
    uint64_t first_ = 0;
    size_t count_ = 0;
  };
  struct Waiting {  // a record whose topic metadata is not known yet
    ProducerRecord record;
    Completion completion;
    MonoTime created;
  };

  // producer.cc: accepting records.
  int64_t record_bytes(const ProducerRecord& r) const;
  std::optional<int32_t> partition_count(const std::string& topic);
  // The queue of the hot topic's partition `p`.
  std::deque<BatchPtr>& hot_queue(PartitionId p);
  // Partitions the record and appends it, taking `c`; on an error `c` is left as it was.
  // The record's topic must be the one partition_count() answered last (the hot one).
  Status place(const ProducerRecord& record, int32_t partitions, Completion& c);
  Result<PartitionId> choose_partition(const ProducerRecord& record, int32_t count);
  PartitionId sticky_partition(const std::string& topic, int32_t count, bool rotate);
  void append(std::deque<BatchPtr>& q, PartitionId p, const ProducerRecord& record,
              Completion&& c);
  bool would_overflow(const TopicPartition& tp, int64_t bytes) const;
  bool would_overflow(const std::deque<BatchPtr>& q, int64_t bytes) const;
  void on_metadata();
  void complete(Completion& c, const Result<RecordMetadata>& result);
  void check_flush_waiters();

  // producer_idempotence.cc: producer ids and sequence numbers.
  struct Idempotence {
    int64_t producer_id = -1;  // -1: none yet, or given up after a sequence break
    int16_t epoch = -1;
    uint64_t generation = 0;   // counts producer ids taken
    bool requesting = false;
    std::map<TopicPartition, int32_t> next_seq;
    // Per partition, first sequences of the stamped, uncompleted batches, in order.
    std::map<TopicPartition, std::deque<int32_t>> unacked;
  };
  bool idempotence_ready();  // has a producer id; asks for one when it may
  void stamp(Batch& b);
  void requeue(BatchPtr batch);
  void forget_sequence(const Batch& b);
  // Handles an idempotence error for `b`; true if it was (the batch is then requeued).
  bool on_sequence_error(const BatchPtr& b, proto::ErrorCode error);
  void reset_producer_id(const std::string& why);

  // producer_sender.cc: draining batches into requests and handling the answers.
  void wake(MonoTime at);
  void run_sender();
  void expire(MonoTime now);
  bool batch_ready(const std::deque<BatchPtr>& q, MonoTime now, MonoTime& next) const;
  void send_to(NodeId leader, std::vector<BatchPtr> batches);
  void on_response(NodeId leader, std::vector<BatchPtr> batches,
                   Result<proto::ProduceResponse> resp);
  void on_batch_error(BatchPtr batch, const Status& error, bool retriable);
  void complete_batch(Batch& b, const proto::ProduceResponse::PartitionResponse* pr);
  void fail_batch(Batch& b, const Status& error);

  Runtime& rt_;
  ProducerConfig config_;
  NetworkClient net_;
  std::map<TopicPartition, std::deque<BatchPtr>> queues_;  // entries are never erased
  struct HotTopic {  // the last topic partition_count() answered for
    std::string name;
    uint64_t metadata_version = 0;
    int32_t partitions = 0;                     // 0: not known to the metadata
    std::vector<std::deque<BatchPtr>*> queues;  // its queues_ entries, by partition
  };
  HotTopic hot_;
  std::map<std::string, std::deque<Waiting>> waiting_;
  std::map<std::string, PartitionId> sticky_;
  std::map<NodeId, int> requests_in_flight_;
  Incomplete incomplete_;
  std::vector<std::pair<uint64_t, std::function<void()>>> flush_waiters_;
  size_t last_batch_records_ = 0;  // records and encoded bytes of the last batch built:
  size_t last_batch_bytes_ = 0;    // the next batch reserves about as much
  uint64_t next_seq_ = 1;
  Idempotence idem_;
  int64_t buffered_bytes_ = 0;
  TimerId sender_timer_{0};
  MonoTime sender_at_;
  bool sender_scheduled_ = false;
  ProducerStats stats_;
};

}  // namespace strata::client
