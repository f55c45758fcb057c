// Producer: accepting records, partitioning and batching. Sending is in producer_sender.cc.
#include "engine/client/producer.h"

#include <algorithm>

#include "engine/base/murmur2.h"
#include "engine/client/client_errors.h"

namespace strata::client {
namespace {

// Per-record framing overhead counted against buffer.memory and max.request.size: the
// record's length, attributes, deltas and header count varints, generously rounded up.
constexpr int64_t kRecordOverheadBytes = 32;

ClientOptions with_timeout(ClientOptions o, const ProducerConfig& c) {
  o.request_timeout_ms = c.request_timeout_ms;
  o.retry_backoff_ms = c.retry_backoff_ms;
  return o;
}

}  // namespace

Status validate(const ProducerConfig& c) {
  if (c.acks != -1 && c.acks != 0 && c.acks != 1) {
    return Status::invalid_argument("acks must be all (-1), 0 or 1");
  }
  if (c.batch_size < 0 || c.linger_ms < 0 || c.retries < 0 || c.retry_backoff_ms < 0) {
    return Status::invalid_argument("batch.size, linger.ms, retries, retry.backoff.ms >= 0");
  }
  if (c.request_timeout_ms <= 0 || c.max_in_flight <= 0 || c.buffer_memory <= 0 ||
      c.max_request_size <= 0) {
    return Status::invalid_argument(
        "request.timeout.ms, max.in.flight.requests.per.connection, buffer.memory and "
        "max.request.size must be positive");
  }
  if (size_t(c.max_in_flight) > limits::kInflightRequestsPerNodeMax) {
    return Status::invalid_argument("max.in.flight.requests.per.connection is at most " +
                                    std::to_string(limits::kInflightRequestsPerNodeMax));
  }
  if (c.enable_idempotence) {
    if (c.acks != -1) {
      return Status::invalid_argument("enable.idempotence needs acks=all (-1)");
    }
    if (c.max_in_flight > 5) {
      return Status::invalid_argument(
          "enable.idempotence needs max.in.flight.requests.per.connection <= 5");
    }
    if (c.retries < 1) return Status::invalid_argument("enable.idempotence needs retries > 0");
  }
  if (c.delivery_timeout_ms < c.linger_ms + c.request_timeout_ms) {
    return Status::invalid_argument(
        "delivery.timeout.ms should be equal to or larger than linger.ms + request.timeout.ms");
  }
  return ok_status();
}

Result<Codec> parse_compression(std::string_view name) {
  for (int id = 0; id < kCodecCount; ++id) {
    Codec c = *codec_from_id(id);
    if (codec_name(c) == name) return c;
  }
  return Status::invalid_argument("unknown compression type '" + std::string(name) +
                                  "' (none, gzip, snappy, lz4, zstd)");
}

Producer::Producer(Runtime& rt, ClientOptions client, ProducerConfig config)
    : rt_(rt), config_(config), net_(rt, with_timeout(std::move(client), config)) {
  STRATA_ASSERT(validate(config_).is_ok(), "validate() the producer config first");
  net_.add_ready_listener([this](NodeId) { wake(rt_.now()); });
  net_.add_metadata_listener([this] { on_metadata(); });
}

Producer::~Producer() { rt_.cancel(sender_timer_); }

int64_t Producer::record_bytes(const ProducerRecord& r) const {
  int64_t n = kRecordOverheadBytes;
  if (r.key) n += int64_t(r.key->size());
  if (r.value) n += int64_t(r.value->size());
  for (const auto& h : r.headers) n += int64_t(h.key.size() + (h.value ? h.value->size() : 0)) + 8;
  return n;
}

Status Producer::send(const ProducerRecord& record, SendCallback cb) {
  STRATA_ASSERT(cb, "send() needs a callback");
  if (record.topic.empty() || record.topic.size() > size_t(::strata::limits::kTopicNameBytesMax)) {
    return Status::invalid_argument("invalid topic name '" + record.topic + "'");
  }
  if (record.partition && record.partition->value() < 0) {
    return Status::invalid_argument("negative partition " +
                                    std::to_string(record.partition->value()));
  }
  int64_t bytes = record_bytes(record);
  if (bytes > config_.max_request_size) {
    return Status::invalid_argument("MESSAGE_TOO_LARGE: the record is " + std::to_string(bytes) +
                                    " bytes, more than max.request.size");
  }
  if (buffered_bytes_ + bytes > config_.buffer_memory ||
      incomplete_.size() >= limits::kProducerRecordsMax) {
    return Status::resource_exhausted("producer buffer full (buffer.memory " +
                                      std::to_string(config_.buffer_memory) + " bytes)");
  }
  Completion c{std::move(cb), record.timestamp_ms.value_or(rt_.wall_clock_ms()), next_seq_,
               bytes};
  MonoTime now = rt_.now();
  if (auto count = partition_count(record.topic)) {
    if (Status s = place(record, *count, c); !s) return s;
  } else {
    Waiting& w = waiting_[record.topic].emplace_back(Waiting{record, std::move(c), now});
    w.record.timestamp_ms = w.completion.timestamp_ms;
    net_.request_metadata_update();
    wake(now + milliseconds(config_.delivery_timeout_ms));
  }
  incomplete_.add(next_seq_++);
  buffered_bytes_ += bytes;
  return ok_status();
}

// Asks the network client to track the topic, and answers from the metadata. The answer for
// the last topic asked about is kept until the metadata changes: a producer mostly sends to
// one topic, and three string-keyed searches per record were a tenth of its cost.
std::optional<int32_t> Producer::partition_count(const std::string& topic) {
  const MetadataCache& md = net_.metadata();
  if (hot_.partitions > 0 && hot_.metadata_version == md.version() && topic == hot_.name) {
    return hot_.partitions;
  }
  net_.add_topic(topic);
  auto count = md.partition_count(topic);
  if (topic != hot_.name) {
    hot_.name = topic;
    hot_.queues.clear();
  }
  hot_.metadata_version = md.version();
  hot_.partitions = count.value_or(0);
  return count;
}

// queues_ never drops an entry, so the hot topic's queues are kept by address.
std::deque<Producer::BatchPtr>& Producer::hot_queue(PartitionId p) {
  auto i = size_t(p.value());
  if (i >= hot_.queues.size()) hot_.queues.resize(i + 1, nullptr);
  if (hot_.queues[i] == nullptr) hot_.queues[i] = &queues_[TopicPartition{hot_.name, p}];
  return *hot_.queues[i];
}

Status Producer::place(const ProducerRecord& record, int32_t partitions, Completion& c) {
  STRATA_ASSIGN_OR_RETURN(PartitionId p, choose_partition(record, partitions));
  append(hot_queue(p), p, record, std::move(c));
  return ok_status();
}

Result<PartitionId> Producer::choose_partition(const ProducerRecord& r, int32_t count) {
  if (r.partition) {
    if (r.partition->value() >= count) {
      return Status::invalid_argument(
          "Invalid partition given with record: " + std::to_string(r.partition->value()) +
          " is not in the range [0..." + std::to_string(count) + ").");
    }
    return *r.partition;
  }
  if (r.key) return PartitionId(partition_for_key(*r.key, count));
  PartitionId p = sticky_partition(r.topic, count, false);
  // KIP-480: move on to another partition when the sticky one's batch is full.
  if (would_overflow(TopicPartition{r.topic, p}, record_bytes(r))) {
    p = sticky_partition(r.topic, count, true);
  }
  return p;
}

PartitionId Producer::sticky_partition(const std::string& topic, int32_t count, bool rotate) {
  auto it = sticky_.find(topic);
  if (it != sticky_.end() && !rotate && it->second.value() < count) return it->second;
  std::vector<int32_t> available;
  if (const TopicMetadata* t = net_.metadata().topic(topic)) {
    for (const auto& p : t->partitions) {
      if (p.leader != kNoNode && p.id.value() < count) available.push_back(p.id.value());
    }
  }
  if (available.empty()) {
    for (int32_t i = 0; i < count; ++i) available.push_back(i);
  }
  std::optional<PartitionId> previous;
  if (it != sticky_.end()) previous = it->second;
  if (previous && available.size() > 1) {
    available.erase(std::remove(available.begin(), available.end(), previous->value()),
                    available.end());
  }
  PartitionId chosen(available[rt_.random_below(available.size())]);
  sticky_[topic] = chosen;
  return chosen;
}

bool Producer::would_overflow(const TopicPartition& tp, int64_t bytes) const {
  auto it = queues_.find(tp);
  return it != queues_.end() && would_overflow(it->second, bytes);
}

bool Producer::would_overflow(const std::deque<BatchPtr>& q, int64_t bytes) const {
  if (q.empty()) return false;
  const Batch& last = *q.back();
  return !last.built && !last.builder.empty() &&
         int64_t(last.builder.estimated_size()) + bytes > config_.batch_size;
}

void Producer::append(std::deque<BatchPtr>& q, PartitionId p, const ProducerRecord& record,
                      Completion&& c) {
  if (q.empty() || q.back()->built || would_overflow(q, c.bytes)) {
    BatchBuilderOptions o;
    o.codec = config_.compression;
    auto b = std::make_shared<Batch>(o);
    // Sized like the last batch built, with a quarter more: steady traffic fills batches
    // alike, and growing a vector record by record reallocated five times per batch.
    b->records.reserve(last_batch_records_ + last_batch_records_ / 4 + 1);
    b->builder.reserve(last_batch_bytes_ + last_batch_bytes_ / 4);
    b->tp = TopicPartition{record.topic, p};
    b->created = rt_.now();
    q.push_back(std::move(b));
  }
  Batch& b = *q.back();
  std::optional<ByteSpan> key, value;
  if (record.key) key = ByteSpan(*record.key);
  if (record.value) value = ByteSpan(*record.value);
  b.builder.add(c.timestamp_ms, key, value, record.headers);
  b.records.push_back(std::move(c));
  bool full = int64_t(b.builder.estimated_size()) >= config_.batch_size || q.size() > 1;
  wake(full ? rt_.now() : b.created + milliseconds(config_.linger_ms));
}

void Producer::on_metadata() {
  std::vector<std::pair<Completion, Status>> failed;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    const TopicMetadata* t = net_.metadata().topic(it->first);
    bool known = net_.metadata().partition_count(it->first).has_value();
    bool fatal = t != nullptr && t->error_code != 0 &&
                 !NetworkClient::is_metadata_error(t->error_code) &&
                 !proto::is_retriable(proto::ErrorCode{t->error_code});
    if (!known && !fatal) {
      net_.request_metadata_update();  // e.g. LEADER_NOT_AVAILABLE right after auto-create
      ++it;
      continue;
    }
    for (auto& w : it->second) {
      std::optional<int32_t> count;
      if (!fatal) count = partition_count(w.record.topic);
      Status s = fatal ? kafka_error(t->error_code, "topic " + it->first)
                       : place(w.record, *count, w.completion);
      if (!s) failed.emplace_back(std::move(w.completion), s);
    }
    it = waiting_.erase(it);
  }
  for (auto& [c, s] : failed) complete(c, s);
  if (!failed.empty()) check_flush_waiters();
  wake(rt_.now());
}

void Producer::complete(Completion& c, const Result<RecordMetadata>& result) {
  if (result) {
    ++stats_.records_sent;
  } else {
    ++stats_.records_failed;
  }
  incomplete_.remove(c.seq);
  buffered_bytes_ -= c.bytes;
  STRATA_ASSERT(buffered_bytes_ >= 0);
  c.cb(result);
}

void Producer::Incomplete::add(uint64_t seq) {
  if (done_.empty()) first_ = seq;
  STRATA_ASSERT(seq == first_ + done_.size(), "records are accepted in sequence order");
  done_.push_back(0);
  ++count_;
}

void Producer::Incomplete::remove(uint64_t seq) {
  if (seq < first_ || seq - first_ >= done_.size() || done_[seq - first_]) return;
  done_[seq - first_] = 1;
  --count_;
  while (!done_.empty() && done_.front()) {
    done_.pop_front();
    ++first_;
  }
  STRATA_ASSERT(done_.empty() == (count_ == 0));
}

uint64_t Producer::Incomplete::oldest() const { return done_.empty() ? UINT64_MAX : first_; }

void Producer::flush(std::function<void()> done) {
  STRATA_ASSERT(done, "flush() needs a callback");
  uint64_t target = next_seq_ - 1;
  if (incomplete_.oldest() > target) {
    rt_.schedule(Duration(0), std::move(done));
    return;
  }
  STRATA_ASSERT(flush_waiters_.size() < limits::kFlushWaitersMax, "too many flush() waiters");
  flush_waiters_.emplace_back(target, std::move(done));
  wake(rt_.now());
}

void Producer::check_flush_waiters() {
  uint64_t oldest = incomplete_.oldest();
  std::vector<std::function<void()>> due;
  for (auto it = flush_waiters_.begin(); it != flush_waiters_.end();) {
    if (it->first < oldest) {
      due.push_back(std::move(it->second));
      it = flush_waiters_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& fn : due) fn();
}

}  // namespace strata::client
